// config.hpp — process-wide settings: stack size and preemption signal.
#pragma once

#include <atomic>
#include <cstddef>

namespace inger::detail {

std::size_t configured_stack_size();
int configured_signal();
// Called when the first per-thread timer is created: the signal can no longer change.
void freeze_signal();

} // namespace inger::detail
