// turquoise/process/process.hpp — actors ("processes") on a turquoise::pool, after libprocess.
//
//   class Counter : public Process<Counter> {
//   public:
//     Counter() : ProcessBase(ID::generate("counter")) {}
//     int add(int n) { return total += n; }   // no locks: one message at a time
//   private:
//     int total = 0;
//   };
//   Counter c;
//   PID<Counter> pid = spawn(c);
//   Future<int> f = dispatch(pid, &Counter::add, 2);    // see dispatch.hpp
//   terminate(pid); wait(pid);
//
// Semantics
// - Each spawned process has a mailbox. Its messages (dispatches, and the terminate
//   request) run in FIFO order, one at a time: a process runs on at most one worker at a
//   time. initialize() runs before its first message, finalize() when the terminate request
//   is served; both run in the process's context.
// - A process's messages run as one pool task that serves up to a batch of messages, then
//   yields the worker by re-posting itself (so a busy process cannot starve the others). The
//   task is a preemptible function: a handler that outlives the pool's quantum is preempted
//   and demoted like any long task. The process then stays busy — its next messages wait
//   for the preempted handler — while the worker runs other processes' messages.
// - Placement: a process that was idle and gets a message from a handler (or any pool task)
//   runs next on the sender's worker, after the sending task (pool::post_next), so a
//   request/response exchange stays on one worker; an idle worker takes it over if the
//   sender runs on. Messages from outside the pool go through the pool's injector.
// - terminate(pid, inject=true) puts the terminate request ahead of the queued messages
//   (inject=false: behind them). A handler that is running (or preempted) is never cut
//   short. Messages still queued when a process terminates, and messages sent to a
//   terminated or unknown process, are dropped: their futures are abandoned.
// - After termination the runtime no longer touches the process object: the owner may
//   delete it once wait() returned (or when_terminated() is ready). spawn(p, true) hands the
//   object to the runtime, which deletes it after finalize() (before waiters are woken).
//   Destroying a process that is spawned and not terminated is a bug: it aborts.
// - Runtime: processes run on the current runtime's pool (runtime.hpp: the one installed by
//   a runtime_scope, else the default runtime). A process stays on the pool it was spawned
//   on.
// - Preemption metrics: a handler (a message, initialize or finalize) counts as preempted
//   when it was suspended at least once before returning. It is detected from the worker
//   thread's libinger counters (linger_stats: preemptions + pauses), read after each
//   handler and compared with the previous read: a preempted function resumes only on its
//   own thread, and nothing else runs on that thread between the two reads unless the run
//   task was suspended. (A suspension in the run task's few instructions between two
//   handlers counts for the second; a handler that itself launches preemptible functions
//   which get preempted also counts.)
// - Messages (message.hpp, network.hpp): install() a handler per message name, send() to
//   any UPID, local or remote; link() to a process to get exited() when it terminates or its
//   host is lost; route() serves HTTP requests for /<id>/<path> on the runtime's port. All
//   handlers run in the process's context, one event at a time, in mailbox order.
// - Blocking: wait() blocks its thread; it throws std::logic_error when called from a task
//   of the runtime's pool (it would block a worker): use when_terminated() there.
#ifndef TURQUOISE_PROCESS_PROCESS_HPP
#define TURQUOISE_PROCESS_PROCESS_HPP

#include <turquoise/async/clock.hpp>
#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/async/option.hpp>
#include <turquoise/http/message.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/event.hpp>
#include <turquoise/process/message.hpp>
#include <turquoise/process/pid.hpp>
#include <turquoise/runtime.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace turquoise {

// Counters of one process.
struct ProcessStats {
	// Handlers started (dispatches; not initialize/finalize): counted before the handler
	// runs, so a dispatch whose future is ready is counted.
	std::uint64_t messages = 0;
	std::uint64_t handler_preemptions = 0; // handlers (incl. initialize/finalize) preempted at least once
	std::uint64_t dropped = 0;             // dispatches dropped by a filter
	std::uint64_t queued = 0;              // messages waiting in the mailbox now
};

// Counters of the whole runtime (every pool it ran on).
struct RuntimeStats {
	std::uint64_t spawned = 0;
	std::uint64_t terminated = 0;
	std::uint64_t live = 0;                // spawned and not yet terminated
	// Dispatch handlers run. Added per run of a process's messages (a batch, to keep the
	// shared counter's cache line still): it may trail the futures those handlers completed
	// until the batch ends; ProcessStats::messages does not.
	std::uint64_t messages = 0;
	std::uint64_t handler_preemptions = 0; // handlers preempted at least once
	std::uint64_t dropped = 0;             // dispatches dropped: filtered, or to a dead process
	std::uint64_t busy = 0;                // processes with work queued or running now
	std::uint64_t unhandled = 0;           // messages dropped: no handler for their name
};

