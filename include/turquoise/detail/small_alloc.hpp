// turquoise/detail/small_alloc.hpp — internal: the allocator of the runtime's small, short-lived
// objects that cross threads: pool tasks and dispatch messages.
//
// Such an object is allocated by one thread (a sender, a poster) and freed by another (the
// worker that ran it). glibc's malloc handles that pattern badly at actor rates: every
// cross-thread free takes the allocating thread's arena lock (contended by that thread's own
// allocations), and a burst freed at once is trimmed and faulted back in. So they come from
// size-classed free lists: a thread caches freed blocks, hands a full batch to a shared
// depot when it holds too many, and refills from the depot (one lock per batch, not per
// object). Memory handed to the depot is kept for later objects, never returned to the
// system: bounded by the most objects ever alive at once.
//
// Under AddressSanitizer it is plain operator new/delete, so that a use after free is still
// caught.
#ifndef TURQUOISE_DETAIL_SMALL_ALLOC_HPP
#define TURQUOISE_DETAIL_SMALL_ALLOC_HPP

#include <cstddef>
#include <new>

// turquoise::abi: the few out-of-line functions the headers' templates call, exported from
// libturquoise.so on purpose (libturquoise/exports.map); not for use by programs.
namespace turquoise::abi {
// Blocks of up to max_small_block bytes come from the free lists, larger ones from operator
// new. Both are safe inside preemptible functions (they run in libinger critical sections).
void *allocate_small(std::size_t bytes);
void free_small(void *p, std::size_t bytes) noexcept;
} // namespace turquoise::abi

namespace turquoise::detail {

inline constexpr std::size_t max_small_block = 1024;
using abi::allocate_small;
using abi::free_small;

// A std allocator over allocate_small (for std::allocate_shared).
template <class T>
struct small_allocator {
	using value_type = T;
	small_allocator() = default;
	template <class U>
	small_allocator(const small_allocator<U> &) noexcept {}

	T *allocate(std::size_t n) {
		static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned object");
		return static_cast<T *>(allocate_small(n * sizeof(T)));
	}
	void deallocate(T *p, std::size_t n) noexcept { free_small(p, n * sizeof(T)); }

	template <class U>
	friend bool operator==(const small_allocator &, const small_allocator<U> &) {
		return true;
	}
	template <class U>
	friend bool operator!=(const small_allocator &, const small_allocator<U> &) {
		return false;
	}
};

} // namespace turquoise::detail

#endif
