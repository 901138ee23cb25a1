// runtime_hooks.hpp — libturquoise-internal: how the runtime tells the Clock which pool fires
// its timers (not installed; the one registry of "which pool" is runtime.cpp's).
#ifndef TURQUOISE_RUNTIME_HOOKS_HPP
#define TURQUOISE_RUNTIME_HOOKS_HPP

namespace turquoise {
class pool;
namespace detail {
// Fire the Clock's timers on p from now on; nullptr: on the current runtime's pool, looked
// up when a timer is next armed.
void clock_use(pool *p);
// Wait until no Clock timer is due at now() and no timer callback is running.
void settle_timers();
} // namespace detail
} // namespace turquoise

#endif
