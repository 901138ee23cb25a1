// turquoise/async/future.hpp — libprocess-style Future<T> and Promise<T>.
//
// A Future is a shared handle on a result that is pending, then exactly one of ready (a
// value), failed (a message) or discarded. A Promise completes it. Separately from its state
// a future can carry a discard *request* (Future::discard(), hasDiscard()): the producer sees
// it through onDiscard() and may honour it by Promise::discard(), or ignore it.
//
// Callbacks (onReady/onFailed/onDiscarded/onAny) run exactly once: immediately on the
// registering thread if the future is already in that state, otherwise on the thread that
// completes it, in registration order, after the state is published. onDiscard callbacks run
// on the thread that first requests the discard (immediately if it was already requested).
// Callbacks must not throw (an escaping exception terminates); callables given to then/
// repair/recover/after may throw: the exception becomes a failure (FutureDiscarded thrown
// from them becomes a discard).
//
// Abandonment: when the last Promise of a pending future is destroyed (and the promise was
// not associated with another future), the future is abandoned: it stays pending for ever,
// isAbandoned() is true, onAny-style callbacks are dropped (this abandons the futures of
// then() chains hanging off it), onAbandoned callbacks and recover() run, get() throws
// FutureAbandoned. A default-constructed Future is abandoned.
//
// Thread safety: all members may be called concurrently from any thread. A future's shared
// state is one atomic word (phase and flags, with a spin-lock bit over the callback list, only
// ever held in a libinger critical section), and the layer's own bookkeeping runs in libinger
// critical sections; user callbacks run outside them, so they can be preempted. Blocked
// get()/await() calls sleep on the word (futex), and only they pay for the wake-up.
#ifndef TURQUOISE_ASYNC_FUTURE_HPP
#define TURQUOISE_ASYNC_FUTURE_HPP

#include <turquoise/async/failure.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/async/option.hpp>
#include <turquoise/function.hpp>
#include <turquoise/guarded_lock.hpp>
#include <turquoise/small_alloc.hpp>

#include <inger/inger.hpp>
#include <libinger.h>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace turquoise {

template <class T>
class Future;
template <class T>
class Promise;
template <class T>
class WeakFuture;

// turquoise::abi: out-of-line entry points of the headers' templates (see small_alloc.hpp).
namespace abi {
// Sleep while `word` == expected, until a wake-up or the absolute CLOCK_MONOTONIC deadline
// (null: none); false if the deadline passed.
bool futex_wait(std::atomic<std::uint32_t> &word, std::uint32_t expected,
                const timespec *deadline) noexcept;
void futex_wake_all(std::atomic<std::uint32_t> &word) noexcept;
// now + ns on CLOCK_MONOTONIC (std::chrono::steady_clock on Linux), as a futex deadline.
timespec monotonic_deadline(std::int64_t ns) noexcept;
} // namespace abi

namespace detail {

// Scoped libinger critical section for the layer's own bookkeeping (allocations included).
using critical = inger::critical_section; // inline (see inger/inger.hpp)

template <class T>
struct is_future : std::false_type {};
template <class T>
struct is_future<Future<T>> : std::true_type {};
template <class T>
inline constexpr bool is_future_v = is_future<std::decay_t<T>>::value;

template <class R>
struct unwrap_future {
	using type = R;
};
template <class T>
struct unwrap_future<Future<T>> {
	using type = T;
};
// The value type of the future made from a callback's result: void -> Nothing, Future<U> -> U.
template <class R>
using future_value_t =
    std::conditional_t<std::is_void_v<R>, Nothing, typename unwrap_future<std::decay_t<R>>::type>;

// Run a layer-internal callback; an exception escaping one is a bug, as in a posted task.
template <class F, class... A>
void run_callback(F &f, A &&...a) noexcept {
	try {
		f(std::forward<A>(a)...);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "turquoise: exception escaped a Future callback: %s\n", e.what());
		std::terminate();
	} catch (...) {
		std::fputs("turquoise: exception escaped a Future callback\n", stderr);
		std::terminate();
	}
}

// Complete `sink` (a Promise<U>, or anything with its set/associate/fail/discard) with the
// outcome of thunk(): its value (void: Nothing), the future it returned (followed), or the
// exception it threw: FutureDiscarded discards, any other fails with its what(). The one
// place where an exception becomes a future's outcome (then, from_call, dispatch, async,
// pool::submit, coroutines).
template <class Sink, class Thunk>
void complete_from(Sink &sink, Thunk &&thunk) noexcept {
	using R = std::invoke_result_t<Thunk &>;
	try {
		if constexpr (std::is_void_v<R>) {
			thunk();
			sink.set(Nothing());
		} else if constexpr (is_future_v<R>) {
			sink.associate(thunk());
		} else {
			sink.set(thunk());
		}
	} catch (const FutureDiscarded &) {
		sink.discard();
	} catch (const std::exception &e) {
		sink.fail(e.what());
	} catch (...) {
		sink.fail("unknown exception");
	}
}

