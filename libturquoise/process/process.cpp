// process.cpp — the process runtime: registry, mailboxes, the per-process run task, metrics.
//
// Scheduling: a process is scheduled while a run task for it is posted or running (at most
// one at a time: that is what makes a process run its messages one at a time). The state
// lives in the mailbox's head word (mailbox.hpp): a sender whose push finds the process idle
// posts the run task. The run task serves messages until the mailbox is empty (it then marks
// the process idle, unless a message came meanwhile), or until it has served a batch or used
// a slice of the quantum: it then re-posts itself, so other processes get the worker, and
// does not run into the quantum because of many short handlers (a preemption then means a
// long handler).
//
// Every lock here is taken from pool tasks: all are guarded_locks (see guarded_lock.hpp).
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/filter.hpp>
#include <turquoise/process/process.hpp>
#include <turquoise/process/wrapper.hpp>

#include "../remote/events.hpp"
#include "../remote/network.hpp"
#include "../runtime_hooks.hpp"
#include "mailbox.hpp"

#include <turquoise/guarded_lock.hpp>

#include <libinger.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace turquoise {
namespace detail {

struct record {
	// Message path, no lock: a sender whose push wakes the process posts the run task,
	// which is then the mailbox's only reader (see mailbox.hpp).
	mailbox box;
	std::atomic<event *> injected{nullptr}; // a terminate request put ahead of the mailbox

	std::mutex mutex; // guards the fields below
	bool finished = false;    // the runtime no longer touches `process`
	bool manage = false;      // delete `process` once terminated
	ProcessBase *process = nullptr;

	// Touched only by the run task (one at a time; handed over through the mailbox's head).
	bool initialized = false;

	UPID pid; // without its reference (the record would own itself)
	pool *workers = nullptr;
	std::chrono::nanoseconds slice{}; // run-task time budget before re-posting (0: none)
	Promise<Nothing> done;           // terminated

	std::atomic<std::uint64_t> messages{0};
	std::atomic<std::uint64_t> preemptions{0};
	std::atomic<std::uint64_t> dropped{0};

	// The reader only: the next event to serve (an injected terminate first), or nullptr.
	event *next() {
		if (injected.load(std::memory_order_relaxed))
			if (event *e = injected.exchange(nullptr, std::memory_order_acquire))
				return e;
		return box.pop();
	}

	// The reader only, once next() found nothing: true if the process is idle now (the run
	// task ends), false if there is work after all (it goes on).
	bool go_idle() {
		if (!box.idle())
			return false; // a message came meanwhile
		// A terminate injected meanwhile: its sender may have found us busy and left it to
		// us (see inject_terminate()). Take the role back, unless another sender took it already.
		if (injected.load(std::memory_order_seq_cst) == nullptr)
			return true;
		return !box.wake();
	}
};

struct access {
	static UPID &pid(ProcessBase &p) { return p.pid_; }
	static std::shared_ptr<record> &rec(ProcessBase &p) { return p.record_; }
	static void initialize(ProcessBase &p) { p.initialize(); }
	static void finalize(ProcessBase &p) { p.finalize(); }
};

namespace {

// Messages served per run task before it re-posts itself.
constexpr unsigned batch = 64;

// The live processes by id, in shards with a lock each: spawn (often outside the pool) and
// termination (on the workers) add and remove entries at the same time.
class registry {
public:
	// False if a live process has that id already.
	bool add(const std::shared_ptr<record> &r);
	void remove(const std::shared_ptr<record> &r);
	std::shared_ptr<record> find(const UPID &pid);
	std::vector<UPID> pids(); // every live process's (without reference)

private:
	static constexpr std::size_t shards = 32;
	// Keyed by a view of the record's own id (it outlives its entry): no string copy, and
	// the nodes, freed by whichever thread terminates the process, come from small_alloc.
	using entry = std::pair<const std::string_view, std::shared_ptr<record>>;
	struct shard {
		std::mutex mutex;
		std::unordered_map<std::string_view, std::shared_ptr<record>, std::hash<std::string_view>,
		                   std::equal_to<std::string_view>, turquoise::detail::small_allocator<entry>>
		    map;
		[[maybe_unused]] char pad[64]{}; // keep neighbouring shards' locks apart
	};
	shard &of(std::string_view id) { return shards_[std::hash<std::string_view>()(id) % shards]; }
	shard shards_[shards];
};

struct process_table {
	registry processes;

