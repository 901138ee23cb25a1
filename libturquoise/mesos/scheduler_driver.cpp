// scheduler_driver.cpp — the SchedulerDriver's subscription: SUBSCRIBE, redirects, the event
// stream and its dispatch to the Scheduler, heartbeat watchdog, re-subscription with backoff.
#include "endpoint.hpp"
#include "record_stream.hpp"
#include "scheduler_state.hpp"


namespace turquoise::mesos {

using namespace std::chrono;
namespace sched = v1::scheduler;

SchedulerDriver::state::state(pool &p, Scheduler &s, SchedulerDriver &d, v1::FrameworkInfo i, scheduler_options o)
    : driver_core(p, o.connect_timeout, o.call_timeout, o.backoff_min), options(std::move(o)), scheduler(&s),
      driver(&d), info(std::move(i)) {}

SchedulerDriver::SchedulerDriver(pool &p, Scheduler &scheduler, v1::FrameworkInfo info, scheduler_options options)
    : state_(std::make_shared<state>(p, scheduler, *this, std::move(info), std::move(options))) {
	Try<http::URL> url = detail::api_url(state_->options.master, "/api/v1/scheduler");
	if (url.isError())
		throw std::invalid_argument(url.error());
	state_->endpoint = url.get();
	if (state_->info.has_id())
		state_->counters.framework_id = state_->info.id();
}

SchedulerDriver::~SchedulerDriver() {
	stop();
	state_->wait_for_callbacks();
}

bool SchedulerDriver::start() {
	return state_->start([s = state_.get()](std::uint64_t gen) { s->subscribe(gen, 0); });
}

void SchedulerDriver::stop() { state_->stop(); }

scheduler_status SchedulerDriver::status() const {
	state::lock l(state_->mutex);
	scheduler_status s = state_->counters;
	state_->life_cycle(s);
	s.stream_id = state_->stream_id;
	s.master = detail::base_of(state_->endpoint);
	return s;
}

void SchedulerDriver::state::stop() {
	driver_core::stop([this] { forget_stream(); });
}

// With the mutex held: the stream's id and its heartbeat watchdog go with it.
void SchedulerDriver::state::forget_stream() {
	stream_id.clear();
	if (watchdog)
		workers.cancel_timer(*watchdog);
	watchdog.reset();
}

void SchedulerDriver::state::subscribe(std::uint64_t gen, int redirects) {
	sched::Call call;
	http::URL url;
	{
		lock l(mutex);
		if (stopped || gen != generation)
			return;
		retry.reset();
		++counters.subscribe_attempts;
		if (counters.framework_id) {
			*info.mutable_id() = *counters.framework_id;
			*call.mutable_framework_id() = *counters.framework_id;
		}
		call.set_type(sched::Call::SUBSCRIBE);
		*call.mutable_subscribe()->mutable_framework_info() = info;
		url = endpoint;
	}
	Try<std::string> body = encode(call, options.content_type);
	if (body.isError()) { // an incomplete FrameworkInfo: retrying cannot help
		{
			lock l(mutex);
			counters.last_error = "cannot subscribe: " + body.error();
		}
		stop();
		return;
	}
	http::ClientRequest r = detail::make_post(url, options.content_type, std::move(body.get()));
	r.stream_response = true;
	auto self = shared_from_this();
	client.request(std::move(r)).onAny([self, gen, redirects](const Future<http::Response> &answer) {
		self->on_subscribe_answer(gen, redirects, answer);
	});
}

void SchedulerDriver::state::on_subscribe_answer(std::uint64_t gen, int redirects, const Future<http::Response> &answer) {
	if (!answer.isReady())
		return retry_later(gen, "SUBSCRIBE failed: " + (answer.isFailed() ? answer.failure() : "discarded"));
	http::Response response = answer.get();
	auto drop = [&] {
		if (response.reader)
			response.reader->close();
	};
	if (response.status == 307) {
		drop();
		std::string location(response.find_header("Location").value_or(""));
		http::URL here;
		{
			lock l(mutex);
			here = endpoint;
		}
		Try<http::URL> next = detail::resolve_location(here, location);
		if (next.isError())
			return retry_later(gen, "SUBSCRIBE redirected to a bad Location '" + location + "': " + next.error());
		{
			lock l(mutex);
			if (stopped || gen != generation)
				return;
			endpoint = next.get();
		}
		if (redirects >= options.max_redirects)
			return retry_later(gen, "SUBSCRIBE: too many redirects (last: " + location + ")");
		return subscribe(gen, redirects + 1);
	}
	if (response.status != 200 || !response.reader) {
		drop();
		// A streamed answer's body is still in the reader: the status says enough.
		return retry_later(gen, "SUBSCRIBE answered " + detail::describe_answer(response));
	}
	auto stream_id_header = response.find_header("Mesos-Stream-Id");
	auto type = parse_media_type(response.find_header("Content-Type").value_or(""));
	if (!stream_id_header || stream_id_header->empty() || !type) {
		drop();
		return retry_later(gen, !type ? "SUBSCRIBE answered with an unknown Content-Type"
		                              : "SUBSCRIBE answered without a Mesos-Stream-Id");
	}
	{
		lock l(mutex);
		if (stopped || gen != generation) {
			drop();
			return;
		}
		stream_id = std::string(*stream_id_header);
		reader = *response.reader;
		heartbeat_timeout = duration_cast<nanoseconds>(options.heartbeat_interval * options.heartbeat_misses);
		last_event = steady_clock::now();
		arm_watchdog(gen);
	}
	auto self = shared_from_this();
	ContentType event_type = *type;
	detail::read_records(*response.reader, options.max_event_bytes,
	                     detail::record_sink{
	                         [self, gen, event_type](std::string record) {
		                         sched::Event event;
		                         Try<Nothing> decoded = decode(record, event_type, event);
		                         if (decoded.isError()) {
			                         self->lost(gen, "malformed event: " + decoded.error());
			                         return false;
		                         }
		                         if (!self->on_record(gen))
			                         return false;
		                         self->dispatch(gen, event);
		                         return self->current(gen);
	                         },
	                         [self, gen](std::string why) { self->lost(gen, why); }});
}

// Bookkeeping of an event (decoded by the caller): liveness, and SUBSCRIBED's facts.
bool SchedulerDriver::state::on_record(std::uint64_t gen) {
	lock l(mutex);
	if (stopped || gen != generation)
		return false;
	last_event = steady_clock::now();
	return true;
}

void SchedulerDriver::state::arm_watchdog(std::uint64_t gen) {
	auto due = last_event + heartbeat_timeout - steady_clock::now();
	auto self = shared_from_this();
	watchdog = workers.after(std::max(nanoseconds(0), duration_cast<nanoseconds>(due)), [self, gen] {
		lock l(self->mutex);
		if (self->stopped || gen != self->generation)
			return;
		self->watchdog.reset();
		if (steady_clock::now() - self->last_event < self->heartbeat_timeout)
			return self->arm_watchdog(gen);
		auto silent = duration_cast<milliseconds>(self->heartbeat_timeout).count();
		l.get().unlock();
		self->lost(gen, "no event for " + std::to_string(silent) + " ms (heartbeats missed)");
	});
}

void SchedulerDriver::state::lost(std::uint64_t gen, const std::string &why) {
	std::optional<std::uint64_t> next = lose(
	    gen,
	    [&] {
		    forget_stream();
		    ++counters.disconnections;
		    counters.last_error = why;
	    },
	    [&] { scheduler->disconnected(*driver, why); });
	if (next)
		retry_later(*next, why);
}

void SchedulerDriver::state::retry_later(std::uint64_t gen, const std::string &why) {
	lock l(mutex);
	if (stopped || gen != generation)
		return;
	counters.last_error = why;
	auto self = shared_from_this();
	retry = workers.after(next_backoff(options.backoff_max), [self, gen] { self->subscribe(gen, 0); });
}

} // namespace turquoise::mesos
