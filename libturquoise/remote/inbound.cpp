// inbound.cpp — what arrives on a runtime's port (see turquoise/process/network.hpp): messages
// go to the receiver's mailbox (202, or 404 if there is no such process), our own link and
// exited messages to the link tables, other requests to the receiver's routes.
#include "events.hpp"
#include "network.hpp"

#include <turquoise/process/wire.hpp>

namespace turquoise::detail {
namespace {

http::Response refuse(const std::string &why) {
	http::Response r = http::BadRequest(why + "\n");
	r.headers.push_back({"Connection", "close"}); // the server closes after the answer
	return r;
}

} // namespace

Future<http::Response> network::inbound(const http::Request &r) {
	wire::Classified c = wire::classify(r);
	switch (c.what) {
	case wire::Classified::kind::unknown:
		return http::NotFound("not found\n");
	case wire::Classified::kind::bad:
		count.bad_messages.fetch_add(1, std::memory_order_relaxed);
		return refuse(c.why);
	case wire::Classified::kind::route: {
		count.route_requests.fetch_add(1, std::memory_order_relaxed);
		http_event *e;
		Future<http::Response> answer;
		{
			critical cs;
			e = new http_event;
			e->request = r;
			e->path = std::move(c.path);
			answer = e->promise.future();
		}
		if (!deliver_by_id(c.id, e))
			return http::NotFound("no such process\n");
		return answer;
	}
	case wire::Classified::kind::message:
		break;
	}
	if (c.name == link_message) {
		remote_linked(c.from, c.id);
		return http::Accepted();
	}
	if (c.name == exited_message) {
		remote_exited(c.from, c.id);
		return http::Accepted();
	}
	message_event *e;
	{
		critical cs;
		e = new message_event;
		e->message.name = std::move(c.name);
		e->message.from = std::move(c.from);
		// `advertised` is set before the server that calls us starts and never changes:
		// read without the lock (address() would take it for every message).
		e->message.to = UPID(c.id, advertised);
		e->message.body = r.body;
	}
	if (!deliver_by_id(c.id, e)) {
		count.not_found.fetch_add(1, std::memory_order_relaxed);
		return http::NotFound();
	}
	count.received.fetch_add(1, std::memory_order_relaxed);
	return http::Accepted();
}

} // namespace turquoise::detail
