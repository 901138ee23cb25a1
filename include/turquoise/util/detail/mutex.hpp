// turquoise/util/detail/mutex.hpp — internal: the member functions and shared data of Mutex
// (util/mutex.hpp, which includes this file at its end).
#ifndef TURQUOISE_UTIL_DETAIL_MUTEX_HPP
#define TURQUOISE_UTIL_DETAIL_MUTEX_HPP

#include <turquoise/guarded_lock.hpp>
#include <turquoise/util/detail/waiters.hpp>
#include <turquoise/util/mutex.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace turquoise {

struct Mutex::data {
	std::mutex mutex;
	bool locked = false;
	detail::waiters<Nothing> waiters;
};

inline Future<Nothing> Mutex::lock() {
	detail::critical c;
	Promise<Nothing> promise;
	Future<Nothing> future = promise.future();
	std::uint64_t id;
	{
		guarded_lock lock(data_->mutex);
		if (!data_->locked) {
			data_->locked = true;
			return Future<Nothing>(Nothing());
		}
		id = data_->waiters.push(std::move(promise));
	}
	detail::withdraw_on_discard(future, data_, id);
	return future;
}

inline void Mutex::unlock() {
	for (;;) {
		std::vector<Promise<Nothing>> next, withdrawn;
		{
			guarded_lock lock(data_->mutex);
			if (!data_->locked)
				return;
			if (!data_->waiters.pop(next, withdrawn))
				data_->locked = false; // nobody waits
			// else: stays locked, ownership passes to `next`
		}
		for (auto &p : withdrawn)
			p.discard();
		bool handed = next.empty() || next.front().set();
		detail::release(next);
		detail::release(withdrawn);
		if (handed)
			return;
	}
}

inline bool Mutex::locked() const {
	guarded_lock lock(data_->mutex);
	return data_->locked;
}

inline std::shared_ptr<Mutex::data> Mutex::make_data() {
	detail::critical c;
	return std::make_shared<data>();
}

} // namespace turquoise

#endif
