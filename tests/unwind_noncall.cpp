// unwind_noncall.cpp — code for test_unwind in its own translation unit (compiled with
// -fnon-call-exceptions): a call-free loop, and work its callers cannot see into.
#include <atomic>
#include <mutex>

namespace {
struct counted {
	std::atomic<int> &live;
	explicit counted(std::atomic<int> &l) : live(l) { live++; }
	~counted() { live--; }
};
} // namespace

void noncall_spin_holding(std::mutex &m, std::atomic<int> &live, const std::atomic<bool> &stop) {
	std::lock_guard<std::mutex> guard(m);
	counted c(live);
	unsigned long *n = new unsigned long(0);
	auto *volatile counter = n; // a pointer the compiler cannot prove valid: loads may trap
	while (!stop.load(std::memory_order_relaxed) && *counter < (1ul << 40))
		*counter = *counter + 1; // with -fnon-call-exceptions, each access may throw
	delete n;
}

// Not inlined into, nor analysed by, its callers in test_unwind.cpp: calls to it may throw.
int opaque_work(int rounds) {
	volatile int x = 0;
	for (int i = 0; i < rounds; ++i)
		x = x + i;
	if (x < 0)
		throw rounds;
	return x;
}