	std::mutex filter_mutex; // held while a filter runs
	std::atomic<Filter *> filter{nullptr};

	std::atomic<std::uint64_t> spawned{0};
	std::atomic<std::uint64_t> terminated{0};
	std::atomic<std::uint64_t> messages{0};
	std::atomic<std::uint64_t> preemptions{0};
	std::atomic<std::uint64_t> dropped{0};
	std::atomic<std::uint64_t> busy{0};
	std::atomic<std::uint64_t> unhandled{0};

	std::mutex ids_mutex;
	std::unordered_map<std::string, std::uint64_t> ids;
	std::atomic<std::uint64_t> default_ids{0}; // ID::generate(""), without the lock
};

// Never destroyed: pool workers may still run processes during static destruction. Made
// inside a critical section: a task preempted while holding the static's initialisation
// guard would block every other task of its worker that reaches here.
process_table &rt() {
	static std::atomic<process_table *> instance{nullptr};
	if (process_table *r = instance.load(std::memory_order_acquire))
		return *r;
	critical c;
	static process_table *made = new process_table;
	instance.store(made, std::memory_order_release);
	return *made;
}

// The record of a UPID made from text (one from a process carries it: see pid.hpp).
std::shared_ptr<record> lookup(const UPID &pid) {
	if (pid.id.empty())
		return nullptr;
	return rt().processes.find(pid);
}

bool registry::add(const std::shared_ptr<record> &r) {
	shard &s = of(r->pid.id);
	guarded_lock lock(s.mutex); // also a critical section: the map allocates
	return s.map.try_emplace(r->pid.id, r).second;
}

void registry::remove(const std::shared_ptr<record> &r) {
	shard &s = of(r->pid.id);
	std::shared_ptr<record> gone; // released outside the lock
	guarded_lock lock(s.mutex);
	auto it = s.map.find(r->pid.id);
	if (it != s.map.end() && it->second == r) {
		gone = std::move(it->second);
		s.map.erase(it);
	}
}

std::shared_ptr<record> registry::find(const UPID &pid) {
	shard &s = of(pid.id);
	guarded_lock lock(s.mutex);
	auto it = s.map.find(pid.id);
	if (it == s.map.end())
		return nullptr;
	// The address the process was spawned with, or any other of this program's (a process
	// spawned before its runtime listened carries the placeholder; peers name it by ours).
	const Address &a = it->second->pid.address;
	if (!(a == pid.address) && !(is_local(a) && is_local(pid.address)))
		return nullptr;
	return it->second;
}

std::vector<UPID> registry::pids() {
	std::vector<UPID> out;
	for (shard &s : shards_) {
		guarded_lock lock(s.mutex);
		for (auto &[id, r] : s.map)
			out.push_back(r->pid);
	}
	return out;
}

std::shared_ptr<record> resolve(const UPID &pid) {
	if (pid.reference)
		return pid.reference;
	return lookup(pid);
}

[[noreturn]] void fatal(const char *what, const std::string &id) {
	std::fprintf(stderr, "turquoise: %s (process %s)\n", what, id.c_str());
	std::abort();
}

// Tells whether the thread's preemptible function was suspended (preempted, or paused at
// the end of a critical section) since the last look: a function resumes only on its own
// thread, so a change of the thread's counters means ours was.
class suspension_watch {
public:
	suspension_watch() : seen_(suspensions()) {}
	bool suspended() {
		std::uint64_t now = suspensions();
		bool changed = now != seen_;
		seen_ = now;
		return changed;
	}

private:
	static std::uint64_t suspensions() {
		struct linger_stats s {};
		linger_stats(&s);
		return s.preemptions + s.pauses;
	}
	std::uint64_t seen_;
};

void count_preempted(record &r) {
	r.preemptions.fetch_add(1, std::memory_order_relaxed);
	rt().preemptions.fetch_add(1, std::memory_order_relaxed);
}

// Run a handler of r's process; count it as preempted if it was suspended meanwhile.
template <class F>
void timed(record &r, F &&f) {
	suspension_watch watch;
	f();
	if (watch.suspended())
		count_preempted(r);
}

void run(const std::shared_ptr<record> &r);

// next: the process was idle and a message arrived (from a handler, typically): run it next
// on this worker (pool::post_next), so that a request and its response stay on one worker.
// Otherwise (spawn, or a run task that yields after a batch) it goes behind queued work.
void post_run(const std::shared_ptr<record> &r, bool next = false) {
	critical c; // also keeps the fprintf below whole (stdio is not preemption-safe)
	try {
		if (next)
			r->workers->post_next([r] { run(r); });
		else
			r->workers->post([r] { run(r); });
	} catch (const std::exception &e) {
		// The pool was shut down under live processes: they can no longer run.
		std::fprintf(stderr, "turquoise: process %s cannot run: %s\n", r->pid.id.c_str(), e.what());
	}
}

// Drop a chain of events linked through next (their futures are abandoned).
void drop_chain(event *e) {
	process_table &R = rt();
	while (e) {
		event *next = e->next;
		if (e->what == event::kind::dispatch || e->what == event::kind::message)
			R.dropped.fetch_add(1, std::memory_order_relaxed);
		destroy(e);
		e = next;
	}
}

// A sender woke the process: schedule its run task.
void wake(const std::shared_ptr<record> &r) {
	rt().busy.fetch_add(1, std::memory_order_relaxed);
	post_run(r, true);
}

// Queue e for r; false (e untouched) if r no longer takes messages.
bool enqueue(const std::shared_ptr<record> &r, event *e) {
	switch (r->box.push(e)) {
	case mailbox::pushed::closed:
		return false;
	case mailbox::pushed::woke:
		wake(r);
		break;
	case mailbox::pushed::queued:
		break;
	}
	return true;
}

// Put a terminate request ahead of r's mailbox (a second one replaces the first).
void inject_terminate(const std::shared_ptr<record> &r, event *e) {
	if (event *old = r->injected.exchange(e, std::memory_order_seq_cst))
		destroy(old);
	if (r->box.wake()) {
		wake(r);
	} else if (r->box.closed()) {
		// Terminated already: take it back, unless the closing run task dropped it.
		if (event *left = r->injected.exchange(nullptr, std::memory_order_acquire))
			destroy(left);
	}
	// Otherwise a run task is scheduled: it serves the injected event first, and looks for
	// it once more before it goes idle (record::go_idle()).
}

bool filtered(record &r, const event &e) {
	process_table &R = rt();
	bool message = e.what == event::kind::message;
	if (e.spoofed || !(e.what == event::kind::dispatch || message) || !R.filter.load(std::memory_order_acquire))
		return false;
	guarded_lock lock(R.filter_mutex); // also a critical section: the filter is not preempted
	Filter *f = R.filter.load();
	if (!f)
		return false;
	try {
		if (message) {
			MessageEvent event{static_cast<const message_event &>(e).message};
			return f->filter(r.pid, event);
		}
		DispatchEvent event{r.pid, e.method};
		return f->filter(r.pid, event);
	} catch (...) {
		fatal("exception escaped a dispatch filter", r.pid.id);
	}
}

// Run a process's initialize() or finalize() (timed like a handler); an exception escaping
// it is fatal, as in libprocess.
template <class Hook>
void run_hook(record &r, const char *name, Hook hook) {
	timed(r, [&] {
		try {
			hook();
		} catch (const std::exception &e) {
			std::fprintf(stderr, "turquoise: exception escaped %s: %s\n", name, e.what());
			fatal("exception escaped a process hook", r.pid.id);
		} catch (...) {
			std::fprintf(stderr, "turquoise: exception escaped %s\n", name);
			fatal("exception escaped a process hook", r.pid.id);
		}
	});
}

// Handlers run by one run task, added to the runtime's counter when the task stops (that
// counter is shared by every worker: one update per message would bounce its cache line
// between them). The process's own counter is only written by its run task: it is updated
// per message, before the handler runs, so that it counts a handler once its future is
// ready.
struct tally {
	std::uint64_t messages = 0;
	void flush() {
		if (messages)
			rt().messages.fetch_add(messages, std::memory_order_relaxed);
		messages = 0;
	}
};

void finish(const std::shared_ptr<record> &r) {
	process_table &R = rt();
	run_hook(*r, "finalize()", [&] { access::finalize(*r->process); });
	drop_chain(r->box.close()); // refuses further messages; abandons the futures of queued ones
	if (event *e = r->injected.exchange(nullptr, std::memory_order_acquire))
		destroy(e); // a second terminate request
	R.processes.remove(r);
	ProcessBase *process;
	bool del;
	{
		guarded_lock lock(r->mutex);
		process = r->process;
		r->process = nullptr;
		r->finished = true;
		del = r->manage;
	}
	R.terminated.fetch_add(1, std::memory_order_relaxed);
	R.busy.fetch_sub(1, std::memory_order_relaxed);
	if (del)
		delete process;
	r->done.set(Nothing());
}

void run(const std::shared_ptr<record> &r) {
	process_table &R = rt();
	// The slice is measured from the start of the second handler, and checked every few
	// handlers: a run task often serves one message (a request/response exchange), and a
	// clock read per message was a visible part of that.
	std::chrono::steady_clock::time_point start{};
	if (!r->initialized) {
		r->initialized = true;
		run_hook(*r, "initialize()", [&] { access::initialize(*r->process); });
	}
	tally counts;
	suspension_watch watch;
	for (unsigned served = 0; served < batch; ++served) {
		event *e = r->next();
		if (!e) {
			counts.flush();
			if (r->go_idle()) {
				R.busy.fetch_sub(1, std::memory_order_relaxed);
				return;
			}
			continue; // a message came meanwhile (an empty pass counts towards the batch)
		}
		if (e->what == event::kind::terminate) {
			destroy(e);
			counts.flush();
			finish(r);
			return;
		}
		if (filtered(*r, *e)) {
			destroy(e);
			r->dropped.fetch_add(1, std::memory_order_relaxed);
			R.dropped.fetch_add(1, std::memory_order_relaxed);
			continue;
		}
		if (r->slice.count() > 0 && counts.messages == 1 && start == decltype(start){})
			start = std::chrono::steady_clock::now();
		// One look per handler (the look before it is the previous handler's look after:
		// the run task's few instructions between handlers are counted with the next one).
		// Counted before the handler runs: the handler completes its future, and a caller
		// that sees the future ready must see the message counted.
		r->messages.fetch_add(1, std::memory_order_relaxed);
		++counts.messages;
		e->run(r->process);
		if (watch.suspended())
			count_preempted(*r);
		destroy(e);
		if (r->slice.count() > 0 && counts.messages % 16 == 0 &&
		    std::chrono::steady_clock::now() - start >= r->slice)
			break;
	}
	counts.flush();
	post_run(r); // more to do: still scheduled, but let the worker serve others first
}

} // namespace

} // namespace detail

