// turquoise/async/detail/state.hpp — internal (included by future.hpp): a Future's shared
// state — one atomic word (phase, flags, a spin-lock bit), the outcome, an intrusive list of
// callbacks — and how it is settled, waited for and abandoned.
#ifndef TURQUOISE_ASYNC_DETAIL_STATE_HPP
#define TURQUOISE_ASYNC_DETAIL_STATE_HPP

#include <turquoise/async/failure.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/async/option.hpp>
#include <turquoise/detail/small_alloc.hpp>
#include <turquoise/function.hpp>
#include <turquoise/guarded_lock.hpp>

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
// One thing passes: the forced unwind of a cancel with unwinding (a pool task cancelled by
// shutdown(cancel), linger_cancel_unwind), which is no C++ exception (no exception_ptr). The
// sink is left pending (its promise is abandoned when destroyed). So not noexcept: a forced
// unwind cannot cross a noexcept frame; every C++ exception still stops here.
template <class Sink, class Thunk>
void complete_from(Sink &sink, Thunk &&thunk) {
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
		if (!std::current_exception())
			throw; // the cancel's forced unwind
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

} // namespace turquoise

#endif
