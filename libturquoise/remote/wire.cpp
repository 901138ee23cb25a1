// wire.cpp — libprocess's message wire: encoding our messages, classifying received requests
// (see turquoise/process/wire.hpp and network.hpp).
#include <turquoise/process/wire.hpp>

#include "../http/text.hpp"

#include <inger/inger.hpp>

#include <cstdio>
#include <optional>

namespace turquoise::wire {
namespace {

constexpr std::string_view user_agent_prefix = "libprocess/";

Classified bad(std::string id, std::string why) {
	Classified c;
	c.what = Classified::kind::bad;
	c.id = std::move(id);
	c.why = std::move(why);
	return c;
}

} // namespace

bool percent_decode(std::string_view text, std::string &out) {
	if (!http::detail::valid_escapes(text))
		return false;
	out = http::detail::decode_component(text, false);
	return true;
}

void append_message(std::string &out, const Message &m) {
	append_message_head(out, m);
	out += m.body;
	out += message_tail(m);
}

std::string_view message_tail(const Message &m) noexcept {
	return m.body.empty() ? std::string_view() : std::string_view("\r\n0\r\n\r\n");
}

void append_message_head(std::string &out, const Message &m) {
	std::string from = m.from.str();
	out += "POST ";
	if (!m.to.id.empty()) {
		out += '/';
		out += m.to.id;
	}
	out += '/';
	out += m.name;
	out += " HTTP/1.1\r\nUser-Agent: libprocess/";
	out += from;
	out += "\r\nLibprocess-From: ";
	out += from;
	out += "\r\nConnection: Keep-Alive\r\nHost: ";
	out += m.to.address.str();
	out += "\r\n";
	if (m.body.empty()) {
		out += "\r\n";
		return;
	}
	char size[24];
	std::snprintf(size, sizeof size, "%zx", m.body.size());
	out += "Transfer-Encoding: chunked\r\n\r\n";
	out += size;
	out += "\r\n";
}

Classified classify(const http::Request &r) {
	Classified c;
	std::string_view path = r.path;
	if (path.size() < 2 || path[0] != '/')
		return c; // unknown: no process id
	path.remove_prefix(1);
	std::size_t slash = path.find('/');
	std::string_view raw_id = path.substr(0, slash);
	std::string_view rest = slash == std::string_view::npos ? std::string_view() : path.substr(slash);

	// A message: a POST with Libprocess-From, else with a User-Agent naming a libprocess peer.
	std::optional<std::string_view> sender;
	if (r.method == "POST") {
		sender = r.find_header("Libprocess-From");
		if (!sender) {
			auto agent = r.find_header("User-Agent");
			if (agent && agent->substr(0, user_agent_prefix.size()) == user_agent_prefix)
				sender = agent->substr(user_agent_prefix.size());
		}
	}
	std::string id;
	if (!percent_decode(raw_id, id) || id.empty())
		return sender ? bad({}, "bad process id in the path") : c;
	for (char ch : id)
		if (static_cast<unsigned char>(ch) <= 0x20 || ch == '@' || ch == '/' || ch == '%' ||
		    static_cast<unsigned char>(ch) >= 0x7f)
			return sender ? bad(id, "bad process id in the path") : c;
	c.id = std::move(id);

	if (!sender) {
		c.what = Classified::kind::route;
		c.path = rest.empty() ? std::string("/") : std::string(rest);
		return c;
	}
	if (rest.size() < 2)
		return bad(c.id, "no message name in the path");
	std::string name;
	if (!percent_decode(rest.substr(1), name))
		return bad(c.id, "bad %-escape in the message name");
	if (name.find('/') != std::string::npos)
		return bad(c.id, "message name holds '/'");
	for (char ch : name)
		if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
			return bad(c.id, "message name holds a control byte (e.g. %00)");
	// A peer sends from few UPIDs, most often the same one many times in a row: the last
	// sender parsed on this thread is kept (by value: nothing shared between threads). The
	// critical section keeps a preemption from moving the task to another worker's cache
	// half-way.
	thread_local std::string last_sender;
	thread_local UPID last_from;
	{
		inger::critical_section cs;
		if (last_sender.empty() || *sender != last_sender) {
			Try<UPID> from = UPID::parse_strict(*sender);
			if (from.isError())
				return bad(c.id, "sender: " + from.error());
			last_from = std::move(from).get();
			last_sender.assign(*sender);
		}
		c.from = last_from;
	}
	c.what = Classified::kind::message;
	c.name = std::move(name);
	return c;
}

} // namespace turquoise::wire
