// remote_tools_wire.hpp — a hand-written libprocess peer for test_remote_tools: reads one
// HTTP/1.x request or response from a socket (Content-Length or chunked body, bounded by a
// deadline) and writes messages the way other libprocess implementations do.
#ifndef INGER_TESTS_REMOTE_TOOLS_WIRE_HPP
#define INGER_TESTS_REMOTE_TOOLS_WIRE_HPP

#include "helpers.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace rt_wire {

struct http_message {
	std::string start_line;                    // "POST /id/name HTTP/1.1" or "HTTP/1.1 202 ..."
	std::map<std::string, std::string> header; // names in lower case
	std::string body;
};

// A socket with what was read from it and not yet consumed.
struct connection {
	explicit connection(int fd_) : fd(fd_) {}
	int fd = -1;
	std::string buffer;
	bool closed = false;

	// Reads more (waiting until `deadline_ns`); false at EOF, error or deadline.
	bool fill(std::uint64_t deadline_ns) {
		const std::uint64_t now = th::now_ns();
		if (closed || now >= deadline_ns)
			return false;
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, static_cast<int>((deadline_ns - now) / 1000000 + 1)) <= 0)
			return false;
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n <= 0) {
			closed = true;
			return false;
		}
		buffer.append(chunk, static_cast<std::size_t>(n));
		return true;
	}
	// Takes `n` bytes once buffered; false if they do not arrive in time.
	bool take(std::size_t n, std::uint64_t deadline_ns, std::string &into) {
		while (buffer.size() < n)
			if (!fill(deadline_ns))
				return false;
		into.append(buffer, 0, n);
		buffer.erase(0, n);
		return true;
	}
	bool take_line(std::uint64_t deadline_ns, std::string &line) {
		std::size_t end;
		while ((end = buffer.find("\r\n")) == std::string::npos)
			if (!fill(deadline_ns))
				return false;
		line = buffer.substr(0, end);
		buffer.erase(0, end + 2);
		return true;
	}

	// One message: start line, header, body (Content-Length, chunked, or none).
	bool read_message(std::uint64_t deadline_ns, http_message &m) {
		m = {};
		if (!take_line(deadline_ns, m.start_line))
			return false;
		for (std::string line; take_line(deadline_ns, line) && !line.empty();) {
			auto colon = line.find(':');
			if (colon == std::string::npos)
				return false;
			std::string name = line.substr(0, colon);
			for (char &c : name)
				c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
			m.header[name] = line.substr(line.find_first_not_of(' ', colon + 1));
		}
		if (m.header.count("transfer-encoding")) {
			for (std::string size_line;;) {
				if (!take_line(deadline_ns, size_line))
					return false;
				std::size_t size = std::strtoul(size_line.c_str(), nullptr, 16);
				std::string crlf;
				if (size == 0)
					return take_line(deadline_ns, crlf);
				if (!take(size, deadline_ns, m.body) || !take(2, deadline_ns, crlf))
					return false;
			}
		}
		if (m.header.count("content-length"))
			return take(std::strtoul(m.header["content-length"].c_str(), nullptr, 10), deadline_ns, m.body);
		return true;
	}

	bool write_all(const std::string &bytes) const {
		for (std::size_t done = 0; done < bytes.size();) {
			ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
			if (n <= 0)
				return false;
			done += static_cast<std::size_t>(n);
		}
		return true;
	}
};

inline int connect_loopback(std::uint16_t port) {
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_port = htons(port);
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
		close(fd);
		return -1;
	}
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

// "id@127.0.0.1:port" -> port (0 if it is not on 127.0.0.1).
inline std::uint16_t loopback_port(const std::string &upid) {
	auto at = upid.find("@127.0.0.1:");
	return at == std::string::npos ? 0 : static_cast<std::uint16_t>(std::atoi(upid.c_str() + at + 11));
}

} // namespace rt_wire

#endif
