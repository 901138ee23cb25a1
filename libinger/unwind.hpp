// unwind.hpp — cancelling a paused or preempted function by unwinding its stack, so that the
// destructors of the objects on it run (the unwinding cancel; see unwind.cpp).
#pragma once

#include "thread_state.hpp"

namespace inger::detail {

// Function side, in leave() when the function was switched back in to be unwound: start the
// forced unwind from here (never returns), or return to let the function run on to a point
// where unwinding is exact (preempted at an instruction whose frame cannot be unwound).
void unwind_if_requested(thread_state *ts, function_record *f);

} // namespace inger::detail