namespace detail {
struct messaging; // the message, link and route machinery's access (libturquoise/remote)
// Is the first of P... `const UPID &` (a protobuf handler that takes the sender)?
template <class... P>
struct takes_sender : std::false_type {};
template <class... P>
struct takes_sender<const UPID &, P...> : std::true_type {};
} // namespace detail

class ProcessBase {
public:
	// An empty id is replaced by ID::generate(): "(N)", as in libprocess (and short enough
	// that copying a pid allocates nothing).
	explicit ProcessBase(const std::string &id = "");
	virtual ~ProcessBase();
	ProcessBase(const ProcessBase &) = delete;
	ProcessBase &operator=(const ProcessBase &) = delete;

	UPID self() const { return pid_; }

	// This process's counters (zero before it is spawned; final ones once it terminated).
	ProcessStats stats() const;

	// libprocess's handler types.
	using MessageHandler = std::function<void(const UPID &from, std::string &&body)>;
	using HttpRequestHandler = std::function<Future<http::Response>(const http::Request &)>;

protected:
	// Run in the process's context: before its first message, and when it terminates.
	virtual void initialize() {}
	virtual void finalize() {}
	// A process this one linked to has terminated, or its host was lost (libprocess:
	// exited). Called once per link, in this process's context.
	virtual void exited(const UPID & /*pid*/) {}

	// Handle messages named `name` (replaces an earlier handler of that name). Call it from
	// the constructor or in the process's context (initialize(), a handler).
	void install(const std::string &name, MessageHandler handler);

	// Send a message from self() (message.hpp). Never blocks; see there for order and loss.
	void send(const UPID &to, const std::string &name, std::string body = {});
	void send(const UPID &to, const std::string &name, const char *data, std::size_t length) {
		send(to, name, std::string(data, length));
	}
	// A protobuf message M (anything with SerializeToString and GetTypeName): its full type
	// name is the message name. (Header template: libturquoise does not link protobuf.)
	template <class M, class = decltype(std::declval<const M &>().SerializeToString(nullptr))>
	void send(const UPID &to, const M &message) {
		std::string body;
		message.SerializeToString(&body);
		send(to, message.GetTypeName(), std::move(body));
	}
	// The sender of the message being handled (empty outside a message handler).
	const UPID &from() const { return from_; }
	// Send a protobuf to the sender of the message being handled (libprocess's reply()).
	template <class M, class = decltype(std::declval<const M &>().SerializeToString(nullptr))>
	void reply(const M &message) {
		send(from_, message);
	}

	// Watch `to`: when it terminates (for a remote one: when its runtime says so, or the
	// connection to its address closes, is refused or resets) this process gets exited(to),
	// once. Linking twice to one process watches it once. A remote link opens (or reuses) a
	// persistent connection to the address. Returns `to`.
	UPID link(const UPID &to);

	// Serve HTTP requests for /<id><name> (and /<id><name>/..., the longest route wins) on
	// the runtime's port. name starts with '/'. The handler runs in the process's context;
	// its failed future answers 500. `help` is kept for libprocess compatibility.
	void route(const std::string &name, const Option<std::string> &help, HttpRequestHandler handler);
	void route(const std::string &name, HttpRequestHandler handler) { route(name, None(), std::move(handler)); }

private:
	friend struct detail::record;
	friend struct detail::access;
	friend struct detail::messaging;
	UPID pid_;
	std::shared_ptr<detail::record> record_; // since spawn (kept for stats())
	// Touched in the process's context only (and before spawn).
	std::unordered_map<std::string, MessageHandler> handlers_;
	std::map<std::string, HttpRequestHandler, std::less<>> routes_;
	UPID from_; // sender of the message being handled
};

// CRTP base: class P : public Process<P>. ProcessBase is a virtual base, so the most derived
// class may pass the id: P() : ProcessBase(ID::generate("p")) {}.
template <class T>
class Process : public virtual ProcessBase {
public:
	PID<T> self() const { return PID<T>(static_cast<const T &>(*this)); }

protected:
	Process() = default;

	using ProcessBase::install;
	using ProcessBase::route;

	// install("name", &T::handler): handler(const UPID &from, std::string &&body), or
	// (const UPID &, const std::string &).
	void install(const std::string &name, void (T::*method)(const UPID &, std::string &&)) {
		T *t = static_cast<T *>(this);
		install(name, MessageHandler([t, method](const UPID &from, std::string &&body) {
			        (t->*method)(from, std::move(body));
		        }));
	}
	void install(const std::string &name, void (T::*method)(const UPID &, const std::string &)) {
		T *t = static_cast<T *>(this);
		install(name, MessageHandler([t, method](const UPID &from, std::string &&body) {
			        (t->*method)(from, body);
		        }));
	}

