// stack_pool.cpp — mmap'ed stacks with a PROT_NONE guard below, recycled through a cache.
#include "stack_pool.hpp"

#include "sanitizer.hpp"

#include <sys/mman.h>

namespace inger::detail {

stack_pool::stack_pool() { cache_.reserve(64); }

stack_pool::~stack_pool() {
	for (auto &block : cache_)
		stack_unmap(block);
}

stack_block stack_pool::take(std::size_t usable) {
	while (!cache_.empty()) {
		stack_block block = cache_.back();
		cache_.pop_back();
		if (block.usable() == usable)
			return block;
		stack_unmap(block); // the configured size changed since it was cached
	}
	std::size_t size = usable + stack_guard_size;
	// MAP_NORESERVE: untouched stack pages cost neither memory nor commit charge.
	void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (map == MAP_FAILED)
		return {};
	if (mprotect(map, stack_guard_size, PROT_NONE) != 0) {
		munmap(map, size);
		return {};
	}
	return {static_cast<char *>(map), size};
}

void stack_pool::give(stack_block block) {
	if (cache_.size() < max_cached) {
		stack_unpoison(block.lo(), block.usable());
		cache_.push_back(block);
	} else {
		stack_unmap(block);
	}
}

void stack_unmap(stack_block block) {
	if (block.map) {
		stack_unpoison(block.lo(), block.usable());
		munmap(block.map, block.map_size);
	}
}

} // namespace inger::detail
