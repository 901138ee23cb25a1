// small_alloc.cpp — size-classed free lists for tasks and messages (see turquoise/detail/small_alloc.hpp).
//
// Per thread and size class there are two lists: `active`, which allocations pop and frees
// push, and `spare`, a full batch kept back. When `active` reaches `batch` blocks, `spare`
// (if any) goes to the depot and `active` becomes the new spare; when `active` runs dry, the
// spare, else a depot batch, else a freshly carved chunk (which may hold more than a batch)
// refills it. So a
// thread that only frees (a fan-in's receiver) passes a batch to the depot every `batch`
// frees, a thread that only allocates (its senders) takes one every `batch` allocations,
// and a thread that does both (a request/response pair) never touches the depot.
//
// Everything runs in a libinger critical section: a preemption in the middle of a list
// update would let another task of the same worker see it half done.
#include <turquoise/detail/small_alloc.hpp>
#include <turquoise/guarded_lock.hpp>

#include <inger/inger.hpp>

#include <array>
#include <cstdlib>
#include <mutex>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define TURQUOISE_SMALL_ALLOC_PLAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TURQUOISE_SMALL_ALLOC_PLAIN 1
#endif
#endif

namespace turquoise::abi {
using detail::max_small_block;

#ifdef TURQUOISE_SMALL_ALLOC_PLAIN

void *allocate_small(std::size_t bytes) {
	inger::critical_section c;
	return ::operator new(bytes);
}
void free_small(void *p, std::size_t) noexcept {
	inger::critical_section c;
	::operator delete(p);
}

#else

namespace {

constexpr std::size_t min_block = 64; // classes: 64, 128, 256, 512, 1024 bytes
constexpr unsigned classes = 5;
static_assert(min_block << (classes - 1) == max_small_block);
constexpr unsigned batch = 64;          // blocks moved to or from the depot at once
constexpr std::size_t chunk_bytes = 64 * 1024;

unsigned size_class(std::size_t bytes) {
	unsigned c = 0;
	while ((min_block << c) < bytes)
		++c;
	return c;
}

struct block {
	block *next;
};

struct list {
	block *head = nullptr;
	unsigned count = 0;

	void push(block *b) {
		b->next = head;
		head = b;
		++count;
	}
	block *pop() {
		block *b = head;
		head = b->next;
		--count;
		return b;
	}
};

// Batches given up by threads, per class. Never destroyed: threads may free messages
// during static destruction.
struct depot {
	std::mutex mutex;
	std::array<std::vector<list>, classes> batches;
	std::vector<void *> chunks; // every chunk ever carved (kept reachable)

	static depot &get() {
		static depot *d = new depot;
		return *d;
	}
	void give(unsigned c, list l) {
		if (!l.head)
			return;
		guarded_lock lock(mutex);
		batches[c].push_back(l);
	}
	bool take(unsigned c, list &into) {
		guarded_lock lock(mutex);
		if (batches[c].empty())
			return false;
		into = batches[c].back();
		batches[c].pop_back();
		return true;
	}
	// A new chunk cut into blocks of class c.
	list carve(unsigned c) {
		std::size_t size = min_block << c;
		// Line-aligned, so that each block (a multiple of 64 bytes) starts a cache line.
		auto *chunk = static_cast<char *>(::operator new(chunk_bytes, std::align_val_t{64}));
		{
			guarded_lock lock(mutex);
			chunks.push_back(chunk);
		}
		list l;
		for (std::size_t off = 0; off + size <= chunk_bytes; off += size)
			l.push(reinterpret_cast<block *>(chunk + off));
		return l;
	}
};

struct thread_cache {
	std::array<list, classes> active{}, spare{};

	~thread_cache() {
		depot &d = depot::get();
		for (unsigned c = 0; c < classes; ++c) {
			d.give(c, active[c]);
			d.give(c, spare[c]);
		}
		gone = true;
	}

	static thread_local bool gone; // destroyed (thread exit): go to the depot directly
};
// Initial-exec: one %fs-relative access instead of a __tls_get_addr call per message
// (libturquoise is loaded with the program, so its TLS is in the static block).
thread_local bool thread_cache::gone __attribute__((tls_model("initial-exec"))) = false;
thread_local thread_cache cache __attribute__((tls_model("initial-exec")));

} // namespace

void *allocate_small(std::size_t bytes) {
	if (bytes > max_small_block)
		return ::operator new(bytes);
	unsigned c = size_class(bytes);
	inger::critical_section section;
	if (thread_cache::gone) {
		list l;
		if (!depot::get().take(c, l))
			l = depot::get().carve(c);
		block *b = l.pop();
		depot::get().give(c, l);
		return b;
	}
	list &active = cache.active[c];
	if (!active.head) {
		if (cache.spare[c].head) {
			active = cache.spare[c];
			cache.spare[c] = list{};
		} else if (!depot::get().take(c, active)) {
			active = depot::get().carve(c);
		}
	}
	block *b = active.pop();
	// The next block was last written by whichever thread freed it, often another core:
	// start fetching it now rather than stall on it at the next allocation.
	if (active.head)
		__builtin_prefetch(active.head, 1);
	return b;
}

void free_small(void *p, std::size_t bytes) noexcept {
	if (!p)
		return;
	if (bytes > max_small_block) {
		::operator delete(p);
		return;
	}
	unsigned c = size_class(bytes);
	inger::critical_section section;
	if (thread_cache::gone) {
		list l;
		l.push(static_cast<block *>(p));
		depot::get().give(c, l);
		return;
	}
	list &active = cache.active[c];
	if (active.count >= batch) {
		depot::get().give(c, cache.spare[c]);
		cache.spare[c] = active;
		active = list{};
	}
	active.push(static_cast<block *>(p));
}

#endif

} // namespace turquoise::abi