enum class phase : std::uint32_t { pending, ready, failed, discarded };

// Promise(adopt_state, s): a promise of a state the caller allocated (within a larger block,
// through the shared_ptr aliasing constructor); internal.
struct adopt_state_t {
	explicit adopt_state_t() = default;
};
inline constexpr adopt_state_t adopt_state{};

// A state's flags, all in one 32-bit word: the fast paths (is it pending? may I complete
// it?) are one load or one compare-exchange, and blocked get()/await() calls sleep on the
// word itself (futex), so a state needs no mutex or condition variable.
namespace bits {
inline constexpr std::uint32_t phase_mask = 3;             // a detail::phase
inline constexpr std::uint32_t discard_requested = 1u << 2; // Future::discard() was called
inline constexpr std::uint32_t abandoned = 1u << 3;         // no promise can complete it any more
inline constexpr std::uint32_t associated = 1u << 4;        // completed only through associate()
inline constexpr std::uint32_t waiters = 1u << 5;           // a thread may sleep on the word
// A spin lock over the callback list and the outcome while it is stored. It is taken only in
// a libinger critical section and held for a few instructions (no allocation, no user code),
// so a thread spinning on it waits for another running thread, never for a task preempted
// on its own worker. While it is held only the holder changes the word (everyone else
// compare-exchanges from an unlocked value), so unlocking is a plain store.
inline constexpr std::uint32_t locked = 1u << 6;
} // namespace bits

inline phase phase_of(std::uint32_t w) noexcept { return static_cast<phase>(w & bits::phase_mask); }
// get()/await() stop waiting: the future is no longer pending, or never will be.
inline bool settled(std::uint32_t w) noexcept {
	return (w & bits::phase_mask) != 0 || (w & bits::abandoned) != 0;
}

// Back off while another thread holds a word lock: pause first; if the holder is descheduled
// (the lock is only ever held for a few instructions), let it run.
inline void spin_pause(unsigned &spins) noexcept {
	if (++spins < 64)
		__builtin_ia32_pause();
	else
		sched_yield();
}

// Futex calls, out of line (libturquoise/async/futex.cpp): only blocked waits and the
// wake-ups they ask for (bits::waiters) reach them.
using abi::futex_wait;
using abi::futex_wake_all;
using abi::monotonic_deadline;

// A registered callback: one node of the state's intrusive list, tagged by the event it
// waits for. One list (rather than one container per kind) keeps a state small; it is
// short, so discard() walking it for its kind costs little.
enum class kind : unsigned char { any, discard, abandoned };

template <class T>
struct callback {
	// Registered on one thread, run and freed on whichever completes the future: see
	// small_alloc.hpp. (Sized delete through the virtual destructor: the right class.)
	static void *operator new(std::size_t bytes) { return allocate_small(bytes); }
	static void operator delete(void *p, std::size_t bytes) noexcept { free_small(p, bytes); }

	explicit callback(kind k) noexcept : which(k) {}
	callback(const callback &) = delete;
	callback &operator=(const callback &) = delete;
	virtual ~callback() = default;
	// f: the completed future (kind::any); the others ignore it.
	virtual void run(const Future<T> *f) noexcept = 0;

	callback *next = nullptr;
	const kind which;
};

template <class T, kind K, class F>
struct callback_of final : callback<T> {
	template <class G>
	explicit callback_of(G &&g) : callback<T>(K), fn(std::forward<G>(g)) {}
	void run(const Future<T> *f) noexcept override {
		if constexpr (K == kind::any && std::is_invocable_v<F &, const Future<T> &>)
			run_callback(fn, *f);
		else
			run_callback(fn);
	}
	F fn;
};

// Free a detached list (the layer's frees run in critical sections, as its allocations do).
template <class T>
void destroy_all(callback<T> *n) noexcept {
	critical c;
	while (n) {
		callback<T> *next = n->next;
		delete n;
		n = next;
	}
}

// A list is kept newest first (a push is two stores under the lock); this turns a detached
// one into registration order.
template <class T>
callback<T> *reversed(callback<T> *n) noexcept {
	callback<T> *out = nullptr;
	while (n) {
		callback<T> *next = n->next;
		n->next = out;
		out = n;
		n = next;
	}
	return out;
}

