// slots.hpp — the namespaces that hold copies of the libraries, and their writable state.
#pragma once

#include "trampolines.hpp"

#include <libgotcha.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gotcha {

// A range of a copied object's writable memory (.data, .bss, .got.plt: not RELRO).
struct region {
	std::byte *start;
	std::size_t size;
};

// One dlmopen() namespace holding a copy of every copied library.
struct slot_state {
	std::vector<void *> handles;  // dlmopen() handle of each copied library, by copy index
	std::vector<region> regions;  // the copies' writable memory
	std::size_t state_bytes = 0;  // sum of the regions' sizes
	std::byte *pristine = nullptr; // the regions as they were after start-up and relinking

	// A thread is running code of a libset on this slot. Exclusive: the slot's memory holds
	// one libset's state at a time.
	std::atomic<bool> running{false};
	// Guards changes of `resident` and `dirty` (by the running thread, or by a release on
	// another thread). `resident` is also read outside it: as a hint when choosing a slot,
	// and by the running thread, for which only its own libset's residence matters.
	std::atomic_flag meta = ATOMIC_FLAG_INIT;
	std::atomic<gotcha_libset *> resident{nullptr}; // whose state the memory holds
	bool dirty = false;                // the memory holds a cancelled function's state
};

extern slot_state slots[max_slots + 1]; // [0] unused: the base libraries
extern std::size_t slot_count;          // slots 1..slot_count exist

// Counters for gotcha_get_info().
extern std::atomic<std::uint64_t> swap_count, restore_count, shared_mode_count;

} // namespace gotcha

namespace gotcha {
// Relink the objects dlopen()ed since the last call, if any (cheap when none).
void refresh_objects();

// Copy a slot's writable state out to a buffer of state_bytes, or back in from one.
// Async-signal-safe.
void copy_out(const slot_state &s, std::byte *to);
void copy_in(const slot_state &s, const std::byte *from);
} // namespace gotcha
