// master_frameworks.cpp — the master's frameworks: SUBSCRIBE and its event stream, heartbeats,
// the calls' dispatch, disconnection, failover timeout and removal (see master.hpp).
#include "master.hpp"

#include <turquoise/mesos/recordio.hpp>
#include <turquoise/process/dispatch.hpp>

#include <cstdio>
#include <random>

namespace turquoise::mesos::local {

std::string random_uuid_bytes() {
	static thread_local std::mt19937_64 rng{std::random_device{}()};
	std::string b(16, '\0');
	for (int i = 0; i < 16; i += 8) {
		std::uint64_t x = rng();
		for (int j = 0; j < 8; ++j)
			b[i + j] = static_cast<char>(x >> (8 * j));
	}
	b[6] = static_cast<char>((b[6] & 0x0f) | 0x40); // version 4
	b[8] = static_cast<char>((b[8] & 0x3f) | 0x80); // RFC 4122 variant
	return b;
}

std::string uuid_text(const std::string &bytes) {
	std::string s;
	char hex[3];
	for (std::size_t i = 0; i < bytes.size(); ++i) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			s += '-';
		std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned char>(bytes[i]));
		s += hex;
	}
	return s;
}

Master::Master(cluster_options options)
    : ProcessBase(ID::generate("master")), options_(std::move(options)), pool_(runtime::current().workers()),
      master_id_(uuid_text(random_uuid_bytes())) {}

void Master::initialize() { allocation_tick(); }

std::string Master::add_agent(agent_state agent) {
	std::string id = master_id_ + "-S" + std::to_string(agents_.size());
	agent.info.mutable_id()->set_value(id);
	agents_.emplace(id, std::move(agent)); // offered from initialize() on
	return id;
}

std::vector<v1::AgentInfo> Master::agents() const {
	std::vector<v1::AgentInfo> out;
	for (auto &[id, a] : agents_)
		out.push_back(a.info);
	return out;
}

framework_state *Master::framework(const std::string &id) {
	auto it = frameworks_.find(id);
	return it == frameworks_.end() ? nullptr : &it->second;
}

void Master::send(framework_state &f, const v1::scheduler::Event &event) {
	if (!f.connection)
		return;
	Try<std::string> data = encode(event, f.connection->type);
	if (data.isError())
		return; // our own events are complete; nothing to tell anyone
	// One write per record: the server sends each as its own HTTP chunk, as Mesos does. A
	// closed stream is handled later, not here: callers still hold `f`.
	if (!f.connection->writer.write(recordio::encode(data.get())))
		dispatch(self(), &Master::disconnected, f.info.id().value(), f.connection->id);
}

void Master::subscribe(v1::scheduler::Call::Subscribe subscribe, stream s) {
	const v1::FrameworkInfo &info = subscribe.framework_info();
	std::string id = info.has_id() ? info.id().value() : "";
	auto refuse = [&](const std::string &why) {
		v1::scheduler::Event error;
		error.set_type(v1::scheduler::Event::ERROR);
		error.mutable_error()->set_message(why);
		Try<std::string> data = encode(error, s.type);
		if (data.isSome())
			s.writer.write(recordio::encode(data.get()));
		s.writer.close();
	};
	if (stopped_)
		return refuse("Master is shutting down");
	if (!id.empty() && removed_frameworks_.count(id))
		return refuse("Framework has been removed");
	if (id.empty())
		id = master_id_ + "-" + [&] {
			char n[8];
			std::snprintf(n, sizeof n, "%04llu", static_cast<unsigned long long>(next_framework_++));
			return std::string(n);
		}();

	framework_state &f = frameworks_[id];
	if (f.connection) { // failover: the new subscription replaces the old stream
		v1::scheduler::Event error;
		error.set_type(v1::scheduler::Event::ERROR);
		error.mutable_error()->set_message("Framework failed over");
		send(f, error);
		f.connection->writer.close();
		f.connection.reset();
	}
	Clock::cancel(f.heartbeat);
	Clock::cancel(f.failover);
	f.info = info;
	f.info.mutable_id()->set_value(id);
	// A framework without MULTI_ROLE names its role in the deprecated `role` field.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	f.role = info.roles_size() > 0 ? info.roles(0) : info.role();
#pragma GCC diagnostic pop
	f.partition_aware = false;
	for (const auto &c : info.capabilities())
		if (c.type() == v1::FrameworkInfo::Capability::PARTITION_AWARE)
			f.partition_aware = true;
	f.suppressed = false;
	f.connection = std::move(s);

	// The framework learns that its stream is gone when the server closes the reader.
	f.connection->writer.readerClosed().onReady(
	    defer(self(), &Master::disconnected, id, f.connection->id));

	v1::scheduler::Event subscribed;
	subscribed.set_type(v1::scheduler::Event::SUBSCRIBED);
	subscribed.mutable_subscribed()->mutable_framework_id()->set_value(id);
	subscribed.mutable_subscribed()->set_heartbeat_interval_seconds(
	    std::chrono::duration<double>(options_.heartbeat_interval).count());
	v1::MasterInfo *mi = subscribed.mutable_subscribed()->mutable_master_info();
	mi->set_id(master_id_);
	mi->set_ip(0);
	mi->set_port(options_.port);
	mi->set_hostname(options_.ip);
	mi->set_version("1.11.0");
	mi->mutable_address()->set_ip(options_.ip);
	mi->mutable_address()->set_hostname(options_.ip);
	mi->mutable_address()->set_port(options_.port);
	send(f, subscribed);
	heartbeat(id, f.connection ? f.connection->id : "");

	// Updates still unacknowledged from an earlier subscription are resent now.
	for (auto &[task_id, t] : f.tasks)
		send_unacknowledged(f, t);
	schedule_allocation();
}