namespace abi {
using namespace detail;

void destroy(event *e) noexcept {
	critical c;
	e->dispose();
}

bool deliver(const UPID &to, event *e) {
	// (Not resolve(): it returns a copy, one more atomic reference count per message.)
	if (to.reference) {
		if (enqueue(to.reference, e))
			return true;
	} else if (auto r = lookup(to); r && enqueue(r, e)) {
		return true;
	}
	if (e->what == event::kind::dispatch || e->what == event::kind::message)
		rt().dropped.fetch_add(1, std::memory_order_relaxed);
	destroy(e);
	return false;
}

void count_unparsed_message(const UPID &, const std::string &) {
	rt().unhandled.fetch_add(1, std::memory_order_relaxed);
}

UPID self_of(const ProcessBase &process) { return process.self(); }

bool manage_after_termination(const UPID &pid, ProcessBase *process) {
	auto r = resolve(pid);
	if (!r)
		return false;
	guarded_lock lock(r->mutex);
	if (r->finished || r->process != process)
		return false;
	r->manage = true;
	return true;
}

} // namespace abi


using detail::critical;
using detail::record;
using detail::rt;

namespace detail {
void count_unhandled() { rt().unhandled.fetch_add(1, std::memory_order_relaxed); }

bool deliver_by_id(const std::string &id, event *e) {
	if (auto r = rt().processes.find(UPID(id)); r && enqueue(r, e))
		return true;
	if (e->what == event::kind::dispatch || e->what == event::kind::message)
		rt().dropped.fetch_add(1, std::memory_order_relaxed);
	destroy(e);
	return false;
}

UPID find_local(const std::string &id) {
	auto r = rt().processes.find(UPID(id));
	if (!r)
		return UPID();
	UPID pid = r->pid;
	pid.reference = r;
	return pid;
}
} // namespace detail

