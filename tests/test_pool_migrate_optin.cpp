// libturquoise pool: migration of preempted tasks is a per-task opt-in
// (task_options::migrate_preempted). A task that opted in is continued by an idle worker when
// its own worker is busy; a task that did not never changes thread, even in the same pool.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <turquoise/pool.hpp>

#include <inger/inger.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using turquoise::pool;
using turquoise::pool_options;
using turquoise::task_options;

namespace {

// A fixed amount of CPU work: pure arithmetic, no thread-local state (what an opted-in task
// promises).
std::uint64_t burn(std::uint64_t rounds) {
	std::uint64_t x = 1;
	for (std::uint64_t i = 0; i < rounds; ++i) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		asm volatile("" : "+r"(x));
	}
	return x;
}

std::uint64_t rounds_for(std::chrono::milliseconds d) {
	constexpr std::uint64_t probe = 1u << 22;
	std::uint64_t best = UINT64_MAX;
	for (int i = 0; i < 3; ++i) {
		std::uint64_t t0 = th::now_ns();
		burn(probe);
		best = std::min(best, th::now_ns() - t0);
	}
	return probe * static_cast<std::uint64_t>(d.count()) * 1000000u / std::max<std::uint64_t>(best, 1);
}

// The kernel's id of the calling thread, asked afresh each time (a system call: nothing cached).
long thread_id() { return syscall(SYS_gettid); }

struct task_trace {
	bool opted_in = false;
	std::set<long> threads; // every thread the task was seen running on
};

// Two workers, pool-wide migration off. One worker is held for 40 ms in a critical section
// (it cannot be preempted either), so the other starts every long task; once released, the
// held worker is idle while the other is busy with the demoted tasks. Each task samples the
// thread it runs on between slices of work. Half of the tasks are submit()ted, half posted.
std::vector<task_trace> long_tasks(const std::vector<bool> &opt_in, std::uint64_t rounds) {
	pool p(pool_options{.workers = 2, .quantum = 1000us});
	std::atomic<bool> holding{false};
	p.post([&] {
		inger::critical_section hold;
		holding = true;
		auto until = std::chrono::steady_clock::now() + 40ms;
		while (std::chrono::steady_clock::now() < until) {
		}
	});
	while (!holding.load())
		std::this_thread::yield();
	std::vector<task_trace> traces(opt_in.size());
	std::atomic<std::size_t> done{0};
	constexpr std::uint64_t slices = 400;
	for (std::size_t i = 0; i < opt_in.size(); ++i) {
		traces[i].opted_in = opt_in[i];
		auto body = [&, i] {
			std::vector<long> seen; // grown inside a critical section only (malloc is not ours)
			{
				inger::critical_section c;
				seen.reserve(slices + 1);
			}
			seen.push_back(thread_id());
			for (std::uint64_t s = 0; s < slices; ++s) {
				burn(rounds / slices);
				seen.push_back(thread_id());
			}
			inger::critical_section c;
			traces[i].threads.insert(seen.begin(), seen.end());
			done++;
		};
		task_options o{.migrate_preempted = opt_in[i]};
		if (i % 2)
			p.submit(body, o);
		else
			p.post(body, o);
	}
	while (done.load() < opt_in.size())
		std::this_thread::sleep_for(1ms);
	return traces;
}

} // namespace

TEST_CASE("a demoted task that opted in is resumed by an idle worker while its own is busy") {
	std::uint64_t rounds = rounds_for(th::sanitized ? 100ms : 200ms);
	int moved = 0;
	for (int attempt = 0; attempt < 3 && moved == 0; ++attempt) // the machine is shared
		for (const task_trace &t : long_tasks({true, true, true, true}, rounds))
			if (t.threads.size() > 1)
				moved++;
	CHECK(moved > 0);
}

TEST_CASE("a task that did not opt in never changes thread, beside tasks that did") {
	std::uint64_t rounds = rounds_for(th::sanitized ? 100ms : 200ms);
	int opted_moved = 0, other_moved = 0, other_tasks = 0;
	for (int attempt = 0; attempt < 3; ++attempt)
		for (const task_trace &t : long_tasks({false, true, false, true, false, false}, rounds)) {
			if (t.opted_in) {
				opted_moved += t.threads.size() > 1;
			} else {
				other_tasks++;
				other_moved += t.threads.size() > 1;
			}
		}
	INFO("opted-in tasks that moved: " << opted_moved);
	CHECK(other_tasks == 12);
	CHECK(other_moved == 0);
}
