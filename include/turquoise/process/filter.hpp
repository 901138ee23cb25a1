// turquoise/process/filter.hpp — a global hook consulted before a dispatch or a message is
// served.
//
// Messages (message.hpp), local or received from the network, are shown to
// f.filter(process, MessageEvent) the same way, right before their handler would run;
// returning true drops the message (RuntimeStats::dropped counts it).
//
// When a filter is installed (filter(&f)), every dispatch is shown to f.filter()
// in the receiving process's context, right before its handler would run; returning true
// drops it (its future is abandoned; RuntimeStats::dropped counts it). Dispatches made with
// spoof_dispatch() (testing.hpp) carry `spoofed` and are not shown to the filter.
//
// filter() runs on pool workers, concurrently with nothing else: the runtime serializes calls
// (and installing/removing a filter waits for a call in progress). It must not install or
// remove a filter itself, nor block.
#ifndef TURQUOISE_PROCESS_FILTER_HPP
#define TURQUOISE_PROCESS_FILTER_HPP

#include <turquoise/process/event.hpp>
#include <turquoise/process/message.hpp>
#include <turquoise/process/pid.hpp>

namespace turquoise {

struct DispatchEvent {
	UPID pid;        // the receiving process
	MethodId method; // the member function dispatched (empty for a lambda dispatch)

	// Is this a dispatch of `m` (e.g. &Counter::add)?
	template <class M>
	bool is(M m) const {
		return method == MethodId::of(m);
	}
};

class Filter {
public:
	virtual ~Filter() = default;
	// True: drop the dispatch (default: keep it). `process`: the receiving process (also
	// event.pid), as in libprocess's Filter::filter(const UPID&, const DispatchEvent&).
	virtual bool filter(const UPID & /*process*/, const DispatchEvent & /*event*/) { return false; }
	// True: drop the message (default: keep it).
	virtual bool filter(const UPID & /*process*/, const MessageEvent & /*event*/) { return false; }
};

// Install a filter (nullptr removes it). The filter must outlive its installation.
void filter(Filter *f);

} // namespace turquoise

#endif
