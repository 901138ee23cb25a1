// turquoise/util/detail/waiters.hpp — internal: the FIFO of waiting promises shared by Queue,
// Mutex and Pipe, with withdrawal of waiters whose future got a discard request.
//
// All members are called under the owner's lock (a guarded_lock); promises taken out are
// completed by the caller after unlocking, then freed with release() (inside a critical
// section: allocator calls must not be preempted).
#ifndef TURQUOISE_UTIL_DETAIL_WAITERS_HPP
#define TURQUOISE_UTIL_DETAIL_WAITERS_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/guarded_lock.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

namespace turquoise::detail {

template <class T>
class waiters {
public:
	std::uint64_t push(Promise<T> p) {
		std::uint64_t id = next_id_++;
		list_.emplace_back(id, std::move(p));
		return id;
	}
	bool empty() const { return list_.empty(); }

	// Move the oldest waiter without a discard request to `out` (true), and the withdrawn
	// ones met on the way to `withdrawn` (their onDiscard callback may not have run yet).
	bool pop(std::vector<Promise<T>> &out, std::vector<Promise<T>> &withdrawn) {
		while (!list_.empty()) {
			Promise<T> p = std::move(list_.front().second);
			list_.pop_front();
			if (p.future().hasDiscard()) {
				withdrawn.push_back(std::move(p));
				continue;
			}
			out.push_back(std::move(p));
			return true;
		}
		return false;
	}

	// Move the waiter `id` to `out`; false if it is gone (served, or withdrawn already).
	bool take(std::uint64_t id, std::vector<Promise<T>> &out) {
		for (auto it = list_.begin(); it != list_.end(); ++it)
			if (it->first == id) {
				out.push_back(std::move(it->second));
				list_.erase(it);
				return true;
			}
		return false;
	}

	void take_all(std::vector<Promise<T>> &out) {
		for (auto &w : list_)
			out.push_back(std::move(w.second));
		list_.clear();
	}

private:
	std::deque<std::pair<std::uint64_t, Promise<T>>> list_;
	std::uint64_t next_id_ = 0;
};

template <class T>
void release(std::vector<T> &v) {
	critical c;
	std::vector<T>().swap(v);
}

// Register on `future` (of waiter `id` in data->waiters, guarded by data->mutex): a discard
// request withdraws the waiter and discards its future.
template <class T, class Data>
void withdraw_on_discard(const Future<T> &future, const std::shared_ptr<Data> &data,
                         std::uint64_t id) {
	future.onDiscard([weak = std::weak_ptr<Data>(data), id] {
		auto d = weak.lock();
		if (!d)
			return;
		std::vector<Promise<T>> withdrawn;
		{
			guarded_lock lock(d->mutex);
			d->waiters.take(id, withdrawn);
		}
		for (auto &p : withdrawn)
			p.discard();
		release(withdrawn);
	});
}

} // namespace turquoise::detail

#endif
