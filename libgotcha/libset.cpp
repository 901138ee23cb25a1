// libset.cpp — handing out libsets, and switching a thread between them.
//
// There are more libsets than namespaces: a libset is bound to a slot when acquired and runs
// at that slot's addresses for life (pointers its function holds into library data stay
// valid). Several libsets may share a slot; the slot's writable memory holds the state of the
// one that ran last (the resident). Before another runs there, the resident's state is saved
// to a buffer of its own, and the newcomer's is put back: like paging, at the granularity of
// the libraries' writable segments (about 70 KiB for libc and libm).
#include "slots.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <sched.h>
#include <sys/mman.h>

struct gotcha_libset {
	std::size_t slot = 0;        // 1..slot_count
	std::byte *image = nullptr;  // its saved state while evicted (mmap'ed on first eviction)
	std::size_t image_bytes = 0; // the image's size (every slot has the same libraries)
	bool saved = false;          // image holds its state
	gotcha_libset *next_free = nullptr;
};

namespace gotcha {

slot_state slots[max_slots + 1];
std::size_t slot_count = 0;
std::atomic<std::uint64_t> swap_count{0}, restore_count{0}, shared_mode_count{0};

namespace {

// Released libsets, for reuse. Those that were ever evicted keep their image buffer, so
// that paging again costs no mmap and a cancel no munmap (a system call each, several
// microseconds); at most max_kept_images buffers are kept (about 22 MiB of libc+libm state).
constexpr std::size_t max_kept_images = 256;
std::mutex free_lock;
gotcha_libset *free_list = nullptr;
std::size_t kept_images = 0;
std::atomic<std::size_t> next_slot{0};

class meta_guard {
public:
	explicit meta_guard(slot_state &s) : s_(s) {
		while (s_.meta.test_and_set(std::memory_order_acquire))
			__builtin_ia32_pause();
	}
	~meta_guard() { s_.meta.clear(std::memory_order_release); }
	meta_guard(const meta_guard &) = delete;
	meta_guard &operator=(const meta_guard &) = delete;

private:
	slot_state &s_;
};

// Make the slot's memory hold `ls`'s state. Called with the slot running (exclusively ours).
// Async-signal-safe (memcpy and mmap only): it runs in the preemption handler when a
// preempted function's caller is itself a function whose state was evicted.
void make_resident(slot_state &s, gotcha_libset *ls) {
	meta_guard guard(s);
	gotcha_libset *old = s.resident.load(std::memory_order_relaxed);
	if (old == ls)
		return;
	if (old) {
		if (old->image && old->image_bytes < s.state_bytes) { // a reused buffer, too small
			munmap(old->image, old->image_bytes);
			old->image = nullptr;
		}
		if (!old->image) {
			void *map = mmap(nullptr, s.state_bytes, PROT_READ | PROT_WRITE,
			                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (map == MAP_FAILED)
				__builtin_trap(); // nowhere to keep a paused function's library state
			old->image = static_cast<std::byte *>(map);
			old->image_bytes = s.state_bytes;
		}
		copy_out(s, old->image);
		old->saved = true;
		swap_count.fetch_add(1, std::memory_order_relaxed);
	}
	if (ls->saved) {
		copy_in(s, ls->image);
	} else if (s.dirty || old) {
		// A fresh libset needs a consistent state: the start-up one.
		copy_in(s, s.pristine);
		restore_count.fetch_add(1, std::memory_order_relaxed);
	}
	s.dirty = false;
	s.resident.store(ls, std::memory_order_relaxed);
}

void enter(gotcha_libset *ls) {
	slot_state &s = slots[ls->slot];
	for (unsigned spins = 0; s.running.exchange(true, std::memory_order_acquire); spins++) {
		// Another thread runs a libset of this slot; it leaves at its next switch.
		if (spins < 64)
			__builtin_ia32_pause();
		else
			sched_yield();
	}
	if (s.resident.load(std::memory_order_relaxed) != ls)
		make_resident(s, ls);
	current_table = tables[ls->slot];
}

// Put a released libset on the free list.
void push_free(gotcha_libset *ls) {
	std::lock_guard<std::mutex> guard(free_lock);
	if (ls->image) {
		if (kept_images < max_kept_images) {
			kept_images++;
		} else {
			munmap(ls->image, ls->image_bytes);
			ls->image = nullptr;
		}
	}
	ls->next_free = free_list;
	free_list = ls;
}

// The libset of the function this thread completed last: a launch that follows on the same
// thread takes it back, on the same (warm) slot, without the free list's lock or a scan of
// the slots (about a fifth of an empty function's launch). Given to the free list when the
// thread exits; after that (other thread-local destructors releasing theirs), not used.
struct thread_cache {
	gotcha_libset *ls = nullptr;
	bool gone = false;
	~thread_cache() {
		gone = true;
		if (ls)
			push_free(ls);
		ls = nullptr;
	}
};
thread_local thread_cache last_completed;

} // namespace

void copy_out(const slot_state &s, std::byte *to) {
	for (const region &r : s.regions) {
		std::memcpy(to, r.start, r.size);
		to += r.size;
	}
}

void copy_in(const slot_state &s, const std::byte *from) {
	for (const region &r : s.regions) {
		std::memcpy(r.start, from, r.size);
		from += r.size;
	}
}

} // namespace gotcha

using namespace gotcha;

extern "C" gotcha_libset_t *gotcha_libset_acquire(void) {
	if (slot_count == 0)
		return nullptr;
	refresh_objects();
	thread_cache &cache = last_completed;
	if (gotcha_libset *ls = cache.ls) {
		// Its slot, if nobody runs on it and no paused libset's state lives there.
		slot_state &s = slots[ls->slot];
		if (!s.running.load(std::memory_order_relaxed) &&
		    !s.resident.load(std::memory_order_relaxed)) {
			cache.ls = nullptr;
			return ls;
		}
	}
	// A slot nobody runs on, preferably one whose memory no paused libset needs (no swap).
	std::size_t start = next_slot.fetch_add(1, std::memory_order_relaxed);
	std::size_t chosen = 0;
	for (std::size_t pass = 0; pass < 2 && !chosen; pass++) {
		for (std::size_t i = 0; i < slot_count; i++) {
			std::size_t s = (start + i) % slot_count + 1;
			if (slots[s].running.load(std::memory_order_relaxed))
				continue;
			if (pass == 0 && slots[s].resident.load(std::memory_order_relaxed))
				continue;
			chosen = s;
			break;
		}
	}
	if (!chosen) { // every slot busy on other threads: run against the base libraries
		shared_mode_count.fetch_add(1, std::memory_order_relaxed);
		return nullptr;
	}
	gotcha_libset *ls;
	{
		std::lock_guard<std::mutex> guard(free_lock);
		ls = free_list;
		if (ls) {
			free_list = ls->next_free;
			kept_images -= ls->image != nullptr;
		}
	}
	if (!ls) {
		ls = new (std::nothrow) gotcha_libset;
		if (!ls)
			return nullptr;
	}
	ls->slot = chosen;
	ls->saved = false;
	ls->next_free = nullptr;
	return ls;
}

extern "C" void gotcha_libset_release(gotcha_libset_t *ls, int completed) {
	if (!ls)
		return;
	slot_state &s = slots[ls->slot];
	{
		meta_guard guard(s);
		if (s.resident.load(std::memory_order_relaxed) == ls) {
			s.resident.store(nullptr, std::memory_order_relaxed);
			if (!completed)
				s.dirty = true; // it may have stopped half-way through a library call
		}
	}
	ls->saved = false;
	ls->next_free = nullptr;
	thread_cache &cache = last_completed;
	if (completed && !cache.ls && !cache.gone) {
		cache.ls = ls;
		return;
	}
	push_free(ls);
}

extern "C" void gotcha_libset_switch(gotcha_libset_t *from, gotcha_libset_t *to) {
	if (from)
		slots[from->slot].running.store(false, std::memory_order_release);
	if (to)
		enter(to);
	else
		current_table = tables[0];
}
