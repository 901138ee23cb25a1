// timer.cpp — one POSIX timer per thread, delivering the preemption signal to that thread only.
#include "timer.hpp"

#include "config.hpp"
#include "signals.hpp"

#include <cerrno>
#include <csignal>
#include <sys/syscall.h>
#include <unistd.h>

namespace inger::detail {

bool timer_ensure(thread_state *ts) {
	if (ts->timer_created)
		return true;
	if (!signals_install_timer())
		return false;
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

void timer_arm(thread_state *ts, std::uint64_t deadline_ns) {
	itimerspec when{};
	when.it_value.tv_sec = static_cast<time_t>(deadline_ns / 1000000000u);
	when.it_value.tv_nsec = static_cast<long>(deadline_ns % 1000000000u);
	if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0)
		when.it_value.tv_nsec = 1; // zero would disarm
	// Record first: if the signal comes before timer_settime returns, its handler clears this
	// (nonzero must mean "a signal is on its way", or a later launch would not re-arm).
	ts->armed_ns = deadline_ns;
	int saved = errno;
	timer_settime(ts->timer, TIMER_ABSTIME, &when, nullptr);
	errno = saved;
	count(ts->stats.timer_arms);
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
