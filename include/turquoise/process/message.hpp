// turquoise/process/message.hpp — named messages between processes, local or remote, as in
// libprocess: Message, post(), and the events filters see (MessageEvent, ExitedEvent).
//
//   class Pong : public Process<Pong> {
//   protected:
//     void initialize() override { install("ping", &Pong::ping); }
//     void ping(const UPID &from, std::string &&body) { send(from, "pong", std::move(body)); }
//   };
//   post(pong_pid, "ping", "hello");          // from nobody (an empty UPID)
//   post(me, pong_pid, "ping", "hello");      // spoofed sender, for tests
//
// Delivery: a message to a UPID of this program (its address is the placeholder 127.0.0.1:0
// or one a runtime of this program listens on) goes straight to the process's mailbox; any
// other goes over TCP to that address (network.hpp: the wire). Either way the receiver runs
// the handler installed for the name (ProcessBase::install) in its own context, in mailbox
// order; a name without a handler is dropped and counted (RuntimeStats::unhandled). Messages
// from one sender to one receiver arrive in the order sent; none is delivered twice. A
// message to an unknown process, or to a peer that cannot be reached, is dropped and counted
// (RuntimeStats::dropped locally; network_stats for remote ones). Sending never blocks.
#ifndef TURQUOISE_PROCESS_MESSAGE_HPP
#define TURQUOISE_PROCESS_MESSAGE_HPP

#include <turquoise/process/pid.hpp>

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

namespace turquoise {

// libprocess's struct Message.
struct Message {
	std::string name; // e.g. "ping", or a protobuf's full type name "mesos.internal.Foo"
	UPID from;        // the sender as it named itself (empty for post(to, ...))
	UPID to;
	std::string body; // raw bytes (a serialized protobuf for protobuf messages)
};

// What a Filter sees of a message about to be handled (filter.hpp).
struct MessageEvent {
	Message message;
};

// What a Filter sees of an exited notification about to be handled.
struct ExitedEvent {
	UPID pid; // the linked process that exited
};

namespace abi {
void post(const UPID &from, const UPID &to, const std::string &name, std::string &&body);
}

// Send a message from `from` (any UPID: nothing checks it is ours) to `to`. post(to, ...)
// sends from an empty UPID (a remote one goes out from "anonymous@<our address>"). As in
// libprocess, `data` is `length` bytes: post(to, "name", "text") sends an empty body; pass a
// std::string for a body of text.
inline void post(const UPID &to, const std::string &name, const char *data = nullptr, std::size_t length = 0) {
	abi::post(UPID(), to, name, data ? std::string(data, length) : std::string());
}
inline void post(const UPID &to, const std::string &name, std::string body) {
	abi::post(UPID(), to, name, std::move(body));
}
// (`to` is a UPID or a PID<T>, never a string: post(pid, "name", body) must not read "name" as
// a UPID.)
template <class To, class = std::enable_if_t<std::is_base_of_v<UPID, To>>>
void post(const UPID &from, const To &to, const std::string &name, const char *data = nullptr,
          std::size_t length = 0) {
	abi::post(from, to, name, data ? std::string(data, length) : std::string());
}
template <class To, class = std::enable_if_t<std::is_base_of_v<UPID, To>>>
void post(const UPID &from, const To &to, const std::string &name, std::string body) {
	abi::post(from, to, name, std::move(body));
}

} // namespace turquoise

#endif
