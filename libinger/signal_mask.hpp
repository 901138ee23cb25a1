// signal_mask.hpp — the preemption signal can never be blocked, and a function's own signal
// mask changes stay confined to it (signal_mask.cpp).
#pragma once

#include "thread_state.hpp"

#include <csignal>

namespace inger::detail {

// rt_sigprocmask itself, bypassing the interposed sigprocmask/pthread_sigmask (a 64-bit mask).
int kernel_sigmask(int how, const sigset_t *set, sigset_t *old);

// Caller side, before switching back into a preempted function's handler frame: block the
// preemption signal until that frame's sigreturn (which puts the function's own mask back),
// and record the caller's mask for the next preemption. A timer expiry meanwhile stays pending
// and is taken in the function's own code: signal frames never nest. One system call, the one
// this path already made to read the caller's mask.
void mask_resume_preempted(function_record *f);

// Function side, for a function that changed its mask through the interposed calls and gives
// control back other than from the timer handler (completed, paused, a deferred preemption):
// the caller gets its own mask back (mask_to_caller), and the function gets its own when it
// runs again (mask_to_function). No system call for a function that never changed its mask.
inline bool mask_confined(const function_record *f) { return f->mask_changed && !f->in_handler; }
void mask_to_caller(function_record *f);
void mask_to_function(function_record *f);

} // namespace inger::detail