template <class T>
struct state {
	state() noexcept {}
	state(const state &) = delete;
	state &operator=(const state &) = delete;
	~state() {
		// Callbacks left here belong to a state nobody can complete (associated with itself,
		// say); the others were detached when it completed or was abandoned.
		if (callbacks)
			destroy_all(callbacks);
		switch (phase_of(word.load(std::memory_order_acquire))) {
		case phase::ready:
			value.~T();
			break;
		case phase::failed:
			delete message;
			break;
		default:
			break;
		}
	}

	// Take the lock; returns the word as it was (unlocked). Call in a critical section.
	std::uint32_t lock() noexcept {
		unsigned spins = 0;
		std::uint32_t w = word.load(std::memory_order_relaxed);
		for (;;) {
			if (w & bits::locked) {
				spin_pause(spins);
				w = word.load(std::memory_order_relaxed);
			} else if (word.compare_exchange_weak(w, w | bits::locked, std::memory_order_acquire,
			                                      std::memory_order_relaxed)) {
				return w;
			}
		}
	}
	// Store w (without the lock bit) and release the lock.
	void unlock(std::uint32_t w) noexcept {
		word.store(w & ~bits::locked, std::memory_order_release);
	}

	std::atomic<std::uint32_t> word{0};
	callback<T> *callbacks = nullptr; // newest first; guarded by bits::locked
	// The outcome, written under the lock before the phase leaves pending (and never again):
	// ready: value; failed: message, out of line because failures are rare and a string is
	// large.
	union {
		T value;
		std::string *message;
	};
};

// The state's lock in a critical section; released (with the word as it was) on scope exit
// unless unlock(w) released it with a new word.
template <class T>
class word_lock {
public:
	explicit word_lock(state<T> &s) noexcept : s_(s), w_(s.lock()) {}
	word_lock(const word_lock &) = delete;
	word_lock &operator=(const word_lock &) = delete;
	~word_lock() {
		if (held_)
			s_.unlock(w_);
	}
	std::uint32_t word() const noexcept { return w_; }
	void unlock(std::uint32_t w) noexcept {
		held_ = false;
		s_.unlock(w);
	}

private:
	critical no_preemption_; // first: the lock is released before the section ends
	state<T> &s_;
	std::uint32_t w_;
	bool held_ = true;
};

// Block until the state settles or the deadline passes; returns the last word seen. The
// waiter announces itself with bits::waiters, so completing a future nobody waits on costs no
// system call.
// Before it sleeps, a waiter outside any preemptible function watches the word for a short
// while, yielding its CPU between looks: a request that a pool worker answers within
// microseconds (the usual blocking dispatch) then costs no futex wake-up on either side, and
// a scheduler wake-up on this VM takes longer than the answer. Inside a preemptible function
// the wait sleeps at once (a spin there would burn the task's quantum).
inline constexpr std::chrono::microseconds wait_spin{20};

template <class T>
std::uint32_t wait(state<T> &s, const timespec *deadline) noexcept {
	unsigned spins = 0;
	std::uint32_t w = s.word.load(std::memory_order_acquire);
	if (!settled(w) && !linger_in_function()) {
		auto until = std::chrono::steady_clock::now() + wait_spin;
		if (deadline) { // (steady_clock is CLOCK_MONOTONIC, the deadline's clock)
			auto limit = std::chrono::steady_clock::time_point(
			    std::chrono::seconds(deadline->tv_sec) + std::chrono::nanoseconds(deadline->tv_nsec));
			until = std::min(until, limit);
		}
		for (unsigned i = 1; !settled(w); ++i) {
			if (i % 32 == 0) {
				if (std::chrono::steady_clock::now() >= until)
					break;
				sched_yield();
			}
			__builtin_ia32_pause();
			w = s.word.load(std::memory_order_acquire);
		}
	}
	while (!settled(w)) {
		if (w & bits::locked) { // only the holder may change the word now
			spin_pause(spins);
			w = s.word.load(std::memory_order_acquire);
			continue;
		}
		if (!(w & bits::waiters)) {
			if (!s.word.compare_exchange_weak(w, w | bits::waiters, std::memory_order_acquire,
			                                  std::memory_order_acquire))
				continue;
			w |= bits::waiters;
		}
		// Whoever settles the state sees bits::waiters (it never clears) and wakes us; a
		// change in between makes the futex return at once.
		if (!futex_wait(s.word, w, deadline))
			return s.word.load(std::memory_order_acquire);
		w = s.word.load(std::memory_order_acquire);
	}
	return w;
}

template <class T, class... A>
void emplace_value(state<T> &s, A &&...a) {
	::new (const_cast<void *>(static_cast<const volatile void *>(std::addressof(s.value))))
	    T(std::forward<A>(a)...);
}

