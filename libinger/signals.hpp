// signals.hpp — the process-wide signal handlers libinger installs.
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>

// The preemption signal's handler: timer_entry_x86_64.S, which calls inger_on_timer_body
// (program_interrupts.cpp), which calls handle_tick.
extern "C" __attribute__((visibility("hidden"))) void inger_on_timer(int, siginfo_t *, void *);

namespace inger::detail {

// Install the preemption handler (first timer) or the stack-overflow handler (first thread
// state) once per process. Return false with errno set if sigaction failed.
bool signals_install_timer();
bool signals_install_overflow();

// Code where the timer handler defers preemption on libinger's own account (deferred_code.cpp):
// libinger's own segment and the sanitizer runtimes'. Found once, before the handler exists.
void deferred_code_find();
bool in_own_code(std::uintptr_t pc);
// pc is a sanitizer runtime's, or the C runtime's called from a sanitizer runtime (the first
// return address above sp, on the stack [stack_lo, stack_hi), is into it).
bool in_sanitizer_runtime(std::uintptr_t pc, std::uintptr_t sp, std::uintptr_t stack_lo, std::uintptr_t stack_hi);

// The timer fired: preempt the running function, defer, or re-arm (signals.cpp).
void handle_tick(siginfo_t *info, void *context);

// The program's own signal handler (installed without SA_RESTART) is about to run in the
// interrupted `context`: if that is our timer handler before its first look at the program's
// signals, or the restart point it just returned to, the blocking call the timer interrupted
// fails with EINTR, as without us (program_interrupts.cpp).
void signals_program_interrupts(void *context);

// Give the calling thread an alternate signal stack if it has none (the overflow handler
// cannot run on the stack that overflowed). Returns the stack we mapped, or nullptr.
void *altstack_ensure(std::size_t *size);
void altstack_release(void *stack, std::size_t size);

} // namespace inger::detail
