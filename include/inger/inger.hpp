// inger/inger.hpp — preemptible functions, C++ API.
//
//   auto f = inger::launch([] { return expensive(); }, 1ms);
//   while (!f.done()) f.resume(1ms);   // or f.cancel(), or just let f go out of scope
//   int v = f.get();                    // the value, or the exception the callable threw
//
// Built on the C API in <libinger.h>; the same rules hold (a handle belongs to its thread,
// nested launches never outlive the outer deadline). Errors are thrown as inger::error.
//
// Errors thrown:
//   inger::error (a std::system_error in inger::category()) with an inger::errc value:
//     launch  — out_of_memory, signal_handler, system, stack_overflow
//     resume  — not_live (moved-from or finished handle), running, signal_handler, system,
//               stack_overflow (the callable overflowed its stack; the handle is then dead),
//               abandoned (the callable longjmp'ed out of its stack; the handle is then dead),
//               corrupted (its stack was overwritten from outside; the handle is then dead)
//     cancel  — not_live, running, abandoned, corrupted
//     get     — not_complete (still paused), not_live (moved-from, cancelled, or value taken),
//               stack_overflow; otherwise rethrows whatever the callable threw.
//   std::invalid_argument — a negative budget.
#ifndef INGER_INGER_HPP
#define INGER_INGER_HPP

#include <libinger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

namespace inger {

// Mirrors enum linger_error (same values), plus the C++-only conditions.
enum class errc {
	null_function = LINGER_ENULLFN,
	null_handle = LINGER_ENULLHANDLE,
	completed = LINGER_ECOMPLETED,
	cancelled = LINGER_ECANCELLED,
	foreign = LINGER_EFOREIGN,
	running = LINGER_ERUNNING,
	out_of_memory = LINGER_ENOMEM,
	signal_handler = LINGER_ESIGNAL,
	stack_overflow = LINGER_ESTACKOVERFLOW,
	system = LINGER_ESYSTEM,
	abandoned = LINGER_EABANDONED,
	corrupted = LINGER_ECORRUPTED,
	not_complete = 100, // get() on a function that has not returned yet
	not_live = 101,     // the handle is empty: moved from, cancelled, or its value taken
};

const std::error_category &category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

class error : public std::system_error {
public:
	explicit error(errc e) : std::system_error(make_error_code(e)) {}
	errc code_value() const noexcept { return static_cast<errc>(code().value()); }
};

// A budget that never expires: the callable runs to completion.
inline constexpr std::chrono::microseconds unlimited = std::chrono::microseconds::max();

// The out-of-line entry points this header's templates call: exported by libinger.so, unlike
// everything named detail (tests/abi checks that no detail or internal symbol is exported).
namespace abi {
[[noreturn]] void throw_error(int linger_error);
} // namespace abi

namespace detail {

template <class Rep, class Period>
std::uint64_t to_timeout_us(std::chrono::duration<Rep, Period> budget) {
	if (budget < std::chrono::duration<Rep, Period>::zero())
		throw std::invalid_argument("inger: negative time budget");
	if constexpr (std::is_floating_point_v<Rep>) {
		if (budget >= std::chrono::duration<double, std::micro>(18e18))
			return LINGER_UNLIMITED;
	}
	auto us = std::chrono::ceil<std::chrono::microseconds>(budget);
	if (us == unlimited)
		return LINGER_UNLIMITED;
	return static_cast<std::uint64_t>(us.count());
}

// Where a callable's outcome lands: written on the preemptible function's stack, read by get().
template <class T>
struct outcome {
	std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
	std::exception_ptr exception;
};

template <class F, class T>
struct frame {
	F callable;
	outcome<T> result;

	// The C entry point: runs on the preemptible function's own stack. Exceptions stop here,
	// before they could reach the stack's bottom, and travel to the caller via get(); only
	// the forced unwind of a cancel (linger_cancel_unwind) goes through, to the stack's end.
	// (Not noexcept: a forced unwind cannot cross a noexcept frame.)
	static void body(void *self) {
		auto *me = static_cast<frame *>(self);
		try {
			if constexpr (std::is_void_v<T>) {
				std::invoke(me->callable);
				me->result.value.emplace(true);
			} else {
				me->result.value.emplace(std::invoke(me->callable));
			}
		} catch (...) {
			// Not a C++ exception (no exception_ptr): the forced unwind of a cancel. (Not
			// catch (abi::__forced_unwind &): it binds a reference to no object.)
			std::exception_ptr e = std::current_exception();
			if (!e)
				throw;
			me->result.exception = e;
		}
	}
};

} // namespace detail

// A handle on one preemptible call of a callable returning T. Move-only; destroying a handle
// whose function has not returned cancels it, unwinding its stack: the destructors of the
// objects on it run (see linger_cancel_unwind() in <libinger.h> for the exact rules, and for
// what a catch (...) that does not rethrow does).
template <class T>
class preemptible {
public:
	preemptible() = default;
	preemptible(preemptible &&other) noexcept
	    : handle_(other.handle_), frame_(std::move(other.frame_)), result_(other.result_),
	      live_(std::exchange(other.live_, false)) {}
	preemptible &operator=(preemptible &&other) noexcept {
		if (this != &other) {
			discard();
			handle_ = other.handle_;
			frame_ = std::move(other.frame_);
			result_ = other.result_;
			live_ = std::exchange(other.live_, false);
		}
		return *this;
	}
	preemptible(const preemptible &) = delete;
	preemptible &operator=(const preemptible &) = delete;
	~preemptible() { discard(); }