// What settle() took from the state it settled.
template <class T>
struct detached {
	callback<T> *list = nullptr;     // its callbacks, newest first
	std::shared_ptr<state<T>> keep;  // set if there are callbacks or waiters
};

// Under the state's lock: if it can still be settled (pending, not abandoned, and, if it is
// associated, only via_association), store() the outcome, set `bits_to_set` and detach the
// callbacks; then wake the waiters. False if the state could not be settled.
template <class T, class Store>
bool settle(const std::shared_ptr<state<T>> &s, std::uint32_t bits_to_set, Store &&store,
            bool via_association, detached<T> &out) {
	std::uint32_t w;
	{
		word_lock<T> lock(*s);
		w = lock.word();
		if (phase_of(w) != phase::pending || (w & bits::abandoned) ||
		    ((w & bits::associated) && !via_association))
			return false;
		store(*s); // if it throws (a value whose move can), the lock is released, still pending
		out.list = std::exchange(s->callbacks, nullptr);
		if (out.list || (w & bits::waiters))
			out.keep = s;
		lock.unlock(w | bits_to_set);
	}
	if (w & bits::waiters)
		futex_wake_all(out.keep->word);
	return true;
}

// Publish the outcome (once) and run the completion callbacks. `store` writes the outcome
// under the lock. `via_association`: the call comes from the future this state was
// associated with. The caller keeps `s` alive until the outcome is published (a waiter may
// then destroy the Promise that owned it): from there on only a copy taken under the lock is
// used, and only if someone waits or chained a callback.
template <class T, class Store>
bool complete(const std::shared_ptr<state<T>> &s, phase to, Store &&store, bool via_association) {
	detached<T> got;
	if (!settle(s, static_cast<std::uint32_t>(to), std::forward<Store>(store), via_association, got))
		return false;
	callback<T> *list = got.list;
	if (!list)
		return true; // nobody chained on it (a dropped dispatch future, say)
	// onDiscard/onAbandoned callbacks can no longer run: drop them first; then the onAny
	// callbacks, in registration order.
	callback<T> *run = nullptr, *drop = nullptr;
	while (list) { // newest first: pushing onto `run` restores registration order
		callback<T> *n = list;
		list = n->next;
		callback<T> *&to_list = n->which == kind::any ? run : drop;
		n->next = to_list;
		to_list = n;
	}
	destroy_all(drop);
	Future<T> self(std::move(got.keep));
	for (callback<T> *n = run; n; n = n->next)
		n->run(&self);
	destroy_all(run);
	return true;
}

// Complete with a value built from a: built before the lock is taken (when T moves without
// throwing), so the lock is held only to move it in.
template <class T, class... A>
bool complete_value(const std::shared_ptr<state<T>> &s, bool via_association, A &&...a) {
	critical c;
	if constexpr (std::is_nothrow_move_constructible_v<T>) {
		std::optional<T> v(std::in_place, std::forward<A>(a)...);
		return complete(
		    s, phase::ready, [&](state<T> &d) noexcept { emplace_value(d, std::move(*v)); },
		    via_association);
	} else {
		return complete(
		    s, phase::ready, [&](state<T> &d) { emplace_value(d, std::forward<A>(a)...); },
		    via_association);
	}
}

template <class T>
bool complete_failure(const std::shared_ptr<state<T>> &s, const std::string &message,
                      bool via_association) {
	critical c;
	std::unique_ptr<std::string> m(new std::string(message));
	return complete(
	    s, phase::failed, [&](state<T> &d) noexcept { d.message = m.release(); }, via_association);
}

template <class T>
void abandon(const std::shared_ptr<state<T>> &s, bool via_association) {
	detached<T> got;
	if (!settle(s, bits::abandoned, [](state<T> &) noexcept {}, via_association, got))
		return;
	callback<T> *list = reversed(got.list);
	for (callback<T> *n = list; n; n = n->next)
		if (n->which == kind::abandoned)
			n->run(nullptr);
	destroy_all(list); // onAny callbacks may own promises of chained futures: abandons them in turn
}

} // namespace detail

template <class T>
class Future {
	static_assert(!std::is_void_v<T>, "use Future<Nothing> instead of Future<void>");
	static_assert(!std::is_reference_v<T>, "Future<T&> is not supported");

public:
	using value_type = T;

	// An abandoned future: nothing will ever complete it.
	Future() : state_(make_state()) {
		state_->word.store(detail::bits::abandoned, std::memory_order_relaxed);
	}

