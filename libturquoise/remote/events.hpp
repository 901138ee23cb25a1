// events.hpp — the mailbox events of the message layer (internal): a named message, an
// exited notification, an HTTP request for a route; and `messaging`, ProcessBase's side.
#pragma once

#include <turquoise/async/future.hpp>
#include <turquoise/http/message.hpp>
#include <turquoise/process/message.hpp>
#include <turquoise/process/process.hpp>

#include <string>

namespace turquoise::detail {

struct message_event final : event {
	Message message;
	message_event() { what = kind::message; }
	void run(ProcessBase *p) override;
};

struct exited_event final : event {
	UPID pid;
	exited_event() { what = kind::exited; }
	void run(ProcessBase *p) override;
};

struct http_event final : event {
	http::Request request;
	std::string path; // the route path: the request's path after /<id>
	Promise<http::Response> promise;
	http_event() { what = kind::http; }
	void run(ProcessBase *p) override;
};

// Make and queue events (false: no such live process, the event was dropped). Local only:
// `to` must name a process of this program.
bool deliver_message(Message &&m);
bool deliver_exited(const UPID &linker, const UPID &pid);

// Deliver to the live process with this id, whatever address the caller named it by (the
// network side has checked that the address is ours). False: none.
bool deliver_by_id(const std::string &id, event *e);
// The live process with this id (with its reference), or an empty UPID.
UPID find_local(const std::string &id);
// A message without a handler was dropped (RuntimeStats::unhandled).
void count_unhandled();

} // namespace turquoise::detail
