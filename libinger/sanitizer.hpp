// sanitizer.hpp — telling AddressSanitizer about our stack switches. No-ops otherwise.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace inger::detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool asan = true;
// Before a switch: `fake` keeps this context's fake stack (nullptr: this context is over).
inline void fiber_leave(void **fake, const void *to_bottom, std::size_t to_size) {
	__sanitizer_start_switch_fiber(fake, to_bottom, to_size);
}
// After a switch: learn the bounds of the context we came from.
inline void fiber_arrive(void *fake, const void **from_bottom, std::size_t *from_size) {
	__sanitizer_finish_switch_fiber(fake, from_bottom, from_size);
}
// A recycled stack may still carry poison from frames that never returned (cancel).
inline void stack_unpoison(void *lo, std::size_t size) { __asan_unpoison_memory_region(lo, size); }
#else
inline constexpr bool asan = false;
inline void fiber_leave(void **, const void *, std::size_t) {}
inline void fiber_arrive(void *, const void **, std::size_t *) {}
inline void stack_unpoison(void *, std::size_t) {}
#endif

} // namespace inger::detail