	// True once the callable has returned or thrown (get() will not throw not_complete).
	bool done() const noexcept { return live_ && handle_.is_complete; }

	// True while the handle names a function (not moved from, cancelled, or consumed by get()).
	bool valid() const noexcept { return live_; }

	// Continue for up to `budget`; returns done().
	template <class Rep, class Period>
	bool resume(std::chrono::duration<Rep, Period> budget) {
		require_live();
		if (handle_.is_complete)
			return true;
		std::uint64_t timeout = detail::to_timeout_us(budget);
		::resume(&handle_, timeout);
		if (handle_.error != LINGER_OK) {
			if (handle_.error == LINGER_ESTACKOVERFLOW || handle_.error == LINGER_EABANDONED ||
			    handle_.error == LINGER_ECORRUPTED)
				live_ = false, frame_.reset();
			abi::throw_error(handle_.error);
		}
		return handle_.is_complete;
	}

	// Discard an unfinished function, unwinding its stack (its destructors run). A no-op on a
	// finished one.
	void cancel() {
		require_live();
		if (!handle_.is_complete) {
			::linger_cancel_unwind(&handle_);
			if (handle_.error != LINGER_OK)
				abi::throw_error(handle_.error);
		}
		live_ = false;
		frame_.reset();
	}

	// The callable's value (moved out: call once), or its exception rethrown.
	T get() {
		require_live();
		if (!handle_.is_complete)
			throw error(errc::not_complete);
		live_ = false;
		std::unique_ptr<void, void (*)(void *)> frame = std::move(frame_);
		if (result_->exception)
			std::rethrow_exception(result_->exception);
		if constexpr (!std::is_void_v<T>)
			return std::move(*result_->value);
	}

	// The underlying C handle (for diagnostics).
	const linger_t &handle() const noexcept { return handle_; }

private:
	template <class F, class Rep, class Period>
	friend auto launch(F &&callable, std::chrono::duration<Rep, Period> budget)
	    -> preemptible<std::invoke_result_t<std::decay_t<F> &>>;

	void require_live() const {
		if (!live_)
			throw error(errc::not_live);
	}

	void discard() noexcept {
		if (live_ && !handle_.is_complete)
			::linger_cancel_unwind(&handle_); // errors (abandoned, corrupted) leave nothing to do
		live_ = false;
		frame_.reset();
	}

	linger_t handle_{};
	// Type-erased owner of the frame (callable + outcome), which must outlive the function.
	std::unique_ptr<void, void (*)(void *)> frame_{nullptr, [](void *) {}};
	detail::outcome<T> *result_ = nullptr;
	bool live_ = false;
};

// Run callable() as a preemptible function with the given budget (inger::unlimited: no timer;
// zero: set up only, start it with resume()). Returns its handle; check done().
template <class F, class Rep, class Period>
auto launch(F &&callable, std::chrono::duration<Rep, Period> budget)
    -> preemptible<std::invoke_result_t<std::decay_t<F> &>> {
	using T = std::invoke_result_t<std::decay_t<F> &>;
	using frame_t = detail::frame<std::decay_t<F>, T>;
	std::uint64_t timeout = detail::to_timeout_us(budget);

	auto *frame = new frame_t{std::forward<F>(callable), {}};
	preemptible<T> handle;
	handle.frame_ = std::unique_ptr<void, void (*)(void *)>(
	    frame, [](void *p) { delete static_cast<frame_t *>(p); });
	handle.result_ = &frame->result;
	handle.handle_ = ::launch(&frame_t::body, timeout, frame);
	if (handle.handle_.error != LINGER_OK)
		abi::throw_error(handle.handle_.error); // the frame is freed with `handle`
	handle.live_ = true;
	return handle;
}

// Scoped critical section: the current preemptible function is not preempted while it lives;
// a preemption that fell due meanwhile is taken when the outermost one is destroyed.
class critical_section {
public:
	// Inline: a section is an increment and a decrement of the running function's depth
	// (see linger_critical_now), which the tasks and futures of libturquoise take many times
	// per message. The signal fences keep the compiler from moving the section's memory
	// accesses across them: the timer handler runs on this very thread.
	critical_section() noexcept {
		if (linger_critical_state *c = linger_critical_now) {
			c->depth++;
			std::atomic_signal_fence(std::memory_order_seq_cst);
		}
	}
	// noexcept(false): the preemption taken here may be cancelled with unwinding
	// (linger_cancel_unwind), whose forced unwind must pass through this frame.
	~critical_section() noexcept(false) {
		std::atomic_signal_fence(std::memory_order_seq_cst);
		linger_critical_state *c = linger_critical_now;
		if (c && c->depth > 0 && --c->depth == 0 && __builtin_expect(c->yield_pending, 0))
			linger_critical_yield();
	}
	critical_section(const critical_section &) = delete;
	critical_section &operator=(const critical_section &) = delete;
};

// Inside a preemptible function: give control back to the caller now. Not noexcept: a
// cancel with unwinding (the handle's cancel() or destructor) unwinds from here.
inline void pause() { linger_pause(); }

// True inside a preemptible function.
inline bool in_preemptible() noexcept { return linger_in_function(); }

} // namespace inger

template <>
struct std::is_error_code_enum<inger::errc> : std::true_type {};

#endif
