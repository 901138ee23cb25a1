// migrate.cpp — handing a paused or preempted function from one thread to another.
//
// A function that is not running depends on its thread only through the bookkeeping: its
// stack and record, its registers (and, preempted, its flags, extended state and signal mask,
// in the signal frame on its own stack), its errno (fn_errno) and its libset (a libset is not
// bound to a thread) are its own; run() gives it the resuming thread's timer, deadline,
// critical-section pointer and errno. What ties it to its thread is its handle's slot in that
// thread's table. linger_migrate_out() moves the record from the table to a process-wide one
// of functions in transit, keyed by id, and linger_migrate_in() from there to the calling
// thread's table: a forged handle is refused without anything it holds being dereferenced.
//
// (The runtime's own frames on a preempted function's stack — the timer handler and leave(),
// see schedule.cpp and signals.cpp — read the thread's state afresh when they continue.)
#include "schedule.hpp"
#include "thread_state.hpp"

#include <inger/detail/migrate.h>

#include <cerrno>
#include <mutex>
#include <new>
#include <unordered_map>

using namespace inger::detail;

namespace {

std::mutex transit_lock;
std::unordered_map<std::uint64_t, function_record *> &in_transit() {
	static auto *table = new std::unordered_map<std::uint64_t, function_record *>; // never destroyed: threads may migrate during exit
	return *table;
}

int failed(int err) {
	errno = err;
	return -1;
}

// Whether f can leave this thread now (see migrate.h for why each case cannot).
bool movable(const thread_state *ts, const function_record *f) {
	if (f->state != run_state::ready || f->critical.depth > 0 || f->in_restartable_call > 0)
		return false;
	for (const slot_entry &e : ts->slots)
		if (const function_record *g = e.f; g && g != f && g->state == run_state::ready && g->parent == f)
			return false; // its handle, held by f, would be foreign on the new thread
	return true;
}

} // namespace

extern "C" int linger_migrate_out(linger_t *l) {
	if (!l)
		return failed(EINVAL);
	thread_state *ts = tls_state;
	if (ts && ts->busy)
		return failed(EDEADLK);
	if (!ts || l->is_complete)
		return failed(ESRCH);
	slot_entry *entry = slot_lookup(ts, l->continuation.slot, l->continuation.id);
	if (!entry)
		return failed(ESRCH);
	function_record *f = entry->f;
	if (!movable(ts, f))
		return failed(EBUSY);
	ts->busy = true; // not preempted (a caller that is itself preemptible) holding the lock
	int result = 0;
	try {
		std::lock_guard guard(transit_lock);
		in_transit().emplace(f->id, f);
	} catch (const std::bad_alloc &) {
		result = failed(ENOMEM);
	}
	if (result == 0) {
		slot_release(ts, f->slot);
		ts->stats.live--;
		l->error = LINGER_OK;
	}
	unbusy(ts);
	return result;
}

extern "C" int linger_migrate_in(linger_t *l) {
	if (!l)
		return failed(EINVAL);
	thread_state *ts = tls_state;
	if (!ts) {
		try {
			ts = this_thread();
		} catch (const std::bad_alloc &) {
			return failed(ENOMEM);
		}
	}
	if (ts->busy)
		return failed(EDEADLK);
	ts->busy = true;
	int result = 0;
	{
		std::lock_guard guard(transit_lock);
		auto found = in_transit().find(l->continuation.id);
		if (found == in_transit().end() || l->is_complete) {
			result = failed(ESRCH);
		} else {
			function_record *f = found->second;
			try {
				f->slot = slot_acquire(ts, f);
				if (f->libset_taken)
					ts->slots[f->slot].libset = f->libset; // as run() records it
				in_transit().erase(found);
				ts->stats.live++;
				l->continuation.slot = f->slot;
				l->error = LINGER_OK;
			} catch (const std::bad_alloc &) {
				result = failed(ENOMEM); // still in transit: may be adopted later
			}
		}
	}
	unbusy(ts);
	return result;
}