namespace ID {
std::string generate(const std::string &prefix) {
	auto &R = rt();
	std::uint64_t n;
	if (prefix.empty()) {
		n = R.default_ids.fetch_add(1, std::memory_order_relaxed) + 1; // every unnamed process
	} else {
		guarded_lock lock(R.ids_mutex);
		n = ++R.ids[prefix];
	}
	critical c;
	return prefix + "(" + std::to_string(n) + ")";
}
} // namespace ID

UPID UPID::parse(const std::string &text) {
	auto at = text.find('@');
	if (at == std::string::npos)
		return text.empty() ? UPID() : UPID(text);
	auto colon = text.rfind(':');
	if (at == 0 || colon == std::string::npos || colon < at)
		return UPID();
	Address a;
	a.host = text.substr(at + 1, colon - at - 1);
	try {
		std::size_t used = 0;
		std::string port = text.substr(colon + 1);
		unsigned long p = std::stoul(port, &used);
		if (used != port.size() || p > 65535)
			return UPID();
		a.port = static_cast<std::uint16_t>(p);
	} catch (const std::exception &) {
		return UPID();
	}
	return UPID(text.substr(0, at), a);
}

std::string UPID::str() const {
	std::ostringstream os;
	os << *this;
	return os.str();
}

ProcessBase::ProcessBase(const std::string &id) : pid_(id.empty() ? ID::generate() : id) {}