	// A ready future.
	template <class U = T,
	          class = std::enable_if_t<std::is_convertible_v<U &&, T> &&
	                                   !std::is_same_v<std::decay_t<U>, Future> &&
	                                   !std::is_same_v<std::decay_t<U>, Failure>>>
	Future(U &&u) : state_(make_state()) {
		{
			detail::critical c;
			detail::emplace_value(*state_, std::forward<U>(u));
		}
		state_->word.store(static_cast<std::uint32_t>(detail::phase::ready), std::memory_order_release);
	}
	// A failed future.
	Future(const Failure &f) : state_(make_state()) {
		{
			detail::critical c;
			state_->message = new std::string(f.message);
		}
		state_->word.store(static_cast<std::uint32_t>(detail::phase::failed), std::memory_order_release);
	}

	// A discarded future.
	static Future discarded() {
		Future f(make_state());
		f.state_->word.store(static_cast<std::uint32_t>(detail::phase::discarded),
		                     std::memory_order_release);
		return f;
	}

	bool isPending() const { return phase_() == detail::phase::pending; }
	bool isReady() const { return phase_() == detail::phase::ready; }
	bool isFailed() const { return phase_() == detail::phase::failed; }
	bool isDiscarded() const { return phase_() == detail::phase::discarded; }
	bool isAbandoned() const { return (word_() & detail::bits::abandoned) != 0; }
	bool hasDiscard() const { return (word_() & detail::bits::discard_requested) != 0; }

	// Blocks until the future is no longer pending (or is abandoned). For threads outside the
	// pool and tests: in a task, chain with then()/onAny() or co_await instead.
	// Returns the value; throws FutureFailed / FutureDiscarded / FutureAbandoned.
	const T &get() const {
		std::uint32_t w = word_();
		if (!detail::settled(w))
			w = detail::wait(*state_, nullptr);
		switch (detail::phase_of(w)) {
		case detail::phase::ready:
			return state_->value;
		case detail::phase::failed:
			throw FutureFailed(*state_->message);
		case detail::phase::discarded:
			throw FutureDiscarded();
		default:
			throw FutureAbandoned();
		}
	}
	const T *operator->() const { return &get(); }

	// The failure message; std::logic_error unless failed.
	const std::string &failure() const {
		if (!isFailed())
			throw std::logic_error("Future::failure() on a future that has not failed");
		return *state_->message;
	}

	// Wait (real time) up to d for the future to leave pending; true if it did.
	template <class Rep, class Period>
	bool await(std::chrono::duration<Rep, Period> d) const {
		if (!detail::settled(word_()) && d > d.zero()) {
			// Beyond about 95 years the wait is unlimited in practice (and the nanosecond count
			// below could overflow).
			if (std::chrono::duration<double>(d).count() > 3e9) {
				detail::wait(*state_, nullptr);
			} else {
				timespec deadline = detail::monotonic_deadline(
				    std::chrono::ceil<std::chrono::nanoseconds>(d).count());
				detail::wait(*state_, &deadline);
			}
		}
		return !isPending();
	}
	// Wait without limit until no longer pending (false if abandoned).
	bool await() const {
		detail::wait(*state_, nullptr);
		return !isPending();
	}

	// Request a discard (once): runs the onDiscard callbacks. False if the future is no longer
	// pending or a discard was already requested.
	bool discard() const {
		detail::callback<T> *run = nullptr;
		{
			detail::word_lock<T> lock(*state_);
			std::uint32_t w = lock.word();
			if (detail::phase_of(w) != detail::phase::pending || (w & detail::bits::discard_requested))
				return false;
			// Unlink the onDiscard callbacks; the list is newest first, so pushing them onto
			// `run` restores registration order.
			for (detail::callback<T> **link = &state_->callbacks; *link;) {
				detail::callback<T> *n = *link;
				if (n->which == detail::kind::discard) {
					*link = n->next;
					n->next = run;
					run = n;
				} else {
					link = &n->next;
				}
			}
			lock.unlock(w | detail::bits::discard_requested);
		}
		for (detail::callback<T> *n = run; n; n = n->next)
			n->run(this);
		detail::destroy_all(run);
		return true;
	}

