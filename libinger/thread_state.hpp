// thread_state.hpp — what the runtime knows about each preemptible function and each thread.
#pragma once

#include "stack_pool.hpp"

#include <libgotcha.h>
#include <libinger.h>

#include <unwind.h>

#include <csignal>
#include <cstdint>
#include <ctime>
#include <vector>

namespace inger::detail {

inline constexpr std::uint64_t no_deadline = UINT64_MAX;

enum class run_state : std::uint8_t {
	ready,    // set up or paused or preempted: may be resumed
	running,  // on this thread's chain of running functions (current or an ancestor)
	finished, // returned; the record is about to be recycled
	dead,     // overflowed its stack; the record is about to be recycled
	abandoned, // left by a longjmp (abandon.cpp); the record is about to be recycled
};

// How a function last gave control back to its caller.
enum class exit_reason : std::uint8_t { none, completed, paused, preempted, overflowed, unwound };

// An unwinding cancel's progress (unwind.cpp).
enum class unwind_state : std::uint8_t {
	none,
	requested_exact,   // unwind once the innermost frame can be unwound exactly; else run on
	requested_partial, // unwind now, as far as frames can be unwound exactly
	running,           // the forced unwind is under way
};

// The C++ exception-handling state of one context: the layout of __cxa_eh_globals in the
// Itanium C++ ABI (2.2.2). One per context, swapped at every switch (schedule.cpp), so that a
// function paused inside a catch block, or unwound while its canceller is itself handling an
// exception, never sees the other's exceptions.
struct eh_state {
	void *caught = nullptr;
	unsigned int uncaught = 0;
};

// One preemptible function. Lives at the top of its own stack, so that launching costs no
// allocation beyond taking a cached stack.
struct function_record {
	// Canaries at both ends: a frame of a function above that jumped the guard region
	// (a stack clash) would write here first; checked before the function runs again.
	std::uint64_t canary_front = 0;
	void *sp = nullptr;          // the function's context while it is not running
	void *caller_sp = nullptr;   // the context of whoever launched or resumed it, while it runs
	function_record *parent = nullptr; // the running function that resumed it (nullptr: the thread)
	void (*fn)(void *) = nullptr;
	void *arg = nullptr;
	stack_block stack;
	std::uint64_t deadline_ns = no_deadline; // absolute CLOCK_MONOTONIC; min of own and parent's
	// The longest the timer handler waits out a deadline it fired early for (spin_limit_of()).
	std::uint64_t spin_limit_ns = no_deadline;
	std::uint64_t id = 0;        // unique in the process; 0 is never issued
	std::uint32_t slot = 0;      // index in thread_state::slots
	// Critical-section depth, and a preemption that fell due when it could not be taken
	// (inside a section, or while the function was not running).
	linger_critical_state critical{};
	int fn_errno = 0;            // the function's errno while it is switched out
	int caller_errno = 0;        // the caller's errno while the function runs
	gotcha_libset_t *libset = nullptr; // its copy of the libraries (nullptr: the base ones)
	bool libset_taken = false;   // libset was acquired (on the first run)
	// Inside a blocking call libinger retries after a preemption (restartable_calls.cpp):
	// preemptible even though it executes the base libraries' code.
	std::uint32_t in_restartable_call = 0;
	bool in_handler = false;     // suspended inside the timer handler (preempted, not paused)
	// thread_state::rearming as this function left it (it was preempted inside the runtime's
	// re-arm of the timer), parked here while it is switched out: see leave().
	bool rearming = false;
	bool caller_mask_known = false;
	sigset_t caller_mask;        // the resumer's signal mask, read when resuming a preempted one
	// The function changed its own signal mask (signal_mask.cpp): fn_mask holds it while the
	// function is switched out other than by the timer handler.
	bool mask_changed = false;
	sigset_t fn_mask;
	run_state state = run_state::ready;
	exit_reason exit = exit_reason::none;

	unwind_state unwinding = unwind_state::none;
	// The C++ exception-handling state (__cxa_eh_globals) of the function while it is
	// switched out, and of its caller while it runs.
	eh_state fn_eh, caller_eh;
	_Unwind_Exception unwind_exception{}; // the forced unwind's exception object

