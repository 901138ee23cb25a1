// mailbox.hpp — a process's message queue: intrusive, many senders, one reader, no lock.
//
// Senders append with one atomic exchange, so a sender is never blocked by another sender or
// by the reader (a lock here was the most contended point of a fan-in, and a sender holding
// it could be descheduled). Only the process's run task reads (at most one runs at a time),
// so the reading side needs no synchronisation of its own.
//
// The queue is a singly linked list through event::next with a permanent dummy node (`stub`)
// that is re-appended whenever the reader reaches the last real event, so the list is never
// empty and a sender never has to touch the reader's end. Between a sender's exchange and its
// link store the list is briefly cut: pop() then reports nothing even though an event is
// coming. That is harmless here because every sender, after push(), checks whether the
// process is scheduled (process.cpp) and the run task, after it saw nothing, re-checks
// `maybe_nonempty()`, which sees the exchange.
#ifndef TURQUOISE_PROCESS_MAILBOX_HPP
#define TURQUOISE_PROCESS_MAILBOX_HPP

#include <turquoise/process/event.hpp>

#include <atomic>

namespace turquoise::process::internal {

class mailbox {
public:
	mailbox() = default;
	mailbox(const mailbox &) = delete;
	mailbox &operator=(const mailbox &) = delete;

	// Any thread.
	void push(event *e) noexcept {
		e->next.store(nullptr, std::memory_order_relaxed);
		event *prev = back_.exchange(e, std::memory_order_seq_cst);
		prev->next.store(e, std::memory_order_release);
	}

	// The reader only. nullptr: empty, or a push is half done (see the header comment).
	event *pop() noexcept {
		event *front = front_.load(std::memory_order_relaxed);
		event *next = front->next.load(std::memory_order_acquire);
		if (front == &stub_) {
			if (!next)
				return nullptr;
			front_.store(front = next, std::memory_order_relaxed);
			next = next->next.load(std::memory_order_acquire);
		}
		if (next) {
			front_.store(next, std::memory_order_relaxed);
			return front;
		}
		if (front != back_.load(std::memory_order_seq_cst))
			return nullptr; // a sender is between its exchange and its link
		// `front` is the last event: put the stub behind it so that it can be detached.
		push(&stub_);
		next = front->next.load(std::memory_order_acquire);
		if (next) {
			front_.store(next, std::memory_order_relaxed);
			return front;
		}
		return nullptr; // another sender got in between: its link is on the way
	}

	// False only if the queue is empty and no push has started. Sequentially consistent, to
	// pair with the scheduling flag (process.cpp). Called by a run task that has just given
	// up the reader's role: a new reader may be popping meanwhile (hence front_ is atomic),
	// and then a stale answer only costs a failed attempt to take the role back.
	bool maybe_nonempty() const noexcept {
		return front_.load(std::memory_order_relaxed) != &stub_ ||
		       back_.load(std::memory_order_seq_cst) != &stub_;
	}

private:
	event stub_;
	std::atomic<event *> front_{&stub_}; // reader's end (relaxed: one reader at a time)
	// Senders write back_, the reader rarely reads it: keep it off the reader's cache line.
	// (Padding rather than alignas(64): an over-aligned record would need aligned
	// allocation.)
	[[maybe_unused]] char pad_[64 - sizeof(std::atomic<event *>)]{};
	std::atomic<event *> back_{&stub_};
};

} // namespace turquoise::process::internal

#endif