ProcessBase::~ProcessBase() {
	if (auto &r = record_) {
		bool live;
		{
			guarded_lock lock(r->mutex);
			live = !r->finished && r->process == this;
		}
		critical c;
		record_.reset();
		if (live)
			detail::fatal("a process was destroyed before it terminated "
			                         "(terminate() and wait() for it first)",
			                         pid_.id);
	}
}

ProcessStats ProcessBase::stats() const {
	ProcessStats s;
	if (auto &r = record_) {
		s.messages = r->messages.load();
		s.handler_preemptions = r->preemptions.load();
		s.dropped = r->dropped.load();
		s.queued = r->box.size();
	}
	return s;
}

UPID spawn(ProcessBase *process, bool manage) {
	if (!process)
		return UPID();
	if (auto &old = detail::access::rec(*process)) {
		guarded_lock lock(old->mutex);
		if (!old->finished)
			return UPID(); // running already
	}
	auto &R = rt();
	std::shared_ptr<record> r;
	UPID pid;
	{
		critical c;
		// Often freed on a worker (see small_alloc.hpp).
		r = std::allocate_shared<record>(turquoise::detail::small_allocator<record>());
		r->process = process;
		r->manage = manage;
		// A new mailbox is "scheduled": the first run (posted below) calls initialize().
		pid = process->self();
		pid.reference = nullptr;
		// A process of a listening runtime is named by its address (network.hpp).
		if (pid.address.unspecified())
			if (auto a = runtime::current().address(); a.isSome())
				pid.address = a.get();
		r->pid = pid; // no reference: the record would own itself
		pid.reference = r;
	}
	r->workers = &runtime::current().workers();
	if (!R.processes.add(r))
		r = nullptr;
	if (!r) {
		if (manage)
			delete process;
		return UPID();
	}
	auto quantum = r->workers->quantum();
	if (quantum != no_preemption)
		r->slice = quantum / 4;
	detail::access::pid(*process).reference = r;
	detail::access::pid(*process).address = pid.address;
	detail::access::rec(*process) = r;
	R.spawned.fetch_add(1, std::memory_order_relaxed);
	// Messages may have been delivered since the registration (by id): they wait in the
	// mailbox, the process being scheduled already.
	R.busy.fetch_add(1, std::memory_order_relaxed);
	detail::post_run(r);
	return pid;
}