	// AddressSanitizer bookkeeping (unused otherwise).
	void *fake_stack = nullptr;
	void *caller_fake_stack = nullptr;
	const void *caller_stack_bottom = nullptr;
	std::size_t caller_stack_size = 0;
	std::uint64_t canary_back = 0;
};

// The handler's wait for a deadline (the timer fires `lead` early, signals arrive late by
// about half that) burns CPU nobody gets. In a time slice (a preempted function resumed: a
// scheduler handing out CPU shares) it waits at most a sixteenth of the slice, and the function
// is otherwise preempted that little early: under inger-run --quantum 100 on a loaded VM, the
// lead is 25 us and the wait took a fifth of every quantum. Slices of 800 us and more keep
// the whole wait (the lead is at most 50 us); launches and new budgets always do.
inline std::uint64_t spin_limit_of(std::uint64_t timeout_us) {
	return timeout_us == LINGER_UNLIMITED || timeout_us >= no_deadline / 1000 / 2
	           ? no_deadline
	           : timeout_us * 1000 / 16;
}

inline std::uint64_t canary_of(const function_record *f) {
	return reinterpret_cast<std::uintptr_t>(f) ^ 0x5bd1e9955bd1e995u;
}
inline void set_canaries(function_record *f) { f->canary_front = f->canary_back = canary_of(f); }
inline bool canaries_intact(const function_record *f) {
	return f->canary_front == canary_of(f) && f->canary_back == canary_of(f);
}

// A handle's slot: what the runtime must know about its function even if the function's
// record (at the top of its stack) has been overwritten.
struct slot_entry {
	function_record *f = nullptr;
	std::uint64_t id = 0;
	stack_block stack;
	gotcha_libset_t *libset = nullptr;
};

// A freed function's handle, until its slot is reused: the error its resume/cancel report.
struct tombstone {
	std::uint64_t id = 0;
	int error = 0;
};

// Per-thread runtime state. Created on the thread's first launch, destroyed at thread exit.
// The timer signal handler reads it through the initial-exec TLS pointer `tls_state`.
struct thread_state {
	function_record *current = nullptr; // innermost running preemptible function
	// Set while libinger itself is updating this structure or switching contexts: the
	// signal handler must not preempt then, and a reentrant call is refused (LINGER_ESIGNAL).
	volatile bool busy = false;
	// The timer fired while busy: the deadline check it would have made is still owed.
	volatile bool tick_missed = false;
	// Inside rearm_after_missed_tick(): libinger's own call into libc, not a shared call.
	// Belongs to the running context: leave() parks it in the function's record, so that
	// neither the caller nor (after a cancel) any later function inherits it.
	volatile bool rearming = false;
	std::uint64_t armed_ns = 0; // expiry the timer is set to (0: disarmed)
	// Timer signals arrive some microseconds after their expiry (more on a VM). The timer is
	// set this much before a deadline and the handler waits out the rest, so that preemption
	// lands on the deadline. Tracks twice the running average of the observed lateness.
	std::uint64_t lead_ns = 15 * 1000;
	std::uint64_t lateness_avg_ns = 7500;
	// Running average of what arming the timer (timer_settime) takes: microseconds on a VM.
	// A preempted function's new time slice starts when it gets the CPU, so arm_deadline()
	// aims the timer this much past the slice counted from before the call.
	std::uint64_t arm_cost_ns = 0;
	bool timer_created = false;
	timer_t timer{};
	std::uint64_t id_base = 0;  // thread serial << 40
	std::uint64_t id_next = 1;
	std::vector<slot_entry> slots;
	std::vector<std::uint32_t> free_slots;
	stack_pool stacks;
	void *altstack = nullptr;   // the signal stack we installed, if the thread had none
	std::size_t altstack_size = 0;
	struct linger_stats stats{};
	eh_state *eh_globals = nullptr; // this thread's __cxa_eh_globals (the C++ runtime's)
	// The thread's own stack (abandon.cpp: code found running there while a function is
	// current has jumped out of it).
	std::uintptr_t thread_stack_lo = 0, thread_stack_hi = 0;
	// Functions left by a longjmp, not freed yet (linked through function_record::parent).
	function_record *abandoned = nullptr;
	// Per slot, the last function freed without its handle knowing (abandoned, corrupted).
	std::vector<tombstone> tombstones;

	thread_state();
	~thread_state();
};

// The calling thread's state, or nullptr if it never launched. Signal-safe to read. __thread,
// not thread_local: an extern thread_local makes every reader in another file test for a
// dynamic initialiser first (a load and a branch on each of the fast path's many reads).
extern __thread thread_state *tls_state __attribute__((tls_model("initial-exec")));

// The calling thread's state, created on first use (not signal-safe).
thread_state *this_thread();

// A counter increment that a signal handler on the same thread cannot tear: one instruction.
inline void count(std::uint64_t &counter) { asm volatile("incq %0" : "+m"(counter)); }

// Free a function that is not running (completed, dead, abandoned or cancelled): its slot,
// libset and stack (runtime.cpp).
void release_function(thread_state *ts, function_record *f);

// Slot table: handles name a function by (slot, id) so that a stale or forged handle is
// detected without dereferencing anything it contains.
std::uint32_t slot_acquire(thread_state *ts, function_record *f);
void slot_release(thread_state *ts, std::uint32_t slot);
slot_entry *slot_lookup(thread_state *ts, std::uint32_t slot, std::uint64_t id);
// Remember that (slot, id) was freed with `error` (LINGER_E*); 0 if it was not.
void bury(thread_state *ts, std::uint32_t slot, std::uint64_t id, int error);
int buried_error(const thread_state *ts, std::uint32_t slot, std::uint64_t id);

} // namespace inger::detail