	// Callbacks. Each takes the argument shown or none.
	template <class F> // f(const T&)
	const Future &onReady(F &&f) const {
		return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
			if (fut.isReady())
				call_with_value(f, fut.state_->value);
		});
	}
	template <class F> // f(const std::string& message)
	const Future &onFailed(F &&f) const {
		return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
			if (fut.isFailed()) {
				if constexpr (std::is_invocable_v<F &, const std::string &>)
					f(*fut.state_->message);
				else
					f();
			}
		});
	}
	template <class F> // f()
	const Future &onDiscarded(F &&f) const {
		return onAny([f = std::forward<F>(f)](const Future &fut) mutable {
			if (fut.isDiscarded())
				f();
		});
	}
	template <class F> // f(const Future<T>&) or f()
	const Future &onAny(F &&f) const {
		return register_<detail::kind::any>(std::forward<F>(f), [](std::uint32_t w) {
			if (detail::phase_of(w) != detail::phase::pending)
				return run_now;
			return (w & detail::bits::abandoned) ? drop : keep;
		});
	}
	// f(): a discard was requested (runs now if it already was; never once completed).
	template <class F>
	const Future &onDiscard(F &&f) const {
		return register_<detail::kind::discard>(std::forward<F>(f), [](std::uint32_t w) {
			if (detail::phase_of(w) != detail::phase::pending)
				return drop;
			return (w & detail::bits::discard_requested) ? run_now : keep;
		});
	}
	// f(): the future was abandoned (runs now if it already was; never once completed).
	template <class F>
	const Future &onAbandoned(F &&f) const {
		return register_<detail::kind::abandoned>(std::forward<F>(f), [](std::uint32_t w) {
			if (detail::phase_of(w) != detail::phase::pending)
				return drop;
			return (w & detail::bits::abandoned) ? run_now : keep;
		});
	}

	// Composition. f takes const T& (or nothing) and returns U, Future<U> or void (Nothing).
	// Failure and discard pass through; a discard requested on the result is requested on
	// this future (and on the future f returned, once it did).
	template <class F>
	auto then(F &&f) const {
		using R = typename call_result<std::decay_t<F>>::type;
		using U = detail::future_value_t<R>;
		std::uint32_t w = word_();
		if (detail::phase_of(w) != detail::phase::pending) {
			// Completed: a plain call, no promise or callback (the result's discard requests
			// need not reach this future, which can no longer honour them).
			if (detail::phase_of(w) == detail::phase::failed)
				return Future<U>(Failure(*state_->message));
			if (detail::phase_of(w) == detail::phase::discarded || (w & detail::bits::discard_requested))
				return Future<U>::discarded();
			if constexpr (std::is_lvalue_reference_v<F>) { // call a copy, as a chained f would be
				std::decay_t<F> g(f);
				return call_future(g, state_->value);
			} else {
				return call_future(f, state_->value);
			}
		}
		Promise<U> promise;
		Future<U> out = promise.future();
		out.onDiscard(discard_upstream());
		onAny([f = std::forward<F>(f), promise = std::move(promise)](const Future &in) mutable {
			std::uint32_t w = in.word_();
			if (detail::phase_of(w) == detail::phase::ready) {
				if (w & detail::bits::discard_requested)
					promise.discard();
				else
					settle(promise, f, in.state_->value);
			} else if (detail::phase_of(w) == detail::phase::failed) {
				promise.fail(*in.state_->message);
			} else {
				promise.discard();
			}
		});
		return out;
	}

	// If this future fails, f(future) (returning T or Future<T>) supplies the result.
	template <class F>
	Future repair(F &&f) const {
		Promise<T> promise;
		Future out = promise.future();
		out.onDiscard(discard_upstream());
		onAny([f = std::forward<F>(f), promise = std::move(promise)](const Future &in) mutable {
			if (in.isFailed())
				promise.associate(to_future(f, in));
			else
				promise.associate(in);
		});
		return out;
	}

	// If this future fails, is discarded or is abandoned, f(future) (returning T or
	// Future<T>) supplies the result.
	template <class F>
	Future recover(F &&f) const {
		struct shared {
			explicit shared(std::decay_t<F> g) : fn(std::move(g)) {}
			Promise<T> promise;
			std::decay_t<F> fn;
		};
		detail::critical c;
		auto sh = std::make_shared<shared>(std::decay_t<F>(std::forward<F>(f)));
		Future out = sh->promise.future();
		out.onDiscard(discard_upstream());
		onAny([sh](const Future &in) {
			if (in.isReady())
				sh->promise.associate(in);
			else
				sh->promise.associate(to_future(sh->fn, in));
		});
		onAbandoned([sh, w = WeakFuture<T>(*this)] {
			auto self = w.get();
			sh->promise.associate(to_future(sh->fn, self.isSome() ? self.get() : Future()));
		});
		return out;
	}

	// If this future is still pending after d (on Clock), f(future) (returning T or
	// Future<T>; typically it discards the future and returns a Failure) supplies the result;
	// otherwise the result follows this future and the timer is cancelled. (Defined in
	// after.hpp, the one part of Future that needs the Clock.)
	template <class F>
	Future after(std::chrono::nanoseconds d, F &&f) const;

	friend bool operator==(const Future &a, const Future &b) { return a.state_ == b.state_; }
	friend bool operator<(const Future &a, const Future &b) { return a.state_ < b.state_; }
	std::size_t hash() const { return std::hash<const void *>()(state_.get()); }

