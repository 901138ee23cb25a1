// inger-pong — a process that answers every `ping` message with a `pong` carrying the same
// body, sent to the ping's sender: the far end of inger-ping, and a libprocess peer for any
// other libprocess program (it speaks the libprocess wire, turquoise/process/network.hpp).
//
//   inger-pong [--ip A] [--port P] [--id ID]
//
// Prints `READY <id>@<ip>:<port>` on stdout (flushed) once it listens, then serves until
// SIGINT or SIGTERM, when it prints how many pings it answered on stderr and exits 0. The
// runtime's environment variables apply (LIBPROCESS_IP, LIBPROCESS_PORT, LIBPROCESS_ADVERTISE_IP,
// LIBPROCESS_ADVERTISE_PORT, LIBPROCESS_NUM_WORKER_THREADS; turquoise/runtime.hpp); the flags
// win over them. Exit status: 0 after a stop signal, 1 if it cannot listen, 2 for bad arguments.
#include "arguments.hpp"

#include <turquoise/process/process.hpp>
#include <turquoise/runtime.hpp>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <pthread.h>
#include <string>
#include <string_view>
#include <utility>

namespace {

using namespace turquoise;

class Pong : public Process<Pong> {
public:
	explicit Pong(const std::string &id) : ProcessBase(id) {}
	std::uint64_t answered() const { return answered_.load(std::memory_order_relaxed); }
	std::uint64_t anonymous() const { return anonymous_.load(std::memory_order_relaxed); }

protected:
	void initialize() override { install("ping", &Pong::ping); }

private:
	void ping(const UPID &from, std::string &&body) {
		if (!from) { // a ping without a sender (no Libprocess-From) cannot be answered
			anonymous_.fetch_add(1, std::memory_order_relaxed);
			return;
		}
		send(from, "pong", std::move(body));
		answered_.fetch_add(1, std::memory_order_relaxed);
	}
	// Read by main() after the stop signal (while the process may still run).
	std::atomic<std::uint64_t> answered_{0};
	std::atomic<std::uint64_t> anonymous_{0};
};

void usage(std::FILE *to) {
	std::fputs("usage: inger-pong [--ip A] [--port P] [--id ID]\n"
	           "  --ip A     IPv4 address to listen on (default 127.0.0.1, or LIBPROCESS_IP)\n"
	           "  --port P   TCP port, 0..65535 (default 0: any free port, or LIBPROCESS_PORT)\n"
	           "  --id ID    the process's id (default pong)\n"
	           "Prints READY <id>@<ip>:<port> once listening; answers each `ping` message with a\n"
	           "`pong` carrying the same body; SIGINT or SIGTERM stops it.\n",
	           to);
}

int bad_arguments(const std::string &why) {
	std::fprintf(stderr, "inger-pong: %s\n", why.c_str());
	usage(stderr);
	return 2;
}

} // namespace

int main(int argc, char **argv) {
	runtime_options options;
	try {
		options = runtime_options::from_environment();
	} catch (const std::exception &e) {
		std::fprintf(stderr, "inger-pong: %s\n", e.what());
		return 2;
	}
	std::string id = "pong";
	for (int i = 1; i < argc; ++i) {
		std::string_view flag = argv[i];
		if (flag == "--help" || flag == "-h") {
			usage(stdout);
			return 0;
		}
		if (flag != "--ip" && flag != "--port" && flag != "--id")
			return bad_arguments("unknown argument '" + std::string(flag) + "'");
		if (i + 1 >= argc)
			return bad_arguments(std::string(flag) + " needs a value");
		std::string_view value = argv[++i];
		std::string why;
		if (flag == "--ip") {
			if (!remote_tools::ipv4(value))
				return bad_arguments("--ip: '" + std::string(value) + "' is not an IPv4 address");
			options.network.ip = value;
		} else if (flag == "--port") {
			auto port = remote_tools::number(flag, value, 0, 65535, why);
			if (!port)
				return bad_arguments(why);
			options.network.port = static_cast<std::uint16_t>(*port);
		} else {
			if (!remote_tools::process_id(value))
				return bad_arguments("--id: '" + std::string(value) +
				                     "' is not a process id (1..255 printable characters, "
				                     "none of @ / % : or space)");
			id = value;
		}
	}

	// The stop signals are taken by sigwait below: block them before the runtime starts its
	// threads, which inherit the mask.
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, nullptr);

	runtime rt(options);
	runtime_scope scope(rt);
	Try<Address> address = rt.listen();
	if (address.isError()) {
		std::fprintf(stderr, "inger-pong: cannot listen: %s\n", address.error().c_str());
		return 1;
	}
	Pong pong(id);
	UPID pid = spawn(pong);
	std::printf("READY %s\n", pid.str().c_str());
	std::fflush(stdout);

	int signal = 0;
	sigwait(&stop, &signal);
	std::fprintf(stderr, "inger-pong: %s: answered %llu pings (%llu without a sender, unanswered)\n",
	             strsignal(signal), static_cast<unsigned long long>(pong.answered()),
	             static_cast<unsigned long long>(pong.anonymous()));
	terminate(pid);
	wait(pid);
	return 0;
}
