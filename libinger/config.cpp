// config.cpp — stack size and preemption signal, with their environment overrides.
#include "config.hpp"

#include <libinger.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace inger::detail {
namespace {

constexpr std::size_t min_stack = 16 * 1024;
constexpr std::size_t max_stack = std::size_t{1} << 30;
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t default_stack = 1024 * 1024; // instrumented frames are several times larger
#else
constexpr std::size_t default_stack = 256 * 1024;
#endif

std::size_t page_round(std::size_t n) {
	auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
	return (n + page - 1) / page * page;
}

// An environment variable that holds no valid value is reported on stderr, once, at load
// (a mistake the user should hear of, not a reason to refuse to run), and the default used.
void report_invalid(const char *name, const char *value, const char *expected, long fallback) {
	std::fprintf(stderr, "libinger: %s=\"%s\": expected %s; using %ld\n", name, value, expected,
	             fallback);
}

std::size_t initial_stack_size() {
	if (const char *env = std::getenv("INGER_STACK_SIZE"); env && *env) {
		char *end = nullptr;
		errno = 0;
		unsigned long long v = std::strtoull(env, &end, 0);
		if (end != env && *end == '\0' && errno == 0 && *env != '-' && v >= min_stack &&
		    v <= max_stack)
			return page_round(v);
		report_invalid("INGER_STACK_SIZE", env, "a stack size in bytes from 16384 to 1073741824",
		               static_cast<long>(default_stack));
	}
	return default_stack;
}

bool valid_signal(int signo) {
	// glibc keeps the real-time signals below SIGRTMIN for itself (cancellation, setxid).
	return signo >= SIGRTMIN && signo <= SIGRTMAX;
}

int initial_signal() {
	if (const char *env = std::getenv("INGER_SIGNAL"); env && *env) {
		char *end = nullptr;
		errno = 0;
		long v = std::strtol(env, &end, 10);
		if (end != env && *end == '\0' && errno == 0 && v >= SIGRTMIN && v <= SIGRTMAX)
			return static_cast<int>(v);
		report_invalid("INGER_SIGNAL", env, "a real-time signal number (SIGRTMIN to SIGRTMAX)",
		               SIGRTMAX - 1);
	}
	return SIGRTMAX - 1;
}

std::atomic<std::size_t> stack_size{initial_stack_size()};
std::atomic<int> signal_number{initial_signal()};
std::atomic<bool> signal_frozen{false};

} // namespace

std::size_t configured_stack_size() { return stack_size.load(std::memory_order_relaxed); }
int configured_signal() { return signal_number.load(std::memory_order_relaxed); }
void freeze_signal() { signal_frozen.store(true); }
bool signal_is_frozen() { return signal_frozen.load(std::memory_order_relaxed); }

} // namespace inger::detail

using namespace inger::detail;

extern "C" int linger_set_stack_size(size_t bytes) {
	if (bytes < min_stack || bytes > max_stack) {
		errno = EINVAL;
		return -1;
	}
	stack_size.store(page_round(bytes), std::memory_order_relaxed);
	return 0;
}

extern "C" size_t linger_stack_size(void) { return configured_stack_size(); }

extern "C" int linger_set_signal(int signo) {
	if (!valid_signal(signo)) {
		errno = EINVAL;
		return -1;
	}
	if (signal_frozen.load()) {
		errno = EBUSY;
		return -1;
	}
	signal_number.store(signo);
	return 0;
}

extern "C" int linger_signal(void) { return configured_signal(); }