	// Protobuf messages (libprocess's ProtobufProcess::install): the handler runs for messages
	// named M's full type name whose body parses as an M (others are dropped, counted as
	// unhandled). M needs ParseFromString and GetTypeName only: header templates, so
	// libturquoise does not link protobuf.
	//   install<M>(&T::f)                 f(const M &)
	//   install<M>(&T::f)                 f(const UPID &from, const M &)
	//   install<M>(&T::f, &M::a, &M::b)   f(const UPID &from, a, b): the fields' values
	//   install<M>(&T::f, &M::a, ...)     f(a, ...) without the sender
	template <class M>
	void install(void (T::*method)(const M &));
	template <class M>
	void install(void (T::*method)(const UPID &, const M &));
	template <class M, class... P, class F1, class... F>
	void install(void (T::*method)(const UPID &, P...), F1 field, F... fields);
	template <class M, class... P, class F1, class... F,
	          class = std::enable_if_t<!detail::takes_sender<P...>::value>>
	void install(void (T::*method)(P...), F1 field, F... fields);

	// route("/path", &T::handler): Future<http::Response> handler(const http::Request &).
	void route(const std::string &name, const Option<std::string> &help,
	           Future<http::Response> (T::*method)(const http::Request &)) {
		T *t = static_cast<T *>(this);
		route(name, help, HttpRequestHandler([t, method](const http::Request &r) { return (t->*method)(r); }));
	}
};

// Start running `process`. Returns its pid, or an empty UPID if this very process is running
// already, or if another live process has the same id (a managed process is then deleted).
// A process that has terminated may be spawned again. manage: the runtime deletes it after it
// terminated.
UPID spawn(ProcessBase *process, bool manage = false);
inline UPID spawn(ProcessBase &process, bool manage = false) { return spawn(&process, manage); }
template <class T, class = std::enable_if_t<std::is_base_of_v<ProcessBase, T>>>
PID<T> spawn(T *t, bool manage = false) {
	return PID<T>(spawn(static_cast<ProcessBase *>(t), manage));
}
template <class T, class = std::enable_if_t<std::is_base_of_v<ProcessBase, T>>>
PID<T> spawn(T &t, bool manage = false) {
	return spawn(&t, manage);
}

// Ask the process to terminate (no-op for an unknown or terminated process).
void terminate(const UPID &pid, bool inject = true);
inline void terminate(const ProcessBase &process, bool inject = true) { terminate(process.self(), inject); }
inline void terminate(const ProcessBase *process, bool inject = true) { terminate(process->self(), inject); }

// Block (real time) until the process has terminated; true if it did within the timeout
// (immediately true for an unknown pid). Not from a task of the runtime's pool.
bool wait(const UPID &pid, std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max());
inline bool wait(const ProcessBase &process,
                 std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max()) {
	return wait(process.self(), timeout);
}
inline bool wait(const ProcessBase *process,
                 std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max()) {
	return wait(process->self(), timeout);
}

// Ready once the process has terminated (and, if managed, been deleted); ready at once for
// an unknown pid. Usable anywhere.
Future<Nothing> when_terminated(const UPID &pid);

// The process runtime's bookkeeping (libprocess's ProcessManager).
class ProcessManager {
public:
	// The pool processes are spawned on now: runtime::current().workers().
	static pool &workers();

	static RuntimeStats stats();
	static Option<ProcessStats> stats(const UPID &pid); // None: not a live process
	static std::uint64_t live();

	// Terminate every live process and wait for them (not from a task of the pool).
	static void terminate_all(std::chrono::nanoseconds timeout = std::chrono::seconds(60));

	// Wait (real time) until no timer of the Clock is due, no timer callback runs and no
	// process has a message queued or running. True if reached within the timeout. (A
	// process that never goes idle, e.g. a spinning handler, prevents it.) Clock::settle()
	// is this without a timeout.
	static bool settle(std::chrono::nanoseconds timeout = std::chrono::seconds(15));
};

// libprocess's process::initialize(): make sure the current runtime exists (the default
// runtime is created from the environment; std::invalid_argument if a variable is invalid).
// True the first time it is called.
bool initialize();
// libprocess's process::finalize(): terminate every live process and wait for them. (The
// default runtime itself is never destroyed; the argument is libprocess's, for Windows.)
void finalize(bool finalize_wsa = false);

} // namespace turquoise

#include <turquoise/process/detail/protobuf.hpp>

#endif
