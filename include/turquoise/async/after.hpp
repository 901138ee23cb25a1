// turquoise/async/after.hpp — the parts of Future that need the Clock: Future::after() and
// the free after(d) (included by future.hpp).
//
//   Future<Nothing> after(d)   ready once `d` has passed on the Clock; discarding it cancels
//                              the timer (the future becomes discarded)
//   f.after(d, g)              see Future::after() in future.hpp
#ifndef TURQUOISE_ASYNC_AFTER_HPP
#define TURQUOISE_ASYNC_AFTER_HPP

#include <turquoise/async/clock.hpp>
#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>

#include <chrono>

namespace turquoise {

// Ready once d has passed on the Clock (see above). Defined, with Future::after, in
// detail/after.hpp.
inline Future<Nothing> after(Clock::Duration d);

} // namespace turquoise

#include <turquoise/async/detail/after.hpp>

#endif
