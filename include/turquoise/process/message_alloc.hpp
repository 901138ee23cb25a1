// turquoise/process/message_alloc.hpp — internal: the allocator of dispatch messages.
//
// A message is allocated by its sender and freed by whoever drops its future last: usually
// the receiving process's worker, another thread. glibc's malloc handles that pattern badly
// at actor rates: every cross-thread free takes the sender's arena lock (contended by the
// sender's own allocations), and a burst freed at once is trimmed and faulted back in. So
// messages come from size-classed free lists: a thread caches freed blocks, hands a full
// batch to a shared depot when it holds too many, and refills from the depot (one lock per
// batch, not per message). Memory handed to the depot is kept for later messages, never
// returned to the system: bounded by the most messages ever in flight at once.
//
// Under AddressSanitizer it is plain operator new/delete, so that a use after free of a
// message is still caught.
#ifndef TURQUOISE_PROCESS_MESSAGE_ALLOC_HPP
#define TURQUOISE_PROCESS_MESSAGE_ALLOC_HPP

#include <cstddef>
#include <new>

namespace turquoise::process::internal {

// Blocks of up to max_message_block bytes come from the free lists, larger ones from
// operator new. Both are safe inside preemptible functions (they run in libinger critical
// sections).
inline constexpr std::size_t max_message_block = 1024;
void *allocate_message(std::size_t bytes);
void free_message(void *p, std::size_t bytes) noexcept;

// A std allocator over allocate_message (for std::allocate_shared).
template <class T>
struct message_allocator {
	using value_type = T;
	message_allocator() = default;
	template <class U>
	message_allocator(const message_allocator<U> &) noexcept {}

	T *allocate(std::size_t n) {
		static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned message");
		return static_cast<T *>(allocate_message(n * sizeof(T)));
	}
	void deallocate(T *p, std::size_t n) noexcept { free_message(p, n * sizeof(T)); }

	template <class U>
	friend bool operator==(const message_allocator &, const message_allocator<U> &) {
		return true;
	}
	template <class U>
	friend bool operator!=(const message_allocator &, const message_allocator<U> &) {
		return false;
	}
};

} // namespace turquoise::process::internal

#endif
