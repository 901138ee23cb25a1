// context.hpp — creating and switching execution contexts (see switch_x86_64.S).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" {
// Suspend the running context into *save_sp and continue the one saved at load_sp.
void inger_switch(void **save_sp, void *load_sp);
// Where a new context starts (calls inger_function_main(rbx)).
void inger_entry();
}

namespace inger::detail {

// Lay out, just below `top`, a context that inger_switch will continue at inger_entry with
// `record` in rbx. The floating-point control state is inherited from the caller, as a plain
// call would inherit it. Returns the context's stack pointer.
inline void *initial_context(char *top, void *record) {
	auto aligned = reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t{15};
	// inger_entry must run with rsp 16-byte aligned (it calls); 16 bytes stay free above it.
	auto *frame = reinterpret_cast<std::uint64_t *>(aligned - 16 - 64);
	std::uint32_t mxcsr;
	std::uint16_t fpu_cw;
	asm volatile("stmxcsr %0" : "=m"(mxcsr));
	asm volatile("fnstcw %0" : "=m"(fpu_cw));
	frame[0] = mxcsr | (std::uint64_t{fpu_cw} << 32);
	frame[1] = 0;                                          // r15
	frame[2] = 0;                                          // r14
	frame[3] = 0;                                          // r13
	frame[4] = 0;                                          // r12
	frame[5] = reinterpret_cast<std::uint64_t>(record);    // rbx
	frame[6] = 0;                                          // rbp: ends frame-pointer walks
	frame[7] = reinterpret_cast<std::uint64_t>(&inger_entry);
	frame[8] = 0;                                          // fake return address above entry
	frame[9] = 0;
	return frame;
}

} // namespace inger::detail
