// trampolines.hpp — the per-symbol trampolines and the tables they jump through.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gotcha {

// Slot 0 is the base libraries; 1..max_slots are the copies. glibc has 16 namespaces.
inline constexpr std::size_t max_slots = 15;
// Routed symbols over all program objects. The tables are in .bss: only touched pages cost.
inline constexpr std::size_t max_routes = 1 << 15;

// tables[slot][route]: the address of a routed symbol in a slot's libraries.
extern void *tables[max_slots + 1][max_routes];

// The calling thread's current table (tables[its libset's slot]). Initial-exec TLS, read by
// every trampoline; a new thread starts on the base libraries. (__thread: no dynamic
// initialiser test in the readers, see libinger's tls_state.)
extern __thread void *const *current_table __attribute__((tls_model("initial-exec")));

// The calling thread's pointer: %fs:0 holds the TCB's self pointer (x86-64 TLS ABI), so
// TLS offsets are addresses minus this.
inline std::uintptr_t thread_pointer() {
	std::uintptr_t tp;
	asm("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

// The address of a new trampoline for route `index` (nullptr: out of memory). Not thread
// safe: called under the relinking lock.
void *trampoline_make(std::size_t index);

// Make the trampolines made since the last call executable (full chunks already are). False:
// some chunk of them could not be made executable (errno from mprotect).
bool trampolines_seal();

} // namespace gotcha