private:
	template <class>
	friend class Future;
	template <class>
	friend class Promise;
	template <class>
	friend class WeakFuture;
	template <class U, class Store>
	friend bool detail::complete(const std::shared_ptr<detail::state<U>> &, detail::phase, Store &&,
	                             bool);

	using state_t = detail::state<T>;
	explicit Future(std::shared_ptr<state_t> s) : state_(std::move(s)) {}

	static std::shared_ptr<state_t> make_state() {
		detail::critical c;
		// Often freed on another thread than the one that made it (see small_alloc.hpp).
		return std::allocate_shared<state_t>(detail::small_allocator<state_t>());
	}

	std::uint32_t word_() const { return state_->word.load(std::memory_order_acquire); }
	detail::phase phase_() const { return detail::phase_of(word_()); }

	// f(const T&) or f().
	template <class F>
	struct call_result {
		using type = typename std::conditional_t<std::is_invocable_v<F &, const T &>,
		                                         std::invoke_result<F &, const T &>,
		                                         std::invoke_result<F &>>::type;
	};
	template <class F>
	static decltype(auto) call_with_value(F &f, const T &v) {
		if constexpr (std::is_invocable_v<F &, const T &>)
			return f(v);
		else
			return f();
	}
	template <class F>
	static auto call_future(F &f, const T &v) {
		return Future<detail::future_value_t<typename call_result<F>::type>>::from_call(
		    [&]() -> decltype(auto) { return call_with_value(f, v); });
	}
	// Complete p with f(v) (or f()): its value, or the future it returned; an exception fails
	// p (FutureDiscarded discards it). The value goes straight into p's state, with no
	// intermediate future.
	template <class U, class F>
	static void settle(Promise<U> &p, F &f, const T &v) noexcept {
		detail::complete_from(p, [&]() -> decltype(auto) { return call_with_value(f, v); });
	}
	// from_call()'s sink for detail::complete_from(): a completed Future, without a promise.
	struct outcome {
		std::optional<Future> result;
		template <class U>
		void set(U &&u) {
			result.emplace(std::forward<U>(u));
		}
		void associate(Future f) { result.emplace(std::move(f)); }
		void fail(const std::string &message) { result.emplace(Failure(message)); }
		void discard() { result.emplace(discarded()); }
	};
	// f(future) for repair/recover/after: its result as a Future<T>.
	template <class F>
	static Future to_future(F &f, const Future &in) {
		return from_call([&]() -> decltype(auto) { return f(in); });
	}

public:
	// Internal: the result of thunk() as a Future<T>; an exception becomes a failure.
	template <class Thunk>
	static Future from_call(Thunk &&thunk) noexcept {
		outcome out;
		detail::complete_from(out, thunk);
		return std::move(*out.result);
	}

private:
	// onDiscard callback for a derived future: request the discard here too.
	unique_function<void()> discard_upstream() const {
		detail::critical c;
		return [w = WeakFuture<T>(*this)] {
			auto up = w.get();
			if (up.isSome())
				up.get().discard();
		};
	}

	enum verdict { keep, run_now, drop };
	// Register f as a callback of kind K; decide(word) says whether it waits (keep), runs now
	// or never runs.
	template <detail::kind K, class F, class Decide>
	const Future &register_(F &&f, Decide decide) const {
		using D = std::decay_t<F>;
		verdict v = decide(word_());
		if (v == keep) {
			detail::callback<T> *n;
			{
				detail::critical c;
				n = new detail::callback_of<T, K, D>(std::forward<F>(f));
			}
			{
				detail::word_lock<T> lock(*state_);
				v = decide(lock.word());
				if (v == keep) {
					n->next = state_->callbacks;
					state_->callbacks = n;
					return *this;
				}
			}
			// Settled meanwhile.
			if (v == run_now)
				n->run(this);
			detail::destroy_all(n);
		} else if (v == run_now) {
			// Already settled: call it here, without a node.
			if constexpr (std::is_lvalue_reference_v<F>) { // call a copy, as a node would
				D g(f);
				run_now_(g);
			} else {
				run_now_(f);
			}
		} else {
			detail::critical c; // f's captures are freed here, as a node's would be
			D dead(std::forward<F>(f));
		}
		return *this;
	}
	template <class G>
	void run_now_(G &g) const {
		if constexpr (std::is_invocable_v<G &, const Future &>)
			detail::run_callback(g, *this);
		else
			detail::run_callback(g);
	}
	std::shared_ptr<state_t> state_;
};

