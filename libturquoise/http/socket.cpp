// socket.cpp — non-blocking TCP sockets for the HTTP server and client (see socket.hpp).
#include "socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cctype>
#include <cstring>
#include <ctime>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace turquoise::http::detail {

int listen_tcp(const std::string &ip, std::uint16_t port, int backlog, std::uint16_t &bound, std::string &error) {
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
		error = "not an IPv4 address: '" + ip + "'";
		return -1;
	}
	int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		error = "socket: " + describe(errno);
		return -1;
	}
	int one = 1;
	::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	socklen_t len = sizeof addr;
	if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0 ||
	    ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
		int e = errno;
		::close(fd);
		error = ip + ":" + std::to_string(port) + ": " + describe(e);
		return -1;
	}
	bound = ntohs(addr.sin_port);
	return fd;
}

int connect_tcp(const std::string &host, std::uint16_t port, std::string &error, int &err) {
	err = 0;
	sockaddr_in addr{};
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
		addrinfo hints{};
		hints.ai_family = AF_INET;
		hints.ai_socktype = SOCK_STREAM;
		addrinfo *res = nullptr;
		int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
		if (rc != 0 || !res) {
			error = "cannot resolve '" + host + "': " + (rc ? gai_strerror(rc) : "no address");
			return -1;
		}
		addr.sin_addr = reinterpret_cast<sockaddr_in *>(res->ai_addr)->sin_addr;
		::freeaddrinfo(res);
	}
	int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		error = "socket: " + describe(errno);
		return -1;
	}
	int one = 1;
	::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	int rc;
	do
		rc = ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
	while (rc != 0 && errno == EINTR);
	if (rc != 0 && errno != EINPROGRESS) {
		err = errno;
		::close(fd);
		error = host + ":" + std::to_string(port) + ": " + describe(err);
		return -1;
	}
	return fd;
}

int socket_error(int fd) {
	int err = 0;
	socklen_t len = sizeof err;
	if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return errno;
	return err;
}

std::uint64_t now_ns() {
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

std::string describe(int err) {
	char buf[128];
	std::string s = strerror_r(err, buf, sizeof buf); // GNU: returns the message
	if (!s.empty())
		s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
	return s;
}

} // namespace turquoise::http::detail
