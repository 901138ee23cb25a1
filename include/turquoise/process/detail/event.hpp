// turquoise/process/detail/event.hpp — internal: the messages queued in a process's mailbox.
#ifndef TURQUOISE_PROCESS_DETAIL_EVENT_HPP
#define TURQUOISE_PROCESS_DETAIL_EVENT_HPP

#include <turquoise/detail/small_alloc.hpp>
#include <turquoise/process/event.hpp>
#include <turquoise/process/pid.hpp>

#include <inger/inger.hpp>
#include <libinger.h>

#include <cstddef>
#include <cstdint>

namespace turquoise {

class ProcessBase;

// turquoise::abi: out-of-line entry points of the headers' templates (see small_alloc.hpp).
namespace abi {

struct event {
	enum class kind { dispatch, terminate, message, exited, http };

	// Mailbox link, written by the sender before it publishes the event with a release
	// operation, read by the process's run task after an acquire (see mailbox.hpp).
	event *next = nullptr;
	// Bytes of the message's allocation from this event on (0: unknown). The allocation was
	// written by the sender's core: the run task prefetches the next message while it serves
	// this one, instead of stalling on each of its cache lines in turn. (Beside `next`: on
	// the line the run task has already fetched.)
	std::uint32_t footprint = 0;
	kind what = kind::dispatch;
	MethodId method;       // member-function dispatches only
	bool spoofed = false;  // injected by a test: bypasses the filter

	void prefetch() const noexcept {
		// From the event itself (it comes first in its block, see dispatch.hpp): nothing is
		// assumed about what the standard library puts around the block.
		const char *p = reinterpret_cast<const char *>(this);
		const char *end = p + footprint;
		for (; p < end; p += 64)
			__builtin_prefetch(p, 1);
	}

	// A terminate request is allocated on its own (from the small-object allocator: it is
	// freed by the process's worker).
	static void *operator new(std::size_t bytes) { return turquoise::detail::allocate_small(bytes); }
	static void operator delete(void *p, std::size_t bytes) noexcept {
		turquoise::detail::free_small(p, bytes);
	}

	virtual ~event() = default;
	// Runs in the process's context (on its worker, one event at a time). Must not throw.
	virtual void run(ProcessBase *) {}
	// Frees the event. An event need not be allocated on its own: a dispatch's event lives
	// in one block with its future's state (dispatch.hpp).
	virtual void dispose() noexcept { delete this; }
};

// Destroy an event (in a critical section: the allocator is not preemption-safe everywhere).
void destroy(event *e) noexcept;

// Queue e in the mailbox of the process `to`. If there is no such live process the event
// is destroyed (its future, if any, is abandoned) and false is returned.
bool deliver(const UPID &to, event *e);

} // namespace abi

namespace detail {
// Scoped libinger critical section (the runtime's own allocations and bookkeeping).
using critical = inger::critical_section; // inline (see inger/inger.hpp)
using abi::deliver;
using abi::destroy;
using abi::event;
} // namespace detail
} // namespace turquoise

#endif
