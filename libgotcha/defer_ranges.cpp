// defer_ranges.cpp — the code ranges in which preemption is deferred (the base libraries',
// the loader's, the registries' and libgotcha's own), read by the timer signal handler.
#include "relink.hpp"

#include <atomic>
#include <cstddef>

namespace gotcha {
namespace {

struct text_range {
	std::uintptr_t lo, hi;
};

// Where preemption is deferred, read by the signal handler: fixed storage, published with
// a release store of the count.
constexpr std::size_t max_ranges = 256;
text_range defer_ranges[max_ranges];
std::atomic<std::size_t> defer_range_count{0};

void add_defer_range(std::uintptr_t lo, std::uintptr_t hi) {
	std::size_t n = defer_range_count.load(std::memory_order_relaxed);
	if (n == max_ranges)
		return;
	defer_ranges[n] = {lo, hi};
	defer_range_count.store(n + 1, std::memory_order_release);
}

} // namespace

void add_text_ranges(const base_object &o) {
	for (ElfW(Half) i = 0; i < o.phnum; i++)
		if (o.phdr[i].p_type == PT_LOAD && (o.phdr[i].p_flags & PF_X))
			add_defer_range(o.bias + o.phdr[i].p_vaddr,
			                o.bias + o.phdr[i].p_vaddr + o.phdr[i].p_memsz);
}

} // namespace gotcha

using namespace gotcha;

extern "C" int gotcha_defers_preemption(uintptr_t pc) {
	std::size_t n = defer_range_count.load(std::memory_order_acquire);
	for (std::size_t i = 0; i < n; i++)
		if (pc >= defer_ranges[i].lo && pc < defer_ranges[i].hi)
			return 1;
	return 0;
}
