// messaging.cpp — named messages, links and routes on the process side: ProcessBase::install,
// send, link, route; post(); and the mailbox events that run them in the process's context.
#include "events.hpp"
#include "network.hpp"

#include <turquoise/guarded_lock.hpp>
#include <turquoise/runtime.hpp>

#include <cstdio>
#include <exception>
#include <mutex>
#include <set>
#include <utility>

namespace turquoise {
namespace detail {

struct messaging {
	static void handle(ProcessBase &p, Message &m) {
		auto it = p.handlers_.find(m.name);
		if (it == p.handlers_.end()) {
			count_unhandled();
			return;
		}
		p.from_ = m.from;
		try {
			it->second(m.from, std::move(m.body));
		} catch (const std::exception &e) {
			critical cs;
			std::fprintf(stderr, "turquoise: process %s: handler of message '%s' threw: %s\n", p.pid_.id.c_str(),
			             m.name.c_str(), e.what());
		}
		p.from_ = UPID();
	}

	static void exited(ProcessBase &p, const UPID &pid) { p.exited(pid); }

	static void http(ProcessBase &p, http_event &e) {
		// The route equal to the path, else the longest one the path continues with a '/'.
		const ProcessBase::HttpRequestHandler *h = nullptr;
		auto exact = p.routes_.find(e.path);
		if (exact != p.routes_.end()) {
			h = &exact->second;
		} else {
			std::size_t best = 0;
			for (auto &[name, handler] : p.routes_)
				if (name.size() > best && e.path.size() > name.size() && e.path.compare(0, name.size(), name) == 0 &&
				    (e.path[name.size()] == '/' || name == "/")) {
					h = &handler;
					best = name.size();
				}
		}
		if (!h) {
			e.promise.set(http::NotFound("not found\n"));
			return;
		}
		try {
			e.promise.set((*h)(e.request));
		} catch (const std::exception &x) {
			e.promise.fail(x.what());
		}
	}
};

void message_event::run(ProcessBase *p) { messaging::handle(*p, message); }
void exited_event::run(ProcessBase *p) { messaging::exited(*p, pid); }
void http_event::run(ProcessBase *p) { messaging::http(*p, *this); }

bool deliver_message(Message &&m) {
	message_event *e;
	{
		critical cs;
		e = new message_event;
		e->message = std::move(m);
	}
	UPID to = e->message.to; // deliver() may destroy e
	return deliver(to, e);
}

bool deliver_exited(const UPID &linker, const UPID &pid) {
	exited_event *e;
	{
		critical cs;
		e = new exited_event;
		e->pid = pid;
		e->pid.reference.reset();
	}
	return deliver(linker, e);
}

namespace {

// Local links: (linker, target) pairs being watched, so that linking twice reports once.
std::mutex local_links_mutex;
std::set<std::pair<UPID, UPID>> *local_links = nullptr;

void link_local(const UPID &linker, const UPID &target) {
	UPID a = linker, b = target;
	a.reference.reset();
	b.reference.reset();
	{
		critical cs;
		guarded_lock lock(local_links_mutex);
		if (!local_links)
			local_links = new std::set<std::pair<UPID, UPID>>;
		if (!local_links->insert({a, b}).second)
			return;
	}
	when_terminated(target).onAny([linker, a, b](const Future<Nothing> &) {
		{
			critical cs;
			guarded_lock lock(local_links_mutex);
			local_links->erase({a, b});
		}
		deliver_exited(linker, b);
	});
}

} // namespace
} // namespace detail

void abi::post(const UPID &from, const UPID &to, const std::string &name, std::string &&body) {
	Message m;
	{
		detail::critical cs;
		m.name = name;
		m.from = from;
		m.to = to;
	}
	m.body = std::move(body);
	if (detail::is_local(to.address)) {
		detail::deliver_message(std::move(m));
		return;
	}
	runtime::current().network_state().send(std::move(m));
}


void ProcessBase::install(const std::string &name, MessageHandler handler) {
	detail::critical cs;
	handlers_[name] = std::move(handler);
}

void ProcessBase::send(const UPID &to, const std::string &name, std::string body) {
	abi::post(pid_, to, name, std::move(body));
}

UPID ProcessBase::link(const UPID &to) {
	if (!to)
		return to;
	if (detail::is_local(to.address))
		detail::link_local(pid_, to);
	else
		runtime::current().network_state().link(pid_, to);
	return to;
}

void ProcessBase::route(const std::string &name, const Option<std::string> &, HttpRequestHandler handler) {
	detail::critical cs;
	routes_[name] = std::move(handler);
}

} // namespace turquoise
