// mailbox.hpp — a process's message queue: many senders, one reader, no lock, and the
// process's scheduling state in the same word.
//
// Senders push onto a LIFO list with one compare-and-swap on `head_`. The reader takes the
// whole list with one exchange and reverses it into its private FIFO `cache_`, so senders
// and the reader meet on one cache line, once per message for a sender and once per batch
// for the reader. `head_` also says whether a reader is scheduled:
//
//   nullptr       empty; a run task is scheduled or running (it will look again)
//   an event      events waiting (a run task is scheduled or running)
//   idle_tag()    empty and no run task: the sender that replaces it must schedule one
//   closed_tag()  the process has terminated: pushes are refused
//
// so a sender learns from its own CAS whether it woke the process: no separate flag, no
// second atomic operation. The reader goes idle with a CAS from nullptr to idle_tag(), which
// fails if a sender got in first (the reader then carries on).
#ifndef TURQUOISE_PROCESS_MAILBOX_HPP
#define TURQUOISE_PROCESS_MAILBOX_HPP

#include <turquoise/process/event.hpp>

#include <atomic>
#include <cstdint>

namespace turquoise::detail {

class mailbox {
public:
	enum class pushed {
		queued, // a run task is scheduled already
		woke,   // the process was idle: the caller must schedule its run task
		closed, // refused: the event is still the caller's
	};

	mailbox() = default;
	mailbox(const mailbox &) = delete;
	mailbox &operator=(const mailbox &) = delete;

	// Any thread. (A preemption anywhere in here is harmless: the CAS publishes the event
	// in one step.)
	pushed push(event *e) noexcept {
		event *h = head_.load(std::memory_order_relaxed);
		do {
			if (h == closed_tag())
				return pushed::closed;
			e->next = h == idle_tag() ? nullptr : h;
		} while (!head_.compare_exchange_weak(h, e, std::memory_order_seq_cst, std::memory_order_relaxed));
		// Same cache line as head_, which this thread owns right now: nearly free.
		pushed_.fetch_add(1, std::memory_order_relaxed);
		return h == idle_tag() ? pushed::woke : pushed::queued;
	}

	// Any thread: schedule an idle process without pushing an event (a terminate request
	// was put ahead of the mailbox). True if the caller must schedule its run task.
	bool wake() noexcept {
		event *idle = idle_tag();
		return head_.compare_exchange_strong(idle, nullptr, std::memory_order_seq_cst);
	}

	// The reader only: the oldest event, or nullptr if there is none right now.
	event *pop() noexcept {
		if (!cache_) {
			if (head_.load(std::memory_order_relaxed) == nullptr)
				return nullptr;
			// LIFO to FIFO.
			event *taken = head_.exchange(nullptr, std::memory_order_seq_cst);
			while (taken) {
				event *next = taken->next;
				taken->next = cache_;
				cache_ = taken;
				taken = next;
			}
			if (!cache_)
				return nullptr;
		}
		event *e = cache_;
		cache_ = e->next;
		if (cache_)
			cache_->prefetch(); // see event::footprint
		popped_.store(popped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
		return e;
	}

	// The reader only, after pop() found nothing: give up the reader's role. False if an
	// event arrived meanwhile (the caller is still the reader and must go on).
	bool idle() noexcept {
		event *empty = nullptr;
		return head_.compare_exchange_strong(empty, idle_tag(), std::memory_order_seq_cst);
	}

	// The reader only: refuse further pushes; returns what was still queued (FIFO order,
	// linked through next), which the caller disposes of. The reader's role ends here.
	event *close() noexcept {
		event *taken = head_.exchange(closed_tag(), std::memory_order_seq_cst);
		if (taken == closed_tag() || taken == idle_tag())
			taken = nullptr;
		event *rest = nullptr; // taken, oldest first, behind the cache
		while (taken) {
			event *next = taken->next;
			taken->next = rest;
			rest = taken;
			taken = next;
		}
		event *all = cache_;
		cache_ = nullptr;
		if (!all)
			return rest;
		event *tail = all;
		while (tail->next)
			tail = tail->next;
		tail->next = rest;
		return all;
	}

	bool closed() const noexcept { return head_.load(std::memory_order_seq_cst) == closed_tag(); }

	// Messages queued now (approximate while senders push).
	std::uint64_t size() const noexcept {
		std::uint64_t out = popped_.load(std::memory_order_relaxed);
		std::uint64_t in = pushed_.load(std::memory_order_relaxed);
		return in > out ? in - out : 0;
	}

private:
	static event *idle_tag() noexcept { return reinterpret_cast<event *>(std::uintptr_t{1}); }
	static event *closed_tag() noexcept { return reinterpret_cast<event *>(std::uintptr_t{2}); }

	// Senders' line. A new process starts with a scheduled run task (spawn posts it).
	std::atomic<event *> head_{nullptr};
	std::atomic<std::uint64_t> pushed_{0};
	// Keep the reader's own state off the senders' line. (Padding rather than alignas(64):
	// an over-aligned record would need aligned allocation.)
	[[maybe_unused]] char pad_[64 - sizeof(std::atomic<event *>) - sizeof(std::atomic<std::uint64_t>)]{};
	event *cache_ = nullptr;                 // taken events, oldest first
	std::atomic<std::uint64_t> popped_{0};   // written by the reader only (read by stats)
};

} // namespace turquoise::detail

#endif
