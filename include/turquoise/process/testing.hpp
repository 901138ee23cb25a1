// turquoise/process/testing.hpp — watching, dropping and spoofing dispatches in tests.
//
//   Future<Nothing> f = FUTURE_DISPATCH(pid, &P::method);  ready when the next matching
//                       dispatch is about to run (it then runs as usual)
//   Future<Nothing> d = DROP_DISPATCH(pid, &P::method);    the next matching dispatch is dropped
//                       (its future abandoned); d becomes ready when that happens
//   DispatchWatch w = DROP_DISPATCHES(pid, &P::method);    drop every matching dispatch from now
//                       on; w.count() says how many were dropped
//   DispatchWatch n = EXPECT_NO_FUTURE_DISPATCHES(pid, &P::method);  count matching dispatches
//                       (they run as usual); check n.count() == 0 from the test thread
//   SPOOF_DISPATCH(pid, &P::method, args...) / SPOOF_DISPATCH(pid, f, args...)
//                       dispatch as usual but bypass every filter (e.g. to deliver a call a
//                       DROP_DISPATCHES is dropping); returns the dispatch's future
//   clear_dispatch_expectations()  forget them all and uninstall the testing filter (call it
//                       at the end of a test; the expectations are global)
//
// Messages (message.hpp), matched by name, sender and receiver where they are handled (the
// receiving side: a test sees the messages its own program receives):
//   Future<Message> m = FUTURE_MESSAGE(name, from, to);  the next matching message, which is
//                       then handled as usual
//   Future<Message> d = DROP_MESSAGE(name, from, to);    the next matching message is dropped
//   Future<M> p = FUTURE_PROTOBUF(M(), from, to);        as FUTURE_MESSAGE for M's type name,
//   Future<M> q = DROP_PROTOBUF(M(), from, to);          the body parsed as an M
//   MessageWatch w = DROP_MESSAGES(name, from, to);      drop every matching message from now
//   clear_message_expectations()  forget every expectation, dispatch and message alike (as
//                       clear_dispatch_expectations() does)
// name "" (or any_name), from/to any_process: match any. A UPID whose address is the
// placeholder 127.0.0.1:0 matches by id only; others by id and address. Messages from
// post() are matched like any other (post is how a test spoofs a sender).
//
// pid: the receiving process; an empty UPID() (or `any_process`) matches every process. A
// method of `nullptr` (MethodId{}) matches lambda dispatches. Matching is done in the
// receiving process's context, right before the handler would run (see filter.hpp).
// Each dispatch is consumed by the OLDEST active matching FUTURE_DISPATCH / DROP_DISPATCH /
// DROP_DISPATCHES expectation (so two FUTURE_DISPATCHes for the same method are satisfied by
// two successive dispatches, in the order they were set); EXPECT_NO_FUTURE_DISPATCHES watches
// count every matching dispatch without consuming it.
//
// The expectations work through a Filter installed on first use; they cannot be combined
// with another filter(). Callbacks on the futures of FUTURE_DISPATCH/DROP_DISPATCH
// run under the filter lock: they must not set or clear expectations (that would wait on
// the lock they run under); do that from the test thread.
#ifndef TURQUOISE_PROCESS_TESTING_HPP
#define TURQUOISE_PROCESS_TESTING_HPP

#include <turquoise/async/failure.hpp>
#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/event.hpp>
#include <turquoise/process/filter.hpp>
#include <turquoise/process/message.hpp>
#include <turquoise/process/pid.hpp>

#include <cstdint>
#include <memory>
#include <utility>

namespace turquoise::testing {

inline const UPID any_process{};
inline const std::string any_name{};

namespace internal {
struct expectation;
}

class DispatchWatch {
public:
	explicit DispatchWatch(std::shared_ptr<internal::expectation> e) : e_(std::move(e)) {}
	std::uint64_t count() const; // matching dispatches seen (dropped, for DROP_DISPATCHES)
	void cancel();               // stop watching / dropping

private:
	std::shared_ptr<internal::expectation> e_;
};

Future<Nothing> future_dispatch(const UPID &pid, MethodId method);
Future<Nothing> drop_dispatch(const UPID &pid, MethodId method);
DispatchWatch drop_dispatches(const UPID &pid, MethodId method);
DispatchWatch expect_no_dispatches(const UPID &pid, MethodId method);
void clear_dispatch_expectations();

using MessageWatch = DispatchWatch; // count(): messages dropped; cancel(): stop dropping
Future<Message> future_message(const std::string &name, const UPID &from, const UPID &to);
Future<Message> drop_message(const std::string &name, const UPID &from, const UPID &to);
MessageWatch drop_messages(const std::string &name, const UPID &from, const UPID &to);
void clear_message_expectations();

// The message's body parsed as an M (a failed future if it does not parse).
template <class M>
Future<M> parse_protobuf(Future<Message> message) {
	return message.then([](const Message &m) -> Future<M> {
		M out;
		if (!out.ParseFromString(m.body))
			return Failure("message '" + m.name + "' does not parse as " + out.GetTypeName());
		return out;
	});
}

inline MethodId method_id(std::nullptr_t) { return MethodId{}; }
template <class M, class = std::enable_if_t<std::is_member_function_pointer_v<M>>>
MethodId method_id(M m) {
	return MethodId::of(m);
}

template <class T, class M, class... A, class = std::enable_if_t<detail::is_method_v<M>>>
auto spoof_dispatch(const PID<T> &pid, M method, A &&...a);
template <class F, class... A,
          class = std::enable_if_t<!detail::is_method_v<F> &&
                                   std::is_invocable_v<std::decay_t<F> &, std::decay_t<A> &...>>>
auto spoof_dispatch(const UPID &pid, F &&f, A &&...a);

} // namespace turquoise::testing

#include <turquoise/process/detail/testing.hpp>

#define FUTURE_DISPATCH(pid, method)                                                          \
	::turquoise::testing::future_dispatch((pid), ::turquoise::testing::method_id(method))
#define DROP_DISPATCH(pid, method)                                                            \
	::turquoise::testing::drop_dispatch((pid), ::turquoise::testing::method_id(method))
#define DROP_DISPATCHES(pid, method)                                                          \
	::turquoise::testing::drop_dispatches((pid), ::turquoise::testing::method_id(method))
#define EXPECT_NO_FUTURE_DISPATCHES(pid, method)                                              \
	::turquoise::testing::expect_no_dispatches((pid), ::turquoise::testing::method_id(method))
#define FUTURE_MESSAGE(name, from, to) ::turquoise::testing::future_message((name), (from), (to))
#define DROP_MESSAGE(name, from, to) ::turquoise::testing::drop_message((name), (from), (to))
#define DROP_MESSAGES(name, from, to) ::turquoise::testing::drop_messages((name), (from), (to))
#define FUTURE_PROTOBUF(message, from, to)                                                    \
	::turquoise::testing::parse_protobuf<std::decay_t<decltype(message)>>(                      \
	    ::turquoise::testing::future_message((message).GetTypeName(), (from), (to)))
#define DROP_PROTOBUF(message, from, to)                                                      \
	::turquoise::testing::parse_protobuf<std::decay_t<decltype(message)>>(                      \
	    ::turquoise::testing::drop_message((message).GetTypeName(), (from), (to)))
#define SPOOF_DISPATCH(pid, ...) ::turquoise::testing::spoof_dispatch((pid), __VA_ARGS__)

#endif
