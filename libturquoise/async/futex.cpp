// futex.cpp — the futex calls behind blocked Future::get()/await() (see async/future.hpp):
// a waiter sleeps on its future's state word, and whoever settles it wakes the sleepers.
#include <turquoise/async/future.hpp>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

namespace turquoise::abi {

// An absolute deadline (FUTEX_WAIT_BITSET) needs no recomputation after an early return (a
// signal, a change of another bit of the word).
bool futex_wait(std::atomic<std::uint32_t> &word, std::uint32_t expected,
                const timespec *deadline) noexcept {
	static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
	int saved = errno; // a wait must not change the caller's errno
	long r = syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&word), FUTEX_WAIT_BITSET_PRIVATE,
	                 expected, deadline, nullptr, FUTEX_BITSET_MATCH_ANY);
	bool in_time = r == 0 || errno != ETIMEDOUT;
	errno = saved;
	return in_time;
}

void futex_wake_all(std::atomic<std::uint32_t> &word) noexcept {
	int saved = errno;
	syscall(SYS_futex, reinterpret_cast<std::uint32_t *>(&word), FUTEX_WAKE_PRIVATE, INT_MAX,
	        nullptr, nullptr, 0);
	errno = saved;
}

timespec monotonic_deadline(std::int64_t ns) noexcept {
	timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	std::int64_t t = now.tv_sec * 1000000000LL + now.tv_nsec + ns;
	return timespec{static_cast<time_t>(t / 1000000000LL), static_cast<long>(t % 1000000000LL)};
}

} // namespace turquoise::abi