void terminate(const UPID &pid, bool inject) {
	using namespace detail;
	auto r = resolve(pid);
	if (!r)
		return;
	event *e;
	{
		critical c;
		e = new event;
		e->what = event::kind::terminate;
	}
	if (inject)
		inject_terminate(r, e);
	else if (!enqueue(r, e))
		destroy(e);
}

Future<Nothing> when_terminated(const UPID &pid) {
	auto r = detail::resolve(pid);
	if (!r)
		return Future<Nothing>(Nothing());
	return r->done.future();
}

bool wait(const UPID &pid, std::chrono::nanoseconds timeout) {
	if (pool::current() != nullptr)
		throw std::logic_error("turquoise: wait() inside a pool task would block its worker "
		                       "(use when_terminated())");
	Future<Nothing> f = when_terminated(pid);
	if (timeout == std::chrono::nanoseconds::max())
		f.await();
	else
		f.await(timeout);
	return f.isReady();
}

pool &ProcessManager::workers() { return runtime::current().workers(); }

bool initialize() {
	static std::atomic<bool> done{false};
	runtime::current();
	return !done.exchange(true);
}

void finalize(bool) { ProcessManager::terminate_all(); }

RuntimeStats ProcessManager::stats() {
	auto &R = rt();
	RuntimeStats s;
	s.terminated = R.terminated.load();
	s.spawned = R.spawned.load();
	s.live = s.spawned - s.terminated;
	s.messages = R.messages.load();
	s.handler_preemptions = R.preemptions.load();
	s.dropped = R.dropped.load();
	s.busy = R.busy.load();
	s.unhandled = R.unhandled.load();
	return s;
}

Option<ProcessStats> ProcessManager::stats(const UPID &pid) {
	auto r = detail::resolve(pid);
	if (!r)
		return None();
	{
		guarded_lock lock(r->mutex);
		if (r->finished)
			return None();
	}
	ProcessStats s;
	s.messages = r->messages.load();
	s.handler_preemptions = r->preemptions.load();
	s.dropped = r->dropped.load();
	s.queued = r->box.size();
	return s;
}

std::uint64_t ProcessManager::live() {
	auto &R = rt();
	std::uint64_t t = R.terminated.load();
	return R.spawned.load() - t;
}

void ProcessManager::terminate_all(std::chrono::nanoseconds timeout) {
	if (pool::current() != nullptr)
		throw std::logic_error("turquoise: terminate_all() inside a pool task");
	auto &R = rt();
	std::vector<UPID> pids = R.processes.pids();
	for (auto &pid : pids)
		terminate(pid);
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (auto &pid : pids) {
		auto left = deadline - std::chrono::steady_clock::now();
		if (!wait(pid, std::max(std::chrono::duration_cast<std::chrono::nanoseconds>(left),
		                        std::chrono::nanoseconds::zero()))) {
			std::fprintf(stderr, "turquoise: process %s did not terminate\n", pid.id.c_str());
			break;
		}
	}
}

bool ProcessManager::settle(std::chrono::nanoseconds timeout) {
	if (pool::current() != nullptr)
		throw std::logic_error("turquoise: settle() inside a pool task");
	auto &R = rt();
	auto deadline = std::chrono::steady_clock::now() + timeout;
	unsigned quiet = 0;
	while (quiet < 2) {
		detail::settle_timers();
		if (R.busy.load() == 0) {
			++quiet;
			continue;
		}
		quiet = 0;
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::microseconds(100));
	}
	return true;
}

void filter(Filter *f) {
	auto &R = rt();
	guarded_lock lock(R.filter_mutex);
	R.filter.store(f);
}

} // namespace turquoise
