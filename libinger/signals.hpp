// signals.hpp — the process-wide signal handlers libinger installs.
#pragma once

#include <cstddef>

namespace inger::detail {

// Install the preemption handler (first timer) or the stack-overflow handler (first thread
// state) once per process. Return false with errno set if sigaction failed.
bool signals_install_timer();
bool signals_install_overflow();

// The program's own signal handler (installed without SA_RESTART) is about to run in the
// interrupted `context`: if that is our timer handler before its first instruction (both
// signals came on the same way out of the kernel), the blocking call our handler interrupted
// fails with EINTR, as without us.
void signals_program_interrupts(void *context);

// Give the calling thread an alternate signal stack if it has none (the overflow handler
// cannot run on the stack that overflowed). Returns the stack we mapped, or nullptr.
void *altstack_ensure(std::size_t *size);
void altstack_release(void *stack, std::size_t size);

} // namespace inger::detail
