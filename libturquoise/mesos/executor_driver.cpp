// executor_driver.cpp — the ExecutorDriver's subscription: SUBSCRIBE with what is still
// unacknowledged, the event stream, re-subscription with backoff within recovery_timeout.
#include "endpoint.hpp"
#include "executor_state.hpp"
#include "record_stream.hpp"

#include <cstdlib>

namespace turquoise::mesos {

using namespace std::chrono;
namespace exec = v1::executor;

Try<executor_options> executor_options::from_environment() {
	executor_options o;
	auto need = [](const char *name) -> Try<std::string> {
		const char *v = std::getenv(name);
		if (v == nullptr || *v == '\0')
			return Error(std::string(name) + " is not set (is this process started by a Mesos agent?)");
		return std::string(v);
	};
	for (auto [name, out] : {std::pair{"MESOS_FRAMEWORK_ID", o.framework_id.mutable_value()},
	                         std::pair{"MESOS_EXECUTOR_ID", o.executor_id.mutable_value()},
	                         std::pair{"MESOS_AGENT_ENDPOINT", &o.agent_endpoint}}) {
		Try<std::string> v = need(name);
		if (v.isError())
			return Error(v.error());
		*out = v.get();
	}
	if (const char *d = std::getenv("MESOS_DIRECTORY"))
		o.directory = d;
	return o;
}

ExecutorDriver::state::state(pool &p, Executor &e, ExecutorDriver &d, executor_options o)
    : driver_core(p, o.connect_timeout, o.call_timeout, o.backoff_min), options(std::move(o)), executor(&e),
      driver(&d) {}

ExecutorDriver::ExecutorDriver(pool &p, Executor &executor, executor_options options)
    : state_(std::make_shared<state>(p, executor, *this, std::move(options))) {
	if (!state_->options.framework_id.IsInitialized() || !state_->options.executor_id.IsInitialized())
		throw std::invalid_argument("executor_options: framework_id and executor_id are required");
	Try<http::URL> url = detail::api_url(state_->options.agent_endpoint, "/api/v1/executor");
	if (url.isError())
		throw std::invalid_argument(url.error());
	state_->endpoint = url.get();
}

ExecutorDriver::~ExecutorDriver() {
	stop();
	state_->wait_for_callbacks();
}

bool ExecutorDriver::start() {
	return state_->start([s = state_.get()](std::uint64_t gen) { s->subscribe(gen); });
}

void ExecutorDriver::stop() { state_->stop(); }

executor_status ExecutorDriver::status() const {
	state::lock l(state_->mutex);
	executor_status s = state_->counters;
	state_->life_cycle(s);
	s.unacknowledged_updates = state_->unacked.size();
	s.unacknowledged_tasks = state_->tasks.size();
	return s;
}

void ExecutorDriver::state::stop() {
	driver_core::stop([] {});
}

void ExecutorDriver::state::subscribe(std::uint64_t gen) {
	exec::Call call;
	call.set_type(exec::Call::SUBSCRIBE);
	*call.mutable_framework_id() = options.framework_id;
	*call.mutable_executor_id() = options.executor_id;
	{
		lock l(mutex);
		if (stopped || gen != generation)
			return;
		retry.reset();
		++counters.subscribe_attempts;
		auto *s = call.mutable_subscribe();
		for (auto &u : unacked)
			*s->add_unacknowledged_updates()->mutable_status() = u;
		for (auto &[id, task] : tasks)
			*s->add_unacknowledged_tasks() = task;
	}
	Try<std::string> body = encode(call, options.content_type);
	if (body.isError()) {
		retry_later(gen, "cannot subscribe: " + body.error());
		return;
	}
	http::ClientRequest r = detail::make_post(endpoint, options.content_type, std::move(body.get()));
	r.stream_response = true;
	auto self = shared_from_this();
	client.request(std::move(r)).onAny(
	    [self, gen](const Future<http::Response> &answer) { self->on_subscribe_answer(gen, answer); });
}

void ExecutorDriver::state::on_subscribe_answer(std::uint64_t gen, const Future<http::Response> &answer) {
	if (!answer.isReady())
		return retry_later(gen, "SUBSCRIBE failed: " + (answer.isFailed() ? answer.failure() : "discarded"));
	http::Response response = answer.get();
	auto type = parse_media_type(response.find_header("Content-Type").value_or(""));
	if (response.status != 200 || !response.reader || !type) {
		if (response.reader)
			response.reader->close();
		return retry_later(gen, response.status != 200 ? "SUBSCRIBE answered " + detail::describe_answer(response)
		                                               : "SUBSCRIBE answered with an unknown Content-Type");
	}
	{
		lock l(mutex);
		if (stopped || gen != generation) {
			response.reader->close();
			return;
		}
		reader = *response.reader;
	}
	auto self = shared_from_this();
	ContentType event_type = *type;
	detail::read_records(*response.reader, options.max_event_bytes,
	                     detail::record_sink{[self, gen, event_type](std::string record) {
		                                         exec::Event event;
		                                         Try<Nothing> decoded = decode(record, event_type, event);
		                                         if (decoded.isError()) {
			                                         self->lost(gen, "malformed event: " + decoded.error());
			                                         return false;
		                                         }
		                                         self->dispatch(gen, event);
		                                         return self->current(gen);
	                                         },
	                                         [self, gen](std::string why) { self->lost(gen, why); }});
}

void ExecutorDriver::state::lost(std::uint64_t gen, const std::string &why) {
	std::optional<std::uint64_t> next = lose(
	    gen,
	    [&] {
		    ++counters.disconnections;
		    counters.last_error = why;
		    if (!disconnected_since)
			    disconnected_since = steady_clock::now();
	    },
	    [&] { executor->disconnected(*driver, why); });
	if (next)
		retry_later(*next, why);
}

void ExecutorDriver::state::retry_later(std::uint64_t gen, const std::string &why) {
	bool give_up = false;
	{
		lock l(mutex);
		if (stopped || gen != generation)
			return;
		counters.last_error = why;
		if (!disconnected_since)
			disconnected_since = steady_clock::now();
		give_up = steady_clock::now() - *disconnected_since >= options.recovery_timeout;
		if (!give_up) {
			auto self = shared_from_this();
			retry = workers.after(next_backoff(options.backoff_max), [self, gen] { self->subscribe(gen); });
			return;
		}
		++dispatching;
	}
	executor->error(*driver, "agent unreachable for the recovery timeout: " + why);
	--dispatching;
	stop();
}

} // namespace turquoise::mesos
