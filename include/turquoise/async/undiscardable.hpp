// turquoise/async/undiscardable.hpp — undiscardable(future), after libprocess: a future that
// completes as `future` does (value, failure, discard, abandonment) but does not pass a
// discard requested on it on to `future`. For handing a future to code that may discard it
// when the work behind it must finish anyway.
#ifndef TURQUOISE_ASYNC_UNDISCARDABLE_HPP
#define TURQUOISE_ASYNC_UNDISCARDABLE_HPP

#include <turquoise/async/future.hpp>

#include <memory>

namespace turquoise {

template <class T>
Future<T> undiscardable(const Future<T> &future) {
	if (!future.isPending())
		return future; // nothing left to discard
	std::shared_ptr<Promise<T>> promise;
	{
		detail::critical c;
		promise = std::make_shared<Promise<T>>();
	}
	Future<T> out = promise->future();
	// Both callbacks hold the promise: once `future` completes or is abandoned they are
	// dropped, and with them the promise (abandoning `out` in the second case).
	future.onAny([promise](const Future<T> &in) {
		if (in.isReady())
			promise->set(in.get());
		else if (in.isFailed())
			promise->fail(in.failure());
		else
			promise->discard();
	});
	future.onAbandoned([promise] {});
	return out;
}

} // namespace turquoise

#endif
