// pool_park.cpp — the worker loop: looking for work, spinning, parking and waking.
#include "worker.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <utility>

namespace turquoise {
namespace {

// How long a worker that ran out of work watches `queued` before it parks. Messages between
// processes typically come microseconds apart: catching them without a futex wait and
// wake-up pays for the spin. Only one worker spins at a time, so idle workers never take
// more than one core, and only for this long after the last task.
constexpr std::chrono::microseconds spin_time{15};

} // namespace

// Pairs with the check in work(): the enqueuer bumps `queued` before it reads `spinning` and
// `parked`; a worker that stops spinning, or parks, changes those before it re-reads `queued`
// (all sequentially consistent), so one of them sees the other and no wake-up is lost.
void pool::impl::wake_one() {
	queued.fetch_add(1);
	if (spinning.load() > 0)
		return; // a worker is watching `queued`: waking another would only cost a futex call
	if (parked.load() > 0 && !waking.exchange(true))
		wake_parked(1);
}

// A worker took a queued task and left more behind: wake a parked worker for them. A burst
// of posts wakes one worker (see `waking`); without this, it would take the burst's tasks
// one after another while the others slept on (seen as the actors' fan-in running its four
// senders in turn on one worker, and the receiver behind them, in about half of the runs).
void pool::impl::wake_helper() {
	if (parked.load(std::memory_order_relaxed) > 0 && spinning.load(std::memory_order_relaxed) == 0)
		wake_one();
}

void pool::impl::wake_parked(int how_many) {
	park_seq.fetch_add(1); // a worker about to sleep on the old value returns at once
	syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&park_seq), FUTEX_WAKE_PRIVATE, how_many,
	        nullptr, nullptr, 0);
}

// Spin until a task is queued (queued_meanwhile: true, nullptr returned), a slot task or a
// lone queued task of another worker has waited too long or a busy worker has a demoted task
// (returned), or spin_time has passed.
detail::task *pool::impl::spin_for_work(detail::worker &w, std::uint64_t seen, bool &queued_meanwhile) {
	queued_meanwhile = false;
	unsigned expected = 0;
	if (!spinning.compare_exchange_strong(expected, 1))
		return nullptr;
	detail::task *stolen = nullptr;
	auto until = std::chrono::steady_clock::now() + spin_time;
	for (unsigned i = 1; !stopping.load(std::memory_order_relaxed); ++i) {
		if (queued.load(std::memory_order_relaxed) != seen)
			break;
		// (a clock read costs ~20 pauses: not every round)
		if (i % 32 == 0) {
			auto now = std::chrono::steady_clock::now();
			if ((stolen = steal_stale(w, now)) || (stolen = steal(w)) || (stolen = steal_demoted(w)) ||
			    now >= until)
				break;
			// Let a thread waiting for this CPU run (the program's own thread that will
			// post the next task, or another worker): with more runnable threads than
			// cores, a spinner that never yields delays exactly the work it waits for.
			// With nothing else runnable this returns at once.
			sched_yield();
		}
		__builtin_ia32_pause();
	}
	spinning.fetch_sub(1);
	queued_meanwhile = queued.load() != seen;
	return stolen;
}

void pool::impl::work(detail::worker &w) {
	detail::current_pool = owner;
	detail::current_worker = &w;
	for (;;) {
		if (cancelling.load())
			break;
		std::uint64_t seen = queued.load();
		if (detail::task *t = w.handoff ? std::exchange(w.handoff, nullptr) : pick(w)) {
			if (!run(w, t))
				continue;
			// The runner's last pick found nothing: it stands for ours (it read `queued`
			// first too), and we go on to spin.
			seen = w.dry_seen;
		}
		bool queued_meanwhile;
		if (detail::task *t = spin_for_work(w, seen, queued_meanwhile)) {
			run(w, t);
			continue;
		}
		if (queued_meanwhile)
			continue;
		if (stopping.load() && outstanding.load() == 0)
			break;
		std::uint32_t seq = park_seq.load();
		parked.fetch_add(1);
		if (queued.load() == seen && !stopping.load()) { // nothing queued since our empty pick (see wake_one)
			// (10 ms at most: a next-task slot of a busy worker, see steal_stale().)
			timespec limit{0, 10 * 1000 * 1000};
			syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&park_seq), FUTEX_WAIT_PRIVATE, seq,
			        &limit, nullptr, 0);
		}
		parked.fetch_sub(1);
		waking.store(false);
	}
	discard_held(w);
}

} // namespace turquoise
