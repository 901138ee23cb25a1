// thread_state.cpp — creation and teardown of the per-thread state, and the handle slot table.
#include "thread_state.hpp"

#include "signals.hpp"
#include "timer.hpp"

#include <atomic>
#include <cxxabi.h>
#include <cerrno>
#include <pthread.h>

// Declared in libinger.h; set by run() and leave() (schedule.cpp) as functions come and go.
__thread linger_critical_state *linger_critical_now __attribute__((tls_model("initial-exec"))) = nullptr;

namespace inger::detail {

__thread thread_state *tls_state __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

std::atomic<std::uint64_t> thread_serial{1};

// Owns the state and destroys it when the thread exits (thread_local destructor).
struct thread_state_owner {
	thread_state *state = nullptr;
	~thread_state_owner() {
		if (state) {
			tls_state = nullptr; // the timer handler must stop looking at it first
			delete state;
		}
	}
};
thread_local thread_state_owner owner;

// Timers are not inherited by a fork()ed child: it makes a new one on its first launch.
void forget_timer_in_child() {
	if (thread_state *ts = tls_state) {
		ts->timer_created = false;
		ts->armed_ns = 0;
	}
}

} // namespace

thread_state::thread_state() {
	id_base = thread_serial.fetch_add(1) << 40;
	eh_globals = reinterpret_cast<eh_state *>(abi::__cxa_get_globals());
	slots.reserve(64);
	free_slots.reserve(64);
	altstack = altstack_ensure(&altstack_size);
	pthread_attr_t attr;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		void *lo = nullptr;
		std::size_t size = 0;
		if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
			thread_stack_lo = reinterpret_cast<std::uintptr_t>(lo);
			thread_stack_hi = thread_stack_lo + size;
		}
		pthread_attr_destroy(&attr);
	}
	signals_install_overflow(); // best effort: without it an overflow is an ordinary SIGSEGV
	static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
	pthread_once(&atfork_once, [] { pthread_atfork(nullptr, nullptr, forget_timer_in_child); });
}

thread_state::~thread_state() {
	timer_destroy(this);
	// Functions still paused when their thread exits can never be resumed: free their stacks.
	// Not those running: a function that called exit() or pthread_exit() is still on its
	// stack while thread-local destructors (this one) run.
	for (const slot_entry &e : slots)
		if (e.f && (!canaries_intact(e.f) || e.f->state != run_state::running))
			stack_unmap(e.stack);
	altstack_release(altstack, altstack_size);
}

thread_state *this_thread() {
	if (thread_state *ts = tls_state)
		return ts;
	// Once per process. Without libsets (gotcha_init() fails, and says why in
	// gotcha_get_info()), functions share the base libraries: not an error of this launch.
	int caller_errno = errno;
	gotcha_init();
	errno = caller_errno;
	auto *ts = new thread_state;
	owner.state = ts;
	tls_state = ts;
	return ts;
}

std::uint32_t slot_acquire(thread_state *ts, function_record *f) {
	std::uint32_t slot;
	slot_entry entry{f, f->id, f->stack, nullptr};
	if (!ts->free_slots.empty()) {
		slot = ts->free_slots.back();
		ts->free_slots.pop_back();
		ts->slots[slot] = entry;
	} else {
		slot = static_cast<std::uint32_t>(ts->slots.size());
		ts->slots.push_back(entry); // may throw std::bad_alloc: the caller reports LINGER_ENOMEM
		ts->free_slots.reserve(ts->slots.capacity());
	}
	return slot;
}

void slot_release(thread_state *ts, std::uint32_t slot) {
	ts->slots[slot] = slot_entry{};
	ts->free_slots.push_back(slot); // capacity reserved in slot_acquire: cannot throw
}

slot_entry *slot_lookup(thread_state *ts, std::uint32_t slot, std::uint64_t id) {
	if (id == 0 || slot >= ts->slots.size())
		return nullptr;
	slot_entry *e = &ts->slots[slot];
	return e->f && e->id == id ? e : nullptr;
}

void bury(thread_state *ts, std::uint32_t slot, std::uint64_t id, int error) {
	if (ts->tombstones.size() <= slot)
		ts->tombstones.resize(ts->slots.size()); // not on a fast path: these are rare
	ts->tombstones[slot] = {id, error};
}

int buried_error(const thread_state *ts, std::uint32_t slot, std::uint64_t id) {
	if (id == 0 || slot >= ts->tombstones.size() || ts->tombstones[slot].id != id)
		return 0;
	return ts->tombstones[slot].error;
}

} // namespace inger::detail
