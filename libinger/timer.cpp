// timer.cpp — one POSIX timer per thread, delivering the preemption signal to that thread only.
#include "timer.hpp"

#include "config.hpp"
#include "signals.hpp"

#include <cerrno>
#include <csignal>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace inger::detail {

namespace {

// A fork()ed child has no timers, and only the thread that forked. If that thread was running
// a preemptible function (fork called inside it), the function's deadline still stands: make
// the child's timer now and arm it, or the function would never be preempted again.
void recreate_timer_in_child() {
	thread_state *ts = tls_state;
	if (!ts)
		return;
	ts->timer_created = false;
	ts->armed_ns = 0;
	function_record *f = ts->current;
	if (f && f->deadline_ns != no_deadline && timer_ensure(ts))
		timer_arm_by(ts, f->deadline_ns, now_ns());
}

} // namespace

bool timer_ensure(thread_state *ts) {
	if (ts->timer_created)
		return true;
	if (!signals_install_timer())
		return false;
	static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
	pthread_once(&atfork_once, [] { pthread_atfork(nullptr, nullptr, recreate_timer_in_child); });
	sigevent ev{};
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = configured_signal();
	ev.sigev_value.sival_ptr = ts; // lets the handler tell our expiries from a stray kill()
	ev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
	if (timer_create(CLOCK_MONOTONIC, &ev, &ts->timer) != 0)
		return false;
	ts->timer_created = true;
	ts->armed_ns = 0;
	return true;
}

namespace {

// Learn what a timer_settime takes here. An outlier (the thread was descheduled inside the
// call) is capped: it says nothing about the next call.
void observe_arm_cost(thread_state *ts, std::uint64_t took_ns) {
	constexpr std::uint64_t max_arm_cost_ns = 20 * 1000;
	if (took_ns > max_arm_cost_ns)
		took_ns = max_arm_cost_ns;
	ts->arm_cost_ns = (ts->arm_cost_ns * 7 + took_ns) / 8;
}

itimerspec abstime_of(std::uint64_t ns) {
	itimerspec when{};
	when.it_value.tv_sec = static_cast<time_t>(ns / 1000000000u);
	when.it_value.tv_nsec = static_cast<long>(ns % 1000000000u);
	if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0)
		when.it_value.tv_nsec = 1; // zero would disarm
	return when;
}

} // namespace

void timer_arm(thread_state *ts, std::uint64_t deadline_ns) {
	// Re-arming this one-shot timer while its previous expiry's signal is still queued (it
	// fired, its handler has not run yet) can lose both: recent kernels discard a queued
	// expiry of a timer re-armed since, and fold a new expiry into the entry still queued.
	// timer_settime reports for free whether the previous setting had expired; if it had and
	// no handler ran even by the time the call returned (signals are delivered on the way out
	// of a system call), arm once more, a little ahead: nothing of ours is queued any more.
	constexpr std::uint64_t settle_ns = 2000;
	std::uint64_t previous = ts->armed_ns;
	// Record first: if the signal comes before timer_settime returns, its handler clears this
	// (nonzero must mean "a signal is on its way", or a later launch would not re-arm).
	ts->armed_ns = deadline_ns;
	int saved = errno;
	itimerspec when = abstime_of(deadline_ns), old{};
	std::uint64_t before = now_ns();
	timer_settime(ts->timer, TIMER_ABSTIME, &when, &old);
	observe_arm_cost(ts, now_ns() - before);
	count(ts->stats.timer_arms);
	if (previous != 0 && old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0 &&
	    ts->armed_ns == deadline_ns) {
		std::uint64_t now = now_ns();
		if (now + settle_ns > deadline_ns) {
			when = abstime_of(now + settle_ns);
			ts->armed_ns = now + settle_ns;
			timer_settime(ts->timer, TIMER_ABSTIME, &when, nullptr);
			count(ts->stats.timer_arms);
		}
	}
	errno = saved;
}

void timer_observe_lateness(thread_state *ts, std::uint64_t expiry_ns, std::uint64_t now) {
	constexpr std::uint64_t max_lead_ns = 50 * 1000; // beyond this, lateness is an outlier
	if (expiry_ns == 0 || now < expiry_ns)
		return;
	std::uint64_t late = now - expiry_ns;
	if (late > max_lead_ns)
		late = max_lead_ns;
	ts->lateness_avg_ns = (ts->lateness_avg_ns * 7 + late) / 8;
	ts->lead_ns = 2 * ts->lateness_avg_ns > max_lead_ns ? max_lead_ns : 2 * ts->lateness_avg_ns;
}

void timer_destroy(thread_state *ts) {
	if (ts->timer_created) {
		timer_delete(ts->timer);
		ts->timer_created = false;
		ts->armed_ns = 0;
	}
}

} // namespace inger::detail
