// inger-ping — sends `ping` messages to a process on the libprocess wire (inger-pong, or any
// libprocess peer answering `ping` with `pong`), one at a time, and prints the round trip's
// median and 99th percentile.
//
//   inger-ping ID@IP:PORT [--count N] [--size B] [--timeout-ms T]
//
// A process of its own ("ping", on a runtime listening on 127.0.0.1, any free port; the
// runtime's LIBPROCESS_* variables apply) links to the peer, sends `ping` with a B-byte body,
// waits for the `pong` carrying the same body, and sends the next. Exit status:
//   0  every pong arrived (the figures are on stdout)
//   1  the peer's address cannot be reached (refused, unreachable, no answer to connect)
//   2  bad arguments (with the usage)
//   3  a pong did not arrive within T ms of its ping
//   4  the peer went away (its connection closed or reset, or the process terminated)
//   5  a pong's body differs from its ping's
// Every failure prints one line on stderr saying which, and how many pongs had arrived.
#include "arguments.hpp"
#include "ping_process.hpp"

#include <turquoise/process/process.hpp>
#include <turquoise/runtime.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace turquoise;

void usage(std::FILE *to) {
	std::fputs("usage: inger-ping ID@IP:PORT [--count N] [--size B] [--timeout-ms T]\n"
	           "  ID@IP:PORT       the process to ping (e.g. the READY line of inger-pong)\n"
	           "  --count N        pings to send, one at a time (default 10; 1..1000000000)\n"
	           "  --size B         bytes in each ping's body (default 64; 0..67108864)\n"
	           "  --timeout-ms T   how long to wait for each pong (default 5000; 1..86400000)\n"
	           "Exit status: 0 all pongs arrived, 1 peer unreachable, 2 bad arguments,\n"
	           "3 a pong timed out, 4 the peer went away, 5 a pong's body differs.\n",
	           to);
}

int bad_arguments(const std::string &why) {
	std::fprintf(stderr, "inger-ping: %s\n", why.c_str());
	usage(stderr);
	return 2;
}

// Can a TCP connection to the peer's address be made (within `timeout`)? The remote layer
// reports a refused connection only as the peer's exit; trying first gives the reason.
bool reachable(const Address &peer, std::chrono::milliseconds timeout, std::string &why) {
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_port = htons(peer.port);
	if (inet_pton(AF_INET, peer.host.c_str(), &address.sin_addr) != 1) {
		why = "'" + peer.host + "' is not an IPv4 address";
		return false;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		why = std::string("socket: ") + std::strerror(errno);
		return false;
	}
	int error = 0;
	if (connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
		error = errno;
		if (error == EINPROGRESS) {
			pollfd p{fd, POLLOUT, 0};
			int n;
			do
				n = poll(&p, 1, static_cast<int>(timeout.count()));
			while (n < 0 && errno == EINTR);
			socklen_t length = sizeof error;
			if (n == 0)
				error = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
				error = errno;
		}
	}
	close(fd);
	if (error != 0)
		why = std::strerror(error);
	return error == 0;
}

double micros(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1000.0; }

} // namespace

int main(int argc, char **argv) {
	runtime_options options;
	try {
		options = runtime_options::from_environment();
	} catch (const std::exception &e) {
		std::fprintf(stderr, "inger-ping: %s\n", e.what());
		return 2;
	}
	remote_tools::PingOptions ping;
	std::string target;
	for (int i = 1; i < argc; ++i) {
		std::string_view arg = argv[i];
		if (arg == "--help" || arg == "-h") {
			usage(stdout);
			return 0;
		}
		if (arg.substr(0, 2) != "--") {
			if (!target.empty())
				return bad_arguments("more than one peer given ('" + target + "', '" + std::string(arg) + "')");
			target = arg;
			continue;
		}
		if (arg != "--count" && arg != "--size" && arg != "--timeout-ms")
			return bad_arguments("unknown argument '" + std::string(arg) + "'");
		if (i + 1 >= argc)
			return bad_arguments(std::string(arg) + " needs a value");
		std::string why;
		std::string_view value = argv[++i];
		std::optional<std::uint64_t> n;
		if (arg == "--count" && (n = remote_tools::number(arg, value, 1, 1'000'000'000, why)))
			ping.count = *n;
		else if (arg == "--size" && (n = remote_tools::number(arg, value, 0, 64u << 20, why)))
			ping.size = *n;
		else if (arg == "--timeout-ms" && (n = remote_tools::number(arg, value, 1, 86'400'000, why)))
			ping.timeout = std::chrono::milliseconds(*n);
		if (!n)
			return bad_arguments(why);
	}
	if (target.empty())
		return bad_arguments("no peer given (ID@IP:PORT)");
	Try<UPID> peer = UPID::parse_strict(target);
	if (peer.isError())
		return bad_arguments(peer.error());
	if (!remote_tools::ipv4(peer.get().address.host))
		return bad_arguments("'" + target + "': the peer's address must be a dotted IPv4 address");
	if (peer.get().address.port == 0)
		return bad_arguments("'" + target + "': port 0 names no peer");
	ping.peer = peer.get();

	std::string why;
	if (!reachable(ping.peer.address, ping.timeout, why)) {
		std::fprintf(stderr, "inger-ping: cannot connect to %s (%s): %s\n",
		             ping.peer.address.str().c_str(), ping.peer.str().c_str(), why.c_str());
		return 1;
	}

	runtime rt(options);
	runtime_scope scope(rt);
	Try<Address> address = rt.listen();
	if (address.isError()) {
		std::fprintf(stderr, "inger-ping: cannot listen: %s\n", address.error().c_str());
		return 1;
	}
	remote_tools::PingProcess process(ping);
	Future<remote_tools::PingResult> future = process.result();
	spawn(process);
	const remote_tools::PingResult &result = future.get();
	terminate(process);
	wait(process);

	if (result.outcome != remote_tools::PingOutcome::ok) {
		std::fprintf(stderr, "inger-ping: %s (%zu of %llu pongs arrived)\n", result.why.c_str(),
		             result.round_trips.size(), static_cast<unsigned long long>(ping.count));
		return static_cast<int>(result.outcome);
	}
	std::vector<std::chrono::nanoseconds> rtt = result.round_trips;
	std::sort(rtt.begin(), rtt.end());
	const std::size_t n = rtt.size();
	const auto p99 = rtt[std::min(n - 1, (n * 99 + 99) / 100 - 1)]; // nearest rank
	std::printf("%zu pongs from %s, %llu-byte bodies: round trip median %.1f us, p99 %.1f us "
	            "(min %.1f us, max %.1f us)\n",
	            n, ping.peer.str().c_str(), static_cast<unsigned long long>(ping.size),
	            micros(rtt[(n - 1) / 2]), micros(p99), micros(rtt.front()), micros(rtt.back()));
	return 0;
}
