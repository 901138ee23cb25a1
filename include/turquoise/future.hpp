// turquoise/future.hpp — the pool's result type: a minimal thread-safe future/promise pair.
//
// Deliberately small (ready/wait/get/then); the libprocess-style Future of the actor layer
// builds on the same shared-state shape and can take its place in pool::submit.
#ifndef TURQUOISE_FUTURE_HPP
#define TURQUOISE_FUTURE_HPP

#include <turquoise/function.hpp>
#include <turquoise/guarded_lock.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace turquoise {

// Thrown by get() when the promise was destroyed unfulfilled (e.g. its task was cancelled
// by pool::shutdown(cancel), or overflowed its stack).
class broken_promise : public std::runtime_error {
public:
	broken_promise() : std::runtime_error("turquoise: promise destroyed without a value") {}
};

namespace detail {

template <class T>
struct shared_state {
	using value_type = std::conditional_t<std::is_void_v<T>, bool, T>;
	std::mutex mutex;
	std::condition_variable cv;
	std::optional<value_type> value;
	std::exception_ptr error;
	bool done = false;
	std::vector<unique_function<void()>> callbacks;

	// Publish the outcome once; run the callbacks outside the lock.
	template <class Set>
	bool complete(Set &&set) {
		std::vector<unique_function<void()>> run;
		{
			guarded_lock lock(mutex);
			if (done)
				return false;
			set();
			done = true;
			run.swap(callbacks);
		}
		cv.notify_all();
		for (auto &cb : run) {
			// An exception from a callback has nowhere to go (this may run in ~promise).
			try {
				cb();
			} catch (const std::exception &e) {
				std::fprintf(stderr, "turquoise: exception escaped a future callback: %s\n", e.what());
			} catch (...) {
				std::fputs("turquoise: exception escaped a future callback\n", stderr);
			}
		}
		return true;
	}
	void on_done(unique_function<void()> cb) {
		{
			guarded_lock lock(mutex);
			if (!done) {
				callbacks.push_back(std::move(cb));
				return;
			}
		}
		cb();
	}
};

} // namespace detail

template <class T>
class future;

template <class T>
class promise {
public:
	promise() : state_(std::make_shared<detail::shared_state<T>>()) {}
	promise(promise &&other) noexcept
	    : state_(std::move(other.state_)), satisfied_(other.satisfied_) {}
	promise &operator=(promise &&other) noexcept {
		if (this == &other)
			return *this;
		abandon();
		state_ = std::move(other.state_);
		satisfied_ = other.satisfied_;
		return *this;
	}
	~promise() { abandon(); }

	future<T> get_future() { return future<T>(state_); }

	template <class... V>
	void set_value(V &&...v) {
		satisfied_ = true;
		state_->complete([&] {
			if constexpr (std::is_void_v<T>)
				state_->value.emplace(true);
			else
				state_->value.emplace(std::forward<V>(v)...);
		});
	}
	void set_exception(std::exception_ptr e) {
		satisfied_ = true;
		state_->complete([&] { state_->error = std::move(e); });
	}

private:
	void abandon() {
		if (state_ && !satisfied_)
			set_exception(std::make_exception_ptr(broken_promise()));
	}
	std::shared_ptr<detail::shared_state<T>> state_;
	bool satisfied_ = false;
};

template <class T>
class future {
public:
	future() = default;

	// False once get() has taken the result (or for a default-constructed future); the other
	// members then throw std::logic_error.
	bool valid() const noexcept { return state_ != nullptr; }
	bool ready() const {
		require_state();
		guarded_lock lock(state_->mutex);
		return state_->done;
	}
	// Blocking waits are for threads outside the pool (and tests): inside a task, use
	// on_ready() instead of blocking a worker.
	void wait() const {
		require_state();
		guarded_lock lock(state_->mutex);
		state_->cv.wait(lock.get(), [&] { return state_->done; });
	}
	template <class Rep, class Period>
	bool wait_for(std::chrono::duration<Rep, Period> d) const {
		require_state();
		guarded_lock lock(state_->mutex);
		return state_->cv.wait_for(lock.get(), d, [&] { return state_->done; });
	}
	// Blocks until ready; returns the value or rethrows. Call once.
	T get() {
		wait();
		auto state = std::move(state_);
		if (state->error)
			std::rethrow_exception(state->error);
		if constexpr (!std::is_void_v<T>)
			return std::move(*state->value);
	}
	// Run f(future) when ready, on the thread that completes it (or now, if ready).
	void on_ready(unique_function<void(future<T>)> f) {
		require_state();
		auto state = state_;
		state->on_done([state, f = std::move(f)]() mutable { f(future<T>(state)); });
	}

private:
	friend class promise<T>;
	explicit future(std::shared_ptr<detail::shared_state<T>> s) : state_(std::move(s)) {}
	void require_state() const {
		if (!state_)
			throw std::logic_error("turquoise: future without a state (default or already got)");
	}
	std::shared_ptr<detail::shared_state<T>> state_;
};

} // namespace turquoise

#endif