// A non-owning handle: does not keep the state alive (breaks reference cycles).
template <class T>
class WeakFuture {
public:
	WeakFuture() = default;
	explicit WeakFuture(const Future<T> &f) : state_(f.state_) {}
	Option<Future<T>> get() const {
		if (auto s = state_.lock())
			return Future<T>(std::move(s));
		return None();
	}

private:
	std::weak_ptr<detail::state<T>> state_;
};

// Completes its future. Move-only; destroying the last Promise of a pending, non-associated
// future abandons it. set/fail/discard return false (and do nothing) if the future is no
// longer pending or the promise was associated.
template <class T>
class Promise {
public:
	Promise() : state_(Future<T>::make_state()) {}
	// Internal: complete the fresh state s (see detail::adopt_state_t).
	Promise(detail::adopt_state_t, std::shared_ptr<detail::state<T>> s) : state_(std::move(s)) {}
	Promise(Promise &&o) noexcept = default;
	Promise &operator=(Promise &&o) noexcept {
		if (this != &o) {
			release();
			state_ = std::move(o.state_);
		}
		return *this;
	}
	Promise(const Promise &) = delete;
	Promise &operator=(const Promise &) = delete;
	~Promise() { release(); }

	Future<T> future() const { return Future<T>(state_); }

	template <class U = T, class = std::enable_if_t<std::is_convertible_v<U &&, T> &&
	                                                !std::is_same_v<std::decay_t<U>, Future<T>>>>
	bool set(U &&u) {
		return detail::complete_value(state_, false, std::forward<U>(u));
	}
	// Promise<Nothing>::set().
	template <class U = T, class = std::enable_if_t<std::is_same_v<U, Nothing>>>
	bool set() {
		return set(Nothing());
	}
	// Follow f (see associate()).
	bool set(const Future<T> &f) { return associate(f); }

	bool fail(const std::string &message) { return detail::complete_failure(state_, message, false); }
	bool discard() {
		return detail::complete(
		    state_, detail::phase::discarded, [](detail::state<T> &) noexcept {}, false);
	}

	// From now on this promise's future completes as f does (value, failure, discard,
	// abandonment); a discard requested on it is requested on f. The promise's own
	// set/fail/discard are ignored afterwards. False if already completed or associated.
	bool associate(const Future<T> &f) {
		{
			detail::word_lock<T> lock(*state_);
			std::uint32_t w = lock.word();
			if (detail::phase_of(w) != detail::phase::pending ||
			    (w & (detail::bits::abandoned | detail::bits::associated)))
				return false;
			lock.unlock(w | detail::bits::associated);
		}
		if (f.state_ == state_)
			return true; // following itself: it can only be abandoned now
		if (!f.isPending()) { // fast path: copy the outcome
			follow(state_, f);
			return true;
		}
		Future<T>(state_).onDiscard([w = WeakFuture<T>(f)] {
			auto up = w.get();
			if (up.isSome())
				up.get().discard();
		});
		f.onAny([s = state_](const Future<T> &in) { follow(s, in); });
		f.onAbandoned([s = state_] { detail::abandon(s, true); });
		return true;
	}

private:
	static void follow(const std::shared_ptr<detail::state<T>> &s, const Future<T> &in) {
		switch (in.phase_()) {
		case detail::phase::ready:
			detail::complete_value(s, true, in.state_->value);
			break;
		case detail::phase::failed:
			detail::complete_failure(s, *in.state_->message, true);
			break;
		case detail::phase::discarded:
			detail::complete(
			    s, detail::phase::discarded, [](detail::state<T> &) noexcept {}, true);
			break;
		default:
			detail::abandon(s, true);
		}
	}
	void release() {
		// Only a pending future that is not associated can be abandoned here: otherwise skip
		// abandon()'s lock (the common case: a dispatch's promise destroyed after its handler
		// set it).
		if (state_) {
			std::uint32_t w = state_->word.load(std::memory_order_acquire);
			if (detail::phase_of(w) == detail::phase::pending &&
			    !(w & (detail::bits::abandoned | detail::bits::associated)))
				detail::abandon(state_, false);
		}
		state_.reset();
	}
	std::shared_ptr<detail::state<T>> state_;
};

} // namespace turquoise

template <class T>
struct std::hash<turquoise::Future<T>> {
	std::size_t operator()(const turquoise::Future<T> &f) const noexcept { return f.hash(); }
};

#include <turquoise/async/after.hpp>
#include <turquoise/async/coroutine.hpp>

#endif
