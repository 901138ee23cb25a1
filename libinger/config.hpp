// config.hpp — process-wide settings: stack size and preemption signal.
#pragma once

#include <atomic>
#include <cstddef>

namespace inger::detail {

std::size_t configured_stack_size();
int configured_signal();
// Called when the first per-thread timer is created: the signal can no longer change.
void freeze_signal();
// The signal is in use (freeze_signal was called).
bool signal_is_frozen();

} // namespace inger::detail
