// inger-workers — tasks spread over workers through a proxy (after ScalaLoci's master/worker
// example). Ties: a Proxy ties any number of Masters and Workers; a Worker ties one Proxy (and
// maybe a Master); a Master ties one Proxy. Each Master's `tasks` event reaches the Proxy,
// which assigns each task to one connected Worker (round robin); each Worker's results flow
// back as an event through the Proxy to the Masters.
//
//   inger-workers proxy [--port P]                    prints "READY <ip>:<port>", serves until killed
//   inger-workers worker --proxy <ip:port>            computes tasks until killed
//   inger-workers master --proxy <ip:port> --tasks N  sends N tasks (squares of 1..N), prints each
//                                                     result as "<n>^2 = <r> by <worker>", exits 0
//                                                     once all came back (1 after 20 s)
#include <turquoise/placement.hpp>
#include <turquoise/placement/remote.hpp>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

using namespace turquoise;
using namespace turquoise::placement;

struct Master;
struct Proxy;
struct Worker;
struct Master : peer<tie<Proxy, single>> {};
struct Proxy : peer<tie<Master, multiple>, tie<Worker, multiple>> {};
struct Worker : peer<tie<Proxy, single>, tie<Master, optional>> {};

using task = std::pair<std::string, long>;                          // (master, n)
using assignment = std::pair<std::string, task>;                     // (worker address, task)
using result = std::tuple<std::string, long, long, std::string>;    // (master, n, n^2, worker)

struct Workers {
	placed<Master, Event<task>> tasks;
	// Each task to one Worker, round robin over the Workers connected when it arrives.
	placed<Proxy, Event<assignment>> assignments = on<Proxy>([this](here<Proxy> h) {
		auto next = std::make_shared<std::atomic<std::size_t>>(0);
		return h.as_local_from_all_seq(tasks)
		    .filter([h](const task &) { return !h.remotes<Worker>().empty(); })
		    .map([h, next](const task &t) {
			    auto workers = h.remotes<Worker>();
			    return assignment{workers[(*next)++ % workers.size()].address, t};
		    });
	});
	placed<Worker, Event<result>> results;
	placed<Proxy, Event<result>> allResults = on<Proxy>([this](here<Proxy> h) { return h.as_local_from_all_seq(results); });
};

static int usage() {
	std::cerr << "usage: inger-workers proxy [--port P] | worker --proxy <ip:port> | master --proxy <ip:port> --tasks N\n";
	return 2;
}

static void wait_for_termination() {
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	int sig;
	sigwait(&stop, &sig);
}

int main(int argc, char **argv) {
	if (argc < 2)
		return usage();
	std::string mode = argv[1], proxy;
	unsigned long port = 0, count = 0;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!std::strcmp(argv[i], "--proxy"))
			proxy = argv[i + 1];
		else if (!std::strcmp(argv[i], "--port"))
			port = std::strtoul(argv[i + 1], nullptr, 10);
		else if (!std::strcmp(argv[i], "--tasks"))
			count = std::strtoul(argv[i + 1], nullptr, 10);
		else
			return usage();
	}
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, nullptr); // before the runtime's threads exist
	try {
		if (mode == "proxy" && port <= 65535) {
			auto p = run<Proxy, Workers>(listen(static_cast<std::uint16_t>(port)));
			std::string a = p->address();
			std::cout << "READY " << a.substr(a.find('@') + 1) << std::endl;
			wait_for_termination();
			return 0;
		}
		if (mode == "worker" && !proxy.empty()) {
			auto w = run<Worker, Workers>(connect_to<Proxy>(proxy));
			auto h = w->context();
			std::string me = w->address();
			auto results = h.local(w->module().results);
			h.as_local(w->module().assignments).observe([me, results](const assignment &a) {
				if (a.first == me)
					results.fire(result{a.second.first, a.second.second, a.second.second * a.second.second, me});
			});
			std::cerr << "inger-workers: worker " << me << " ready" << std::endl;
			wait_for_termination();
			return 0;
		}
		if (mode == "master" && !proxy.empty() && count > 0) {
			auto m = run<Master, Workers>(connect_to<Proxy>(proxy));
			auto h = m->context();
			std::string me = m->address();
			std::mutex mu;
			std::condition_variable all_back;
			std::set<long> back;
			h.as_local(m->module().allResults).observe([&](const result &r) {
				if (std::get<0>(r) != me)
					return;
				std::lock_guard<std::mutex> g(mu);
				std::cout << std::get<1>(r) << "^2 = " << std::get<2>(r) << " by " << std::get<3>(r) << std::endl;
				back.insert(std::get<1>(r));
				all_back.notify_all();
			});
			// Our subscription is taken before our first task (served in order).
			for (unsigned long n = 1; n <= count; ++n)
				h.local(m->module().tasks).fire({me, static_cast<long>(n)});
			std::unique_lock<std::mutex> l(mu);
			if (!all_back.wait_for(l, std::chrono::seconds(20), [&] { return back.size() == count; })) {
				std::cerr << "inger-workers: " << back.size() << " of " << count << " results came back\n";
				return 1;
			}
			return 0;
		}
	} catch (const std::exception &e) {
		std::cerr << "inger-workers: " << e.what() << '\n';
		return 1;
	}
	return usage();
}
