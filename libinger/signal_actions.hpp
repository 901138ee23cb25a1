// signal_actions.hpp — the program's signal handlers, seen through the interposed sigaction
// (signal_actions.cpp).
#pragma once

#include <csignal>
#include <cstdint>

namespace inger::detail {

// How many of the program's own signal handlers ran on this thread, all of them and those
// installed without SA_RESTART (whose signal makes a blocking call fail with EINTR). The
// retry loops compare these to tell the program's interruptions from our timer's.
extern __thread std::uint64_t program_signals_handled __attribute__((tls_model("initial-exec")));
// (The second has an assembler name: timer_entry_x86_64.S reads it.)
extern __thread std::uint64_t program_signals_interrupting asm("inger_program_signals_interrupting")
    __attribute__((tls_model("initial-exec")));

// glibc's sigaction, bypassing our interposer (for libinger's own handlers).
int real_sigaction(int signo, const struct sigaction *act, struct sigaction *old);

} // namespace inger::detail
