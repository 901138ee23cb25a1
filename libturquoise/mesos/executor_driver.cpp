// executor_driver.cpp — the ExecutorDriver's subscription: SUBSCRIBE with what is still
// unacknowledged, the event stream, re-subscription with backoff within recovery_timeout.
#include "endpoint.hpp"
#include "executor_state.hpp"
#include "record_stream.hpp"

#include <cstdlib>
#include <thread>

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
    : workers(p), client(p, [&] {
	      http::client_options c;
	      c.connect_timeout = o.connect_timeout;
	      c.timeout = o.call_timeout;
	      return c;
      }()),
      options(std::move(o)), executor(&e), driver(&d), backoff(options.backoff_min) {}

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
	while (state_->dispatching.load() > 0)
		std::this_thread::sleep_for(milliseconds(1));
}

bool ExecutorDriver::start() {
	std::uint64_t gen;
	{
		state::lock l(state_->mutex);
		if (state_->started || state_->stopped)
			return false;
		state_->started = true;
		gen = state_->generation;
	}
	state_->subscribe(gen);
	return true;
}

void ExecutorDriver::stop() { state_->stop(); }

executor_status ExecutorDriver::status() const {
	state::lock l(state_->mutex);
	executor_status s = state_->counters;
	s.started = state_->started;
	s.stopped = state_->stopped;
	s.subscribed = state_->subscribed;
	s.unacknowledged_updates = state_->unacked.size();
	s.unacknowledged_tasks = state_->tasks.size();
	return s;
}

void ExecutorDriver::state::stop() {
	std::optional<Pipe::Reader> r;
	{
		lock l(mutex);
		if (stopped)
			return;
		stopped = true;
		subscribed = false;
		++generation;
		r = std::move(reader);
		reader.reset();
		if (retry)
			workers.cancel_timer(*retry);
		retry.reset();
	}
	if (r)
		r->close();
}

bool ExecutorDriver::state::current(std::uint64_t gen) const {
	lock l(mutex);
	return !stopped && gen == generation;
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
	std::optional<Pipe::Reader> r;
	std::uint64_t next;
	{
		lock l(mutex);
		if (stopped || gen != generation)
			return;
		next = ++generation;
		subscribed = false;
		r = std::move(reader);
		reader.reset();
		++counters.disconnections;
		counters.last_error = why;
		if (!disconnected_since)
			disconnected_since = steady_clock::now();
		++dispatching;
	}
	if (r)
		r->close();
	executor->disconnected(*driver, why);
	--dispatching;
	retry_later(next, why);
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
			nanoseconds delay = backoff;
			backoff = std::min<nanoseconds>(backoff * 2, options.backoff_max);
			auto self = shared_from_this();
			retry = workers.after(delay, [self, gen] { self->subscribe(gen); });
			return;
		}
		++dispatching;
	}
	executor->error(*driver, "agent unreachable for the recovery timeout: " + why);
	--dispatching;
	stop();
}

} // namespace turquoise::mesos