void Master::heartbeat(const std::string &framework_id, const std::string &stream_id) {
	framework_state *f = framework(framework_id);
	if (!f || !f->connection || f->connection->id != stream_id)
		return;
	v1::scheduler::Event event;
	event.set_type(v1::scheduler::Event::HEARTBEAT);
	send(*f, event);
	if (f->connection && f->connection->id == stream_id)
		f->heartbeat = delay(options_.heartbeat_interval, self(), &Master::heartbeat, framework_id, stream_id);
}

void Master::disconnected(const std::string &framework_id, const std::string &stream_id) {
	framework_state *f = framework(framework_id);
	if (!f || !f->connection || f->connection->id != stream_id)
		return; // an older stream, replaced since
	f->connection->writer.close();
	f->connection.reset();
	Clock::cancel(f->heartbeat);
	// Its offers go back to the pool; its tasks stay for failover_timeout.
	for (std::string offer_id : std::set<std::string>(f->offers))
		rescind_offer(offer_id, false);
	auto timeout = std::chrono::duration<double>(f->info.failover_timeout());
	if (timeout.count() <= 0)
		remove_framework(framework_id, "disconnected");
	else
		f->failover = delay(std::chrono::duration_cast<Clock::Duration>(timeout), self(),
		                    &Master::remove_framework, framework_id, std::string("failover timeout"));
}

void Master::remove_framework(const std::string &framework_id, const std::string &) {
	framework_state *f = framework(framework_id);
	if (!f)
		return;
	Clock::cancel(f->heartbeat);
	Clock::cancel(f->failover);
	for (std::string offer_id : std::set<std::string>(f->offers))
		rescind_offer(offer_id, false);
	for (auto &[task_id, t] : f->tasks) {
		Clock::cancel(t.retry);
		if (t.process)
			t.process->kill(std::chrono::nanoseconds::zero());
		release(t);
	}
	for (auto &[key, e] : f->executors) { // their exits find no framework: nothing more is sent
		for (Timer *timer : {&e.registration, &e.heartbeat, &e.shutdown})
			Clock::cancel(*timer);
		if (e.process)
			e.process->kill(std::chrono::nanoseconds::zero());
		if (e.connection)
			e.connection->writer.close();
		auto agent = agents_.find(e.agent_id);
		if (agent != agents_.end())
			agent->second.used -= e.resources;
	}
	if (f->connection)
		f->connection->writer.close(); // ends the stream: 0\r\n\r\n
	frameworks_.erase(framework_id);
	removed_frameworks_.insert(framework_id);
	schedule_allocation();
}

void Master::stop() {
	stopped_ = true;
	std::vector<std::string> ids;
	for (auto &[id, f] : frameworks_)
		ids.push_back(id);
	for (auto &id : ids)
		remove_framework(id, "cluster stopped");
}

http::Response Master::call(v1::scheduler::Call call, std::optional<std::string> stream_id) {
	using Call = v1::scheduler::Call;
	framework_state *f = framework(call.framework_id().value());
	if (!f)
		return http::BadRequest("Framework cannot be found");
	if (!f->connection)
		return http::Response(403, "Framework is not subscribed");
	if (!stream_id)
		return http::BadRequest("All non-subscribe calls should include the 'Mesos-Stream-Id' header");
	if (*stream_id != f->connection->id)
		return http::BadRequest("The stream ID '" + *stream_id +
		                        "' included in this request didn't match the stream ID currently "
		                        "associated with framework ID " + call.framework_id().value());
	switch (call.type()) {
	case Call::TEARDOWN:
		remove_framework(call.framework_id().value(), "teardown");
		break;
	case Call::ACCEPT:
		accept(*f, call.accept());
		break;
	case Call::DECLINE:
		decline(*f, call.decline());
		break;
	case Call::REVIVE:
		f->suppressed = false;
		f->refused_until.clear();
		schedule_allocation();
		break;
	case Call::SUPPRESS:
		f->suppressed = true;
		break;
	case Call::KILL:
		kill(*f, call.kill());
		break;
	case Call::SHUTDOWN:
		shutdown_executor(*f, call.shutdown());
		break;
	case Call::ACKNOWLEDGE:
		acknowledge(*f, call.acknowledge());
		break;
	case Call::RECONCILE:
		reconcile(*f, call.reconcile());
		break;
	case Call::MESSAGE:
		message_executor(*f, call.message());
		break;
	case Call::REQUEST:
		break; // requests are ignored, as by Mesos
	case Call::ACCEPT_INVERSE_OFFERS:
	case Call::DECLINE_INVERSE_OFFERS:
		break; // no inverse offers are ever made here
	default:
		return http::Response(501, "Call type not implemented by the local cluster");
	}
	return http::Accepted();
}

} // namespace turquoise::mesos::local
