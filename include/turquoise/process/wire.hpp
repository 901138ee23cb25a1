// turquoise/process/wire.hpp — libprocess's message wire as pure functions: encoding a
// message as the HTTP request libprocess sends, and classifying a received request as a
// message, a route request or a bad message (see network.hpp for the rules). Used by the
// runtime's network side; public so that tools and fuzzers can use them.
#ifndef TURQUOISE_PROCESS_WIRE_HPP
#define TURQUOISE_PROCESS_WIRE_HPP

#include <turquoise/http/message.hpp>
#include <turquoise/process/message.hpp>
#include <turquoise/process/pid.hpp>

#include <string>
#include <string_view>

namespace turquoise::wire {

// Append the request libprocess writes for `m` (to m.to's address, from m.from):
//   POST /<to.id>/<name> HTTP/1.1, User-Agent: libprocess/<from>, Libprocess-From: <from>,
//   Connection: Keep-Alive, Host: <to's ip:port>, then a non-empty body as one chunk
//   (Transfer-Encoding: chunked) or nothing.
void append_message(std::string &out, const Message &m);
// The same in three parts, for writers that keep a large body where it is (writev):
// append_message == append_message_head, then m.body, then message_tail(m).
void append_message_head(std::string &out, const Message &m);
std::string_view message_tail(const Message &m) noexcept;

// What a received request is.
struct Classified {
	enum class kind {
		message, // a libprocess message for process `id` (name, from set)
		route,   // an HTTP request for process `id`'s route `path` ("/x/y", or "/" for none)
		bad,     // a message request that cannot be delivered: answer 400 (why)
		unknown, // no process id in the path (e.g. "/"): answer 404
	};
	kind what = kind::unknown;
	std::string id;   // the receiver's id, percent-decoded
	std::string name; // message: its name, percent-decoded
	std::string path; // route: the rest of the path after the id ("/..."), not decoded
	UPID from;        // message: the sender (Libprocess-From, else User-Agent's)
	std::string why;  // bad: what is wrong
};

Classified classify(const http::Request &request);

// Percent-decode `text` (RFC 3986): false if an escape is malformed.
bool percent_decode(std::string_view text, std::string &out);

} // namespace turquoise::wire

#endif
