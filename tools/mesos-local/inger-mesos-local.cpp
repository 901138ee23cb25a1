// inger-mesos-local.cpp — a local Mesos cluster in one process: one master and N agents,
// serving the v1 scheduler API (see turquoise/mesos/cluster.hpp).
//
//   inger-mesos-local [--ip A] [--port P] [--agents N] [--cpus C] [--mem MB] [--work-dir D]
//                     [--heartbeat-interval S] [--offer-timeout S] [--update-retry-interval S]
//                     [--executor-registration-timeout S]
//
// Prints "READY <ip>:<port>" on stdout once listening; runs until SIGINT or SIGTERM, then
// kills the tasks, ends the schedulers' streams and exits 0. Bad flags: a message and exit 2;
// a cluster that cannot start (address in use...): a message and exit 1.
#include <turquoise/mesos/cluster.hpp>
#include <turquoise/runtime.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <pthread.h>
#include <stdexcept>
#include <string>

using namespace turquoise;

namespace {

const char usage[] =
    "usage: inger-mesos-local [--ip A] [--port P] [--agents N] [--cpus C] [--mem MB] [--work-dir D]\n"
    "                         [--heartbeat-interval S] [--offer-timeout S] [--update-retry-interval S]\n"
    "                         [--executor-registration-timeout S]\n"
    "  --ip A       address to listen on (default 127.0.0.1)\n"
    "  --port P     port of the master (default 5050; 0: any free port)\n"
    "  --agents N   number of agents (default 1)\n"
    "  --cpus C     cpus per agent (default: this machine's, divided among the agents)\n"
    "  --mem MB     memory per agent (default: this machine's less 1 GiB, divided)\n"
    "  --work-dir D where the task sandboxes go (default: a new directory under $TMPDIR)\n"
    "  intervals in seconds: heartbeats (5), offer timeout (30), update retries (10),\n"
    "  executor registration timeout (60)\n";

[[noreturn]] void bad(const std::string &why) {
	std::fprintf(stderr, "inger-mesos-local: %s\n%s", why.c_str(), usage);
	std::exit(2);
}

double number(const std::string &flag, const std::string &text, double min, double max) {
	errno = 0;
	char *end = nullptr;
	double v = std::strtod(text.c_str(), &end);
	if (text.empty() || *end != '\0' || errno != 0 || !(v >= min && v <= max))
		bad("invalid value '" + text + "' for " + flag);
	return v;
}

std::chrono::milliseconds seconds(const std::string &flag, const std::string &text) {
	return std::chrono::milliseconds(static_cast<long long>(number(flag, text, 0.001, 86400) * 1000));
}

} // namespace

int main(int argc, char **argv) {
	mesos::cluster_options options;
	for (int i = 1; i < argc; ++i) {
		std::string arg = argv[i];
		if (arg == "--help" || arg == "-h") {
			std::fputs(usage, stdout);
			return 0;
		}
		std::string flag = arg, value;
		if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
			flag = arg.substr(0, eq);
			value = arg.substr(eq + 1);
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			bad(arg.rfind("--", 0) == 0 ? "missing value for " + arg : "unexpected argument '" + arg + "'");
		}
		if (flag == "--ip")
			options.ip = value;
		else if (flag == "--port")
			options.port = static_cast<std::uint16_t>(number(flag, value, 0, 65535));
		else if (flag == "--agents")
			options.agents = static_cast<std::size_t>(number(flag, value, 1, 1000));
		else if (flag == "--cpus")
			options.cpus = number(flag, value, 0.001, 1e6);
		else if (flag == "--mem")
			options.mem = number(flag, value, 1, 1e9);
		else if (flag == "--work-dir")
			options.work_dir = value;
		else if (flag == "--heartbeat-interval")
			options.heartbeat_interval = seconds(flag, value);
		else if (flag == "--offer-timeout")
			options.offer_timeout = seconds(flag, value);
		else if (flag == "--update-retry-interval")
			options.update_retry_interval = seconds(flag, value);
		else if (flag == "--executor-registration-timeout")
			options.executor_registration_timeout = seconds(flag, value);
		else
			bad("unknown flag '" + flag + "'");
	}

	// SIGINT and SIGTERM are taken by sigwait() below; blocked before any thread starts, so
	// that no worker gets them. (Tasks start with an empty mask.)
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

	runtime_options ro;
	try {
		ro = runtime_options::from_environment();
	} catch (const std::invalid_argument &e) {
		std::fprintf(stderr, "inger-mesos-local: %s\n", e.what());
		return 2;
	}
	runtime rt(ro);
	runtime_scope scope(rt);
	auto cluster = mesos::LocalCluster::start(options);
	if (cluster.isError()) {
		std::fprintf(stderr, "inger-mesos-local: %s\n", cluster.error().c_str());
		return 1;
	}
	std::printf("READY %s\n", cluster.get()->address().c_str());
	std::fprintf(stderr, "inger-mesos-local: %zu agent(s), sandboxes under %s\n", options.agents,
	             cluster.get()->work_dir().c_str());
	std::fflush(stdout);

	int sig = 0;
	while (sigwait(&stop_signals, &sig) != 0) {
	}
	cluster.get()->stop();
	return 0;
}
