// stack_pool.hpp — stacks for preemptible functions, with guard pages, cached per thread.
#pragma once

#include <cstddef>
#include <vector>

namespace inger::detail {

// One mapping: [map, map + guard) is PROT_NONE, [map + guard, map + map_size) the stack.
struct stack_block {
	char *map = nullptr;
	std::size_t map_size = 0;

	char *lo() const;                       // lowest usable byte
	char *hi() const { return map + map_size; } // one past the highest usable byte
	std::size_t usable() const;
	bool in_guard(const void *addr) const;  // addr lies in the guard region below lo()
};

// Guard region below every stack (PROT_NONE: address space only, no memory). A frame that
// moves the stack pointer further than this in one step, in code compiled without
// -fstack-clash-protection (GCC's default on Debian), can jump it and write into whatever
// lies below, usually another function's stack (a "stack clash"). 1 MiB is the gap Linux
// keeps below the main thread's stack for the same reason (stack_guard_gap); what jumps
// even that and lands on a neighbour's record is caught by its canaries (thread_state.hpp).
inline constexpr std::size_t stack_guard_size = 1024 * 1024;

// Inline: every launch and every API entry inside a function (check_jumped_out) asks.
inline char *stack_block::lo() const { return map + stack_guard_size; }
inline std::size_t stack_block::usable() const { return map_size - stack_guard_size; }
inline bool stack_block::in_guard(const void *addr) const {
	auto *a = static_cast<const char *>(addr);
	return a >= map && a < lo();
}

// A per-thread cache (no locking): launch takes the most recently released stack, which is
// warm in cache and already faulted in. Only stacks of the current configured size are kept.
class stack_pool {
public:
	stack_pool();
	~stack_pool();
	stack_pool(const stack_pool &) = delete;
	stack_pool &operator=(const stack_pool &) = delete;

	// A stack of `usable` bytes (page multiple), or one with map == nullptr when out of memory.
	stack_block take(std::size_t usable);
	void give(stack_block block);

private:
	// Enough for hundreds of paused functions: past this, every cancel would pay a munmap
	// (~3 us here). Cached stacks hold only the pages their functions touched.
	static constexpr std::size_t max_cached = 1024;
	std::vector<stack_block> cache_;
};

void stack_unmap(stack_block block);

} // namespace inger::detail
