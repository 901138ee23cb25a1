// bench_mesos_events.cpp — scheduler-side event handling: OFFERS and UPDATE events, in JSON
// and in protobuf, parsed and dispatched to a Scheduler's callbacks per second, beside the
// bare parse of the same bytes as the yardstick.
//
//   events/driver/<type>/<format>   a master streams a batch of 1000 events (RecordIO, one
//                                   HTTP chunk each, as Mesos writes them) to a SchedulerDriver
//                                   over 127.0.0.1; timed until its callback saw the last one
//   events/decode/<type>/<format>   mesos::decode of the same bytes into a v1::scheduler::Event
//   events/bare/<type>/<format>     the yardstick: nlohmann::json::parse (JSON) or
//                                   Event::ParseFromString (protobuf) of the same bytes
// Updates carry a uuid; automatic acknowledgement is off, so that the driver's side of the
// stream is what is measured, not ACKNOWLEDGE calls.
#include "bench_runtime.hpp"

#include <turquoise/http/server.hpp>
#include <turquoise/mesos/codec.hpp>
#include <turquoise/mesos/recordio.hpp>
#include <turquoise/mesos/scheduler.hpp>
#include <turquoise/runtime.hpp>
#include <turquoise/util/pipe.hpp>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace {

namespace tmesos = turquoise::mesos;
namespace http = turquoise::http;
namespace v1 = ::mesos::v1;
using Event = v1::scheduler::Event;
using namespace std::chrono;

constexpr std::size_t batch = 1000;

// Mesos-shaped events: 4 offers with cpus, mem, disk, ports and attributes; a status update.
Event offers_event() {
	Event e;
	e.set_type(Event::OFFERS);
	for (int i = 0; i < 4; ++i) {
		v1::Offer *o = e.mutable_offers()->add_offers();
		o->mutable_id()->set_value("a3c1f8e2-5b7d-4e0a-9c61-2f0d8b7e4a11-O" + std::to_string(i));
		o->mutable_framework_id()->set_value("a3c1f8e2-5b7d-4e0a-9c61-2f0d8b7e4a11-0000");
		o->mutable_agent_id()->set_value("a3c1f8e2-5b7d-4e0a-9c61-2f0d8b7e4a11-S" + std::to_string(i));
		o->set_hostname("agent" + std::to_string(i) + ".example.org");
		o->mutable_url()->set_scheme("http");
		o->mutable_url()->mutable_address()->set_ip("10.0.0." + std::to_string(i + 1));
		o->mutable_url()->mutable_address()->set_port(5051);
		o->mutable_url()->set_path("/slave(1)");
		for (auto [name, value] : {std::pair{"cpus", 8.0}, {"mem", 15360.0}, {"disk", 102400.0}}) {
			v1::Resource *r = o->add_resources();
			r->set_name(name);
			r->set_type(v1::Value::SCALAR);
			r->mutable_scalar()->set_value(value);
		}
		v1::Resource *ports = o->add_resources();
		ports->set_name("ports");
		ports->set_type(v1::Value::RANGES);
		auto *range = ports->mutable_ranges()->add_range();
		range->set_begin(31000);
		range->set_end(32000);
		v1::Attribute *rack = o->add_attributes();
		rack->set_name("rack");
		rack->set_type(v1::Value::TEXT);
		rack->mutable_text()->set_value("r" + std::to_string(i % 2));
	}
	return e;
}

Event update_event() {
	Event e;
	e.set_type(Event::UPDATE);
	v1::TaskStatus *s = e.mutable_update()->mutable_status();
	s->mutable_task_id()->set_value("web-42");
	s->set_state(v1::TASK_RUNNING);
	s->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
	s->set_message("Task is running");
	s->mutable_agent_id()->set_value("a3c1f8e2-5b7d-4e0a-9c61-2f0d8b7e4a11-S0");
	s->mutable_executor_id()->set_value("web-42");
	s->set_timestamp(1764770400.123456);
	s->set_uuid(std::string("\x8f\x1e\x02\x7c\xa4\x55\x4b\x10\x9e\x33\x61\x0d\x2a\xbc\xde\xf0", 16));
	return e;
}

tmesos::ContentType format_of(int f) { return f == 0 ? tmesos::ContentType::JSON : tmesos::ContentType::PROTOBUF; }
std::string bytes_of(int type, int format) {
	return tmesos::encode(type == 0 ? offers_event() : update_event(), format_of(format)).get();
}

// Counts the events its callbacks see.
class Counter : public tmesos::Scheduler {
public:
	void subscribed(tmesos::SchedulerDriver &, const Event::Subscribed &) override { bump(); }
	void offers(tmesos::SchedulerDriver &, const std::vector<v1::Offer> &o) override {
		benchmark::DoNotOptimize(o.data());
		bump();
	}
	void update(tmesos::SchedulerDriver &, const v1::TaskStatus &s) override {
		benchmark::DoNotOptimize(&s);
		bump();
	}
	bool wait_for(std::uint64_t n, seconds limit) {
		std::unique_lock<std::mutex> l(mutex_);
		return cv_.wait_for(l, limit, [&] { return seen_ >= n; });
	}
	std::uint64_t seen() {
		std::lock_guard<std::mutex> l(mutex_);
		return seen_;
	}

private:
	void bump() {
		std::lock_guard<std::mutex> l(mutex_);
		++seen_;
		cv_.notify_all();
	}
	std::mutex mutex_;
	std::condition_variable cv_;
	std::uint64_t seen_ = 0;
};

// A master that answers SUBSCRIBE with a stream, SUBSCRIBED first, and nothing else.
struct stream_fixture {
	turquoise::runtime &rt = bench_runtime();
	std::optional<http::Server> server;
	std::mutex mutex;
	std::optional<turquoise::Pipe::Writer> writer;

	stream_fixture() {
		auto s = http::Server::listen(rt.workers());
		if (s.isError())
			return;
		server.emplace(std::move(s).get());
		server->route("/api/v1/scheduler", [this](const http::Request &r) -> turquoise::Future<http::Response> {
			auto type = tmesos::parse_media_type(r.find_header("Content-Type").value_or(""));
			if (!type)
				return http::Response(415);
			auto accept = tmesos::parse_media_type(r.find_header("Accept").value_or("")).value_or(tmesos::ContentType::JSON);
			Event subscribed;
			subscribed.set_type(Event::SUBSCRIBED);
			subscribed.mutable_subscribed()->mutable_framework_id()->set_value("bench-0000");
			subscribed.mutable_subscribed()->set_heartbeat_interval_seconds(3600);
			turquoise::Pipe pipe;
			pipe.writer().write(tmesos::recordio::encode(tmesos::encode(subscribed, accept).get()));
			{
				std::lock_guard<std::mutex> l(mutex);
				writer = pipe.writer();
			}
			http::Response answer(200, {}, std::string(tmesos::media_type(accept)));
			answer.headers.push_back({"Mesos-Stream-Id", "bench-stream"});
			answer.reader = pipe.reader();
			return answer;
		});
	}
	~stream_fixture() {
		if (server)
			server->stop();
	}
};

void events_driver(benchmark::State &state) {
	const int type = static_cast<int>(state.range(0)), format = static_cast<int>(state.range(1));
	stream_fixture f;
	if (!f.server) {
		state.SkipWithError("cannot listen");
		return;
	}
	Counter counter;
	v1::FrameworkInfo info;
	info.set_user("nobody");
	info.set_name("bench");
	tmesos::scheduler_options so;
	so.master = "127.0.0.1:" + std::to_string(f.server->port());
	so.content_type = format_of(format);
	so.auto_acknowledge = false;
	tmesos::SchedulerDriver driver(f.rt.workers(), counter, info, so);
	driver.start();
	if (!counter.wait_for(1, seconds(10))) {
		state.SkipWithError("no SUBSCRIBED within 10 s");
		return;
	}
	const std::string record = tmesos::recordio::encode(bytes_of(type, format));
	std::uint64_t expected = counter.seen();
	for (auto _ : state) {
		{
			std::lock_guard<std::mutex> l(f.mutex);
			for (std::size_t i = 0; i < batch; ++i)
				f.writer->write(record);
		}
		expected += batch;
		if (!counter.wait_for(expected, seconds(60))) {
			state.SkipWithError("the events did not all arrive within 60 s");
			break;
		}
	}
	driver.stop();
	state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
	state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * batch * record.size()));
}

void events_decode(benchmark::State &state) {
	const int type = static_cast<int>(state.range(0)), format = static_cast<int>(state.range(1));
	const std::string bytes = bytes_of(type, format);
	Event e;
	for (auto _ : state) {
		if (tmesos::decode(bytes, format_of(format), e).isError()) {
			state.SkipWithError("decode failed");
			break;
		}
		benchmark::DoNotOptimize(&e);
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

void events_bare(benchmark::State &state) {
	const int type = static_cast<int>(state.range(0)), format = static_cast<int>(state.range(1));
	const std::string bytes = bytes_of(type, format);
	Event e;
	for (auto _ : state) {
		if (format == 0) {
			nlohmann::json j = nlohmann::json::parse(bytes);
			benchmark::DoNotOptimize(&j);
		} else {
			if (!e.ParseFromString(bytes)) {
				state.SkipWithError("ParseFromString failed");
				break;
			}
			benchmark::DoNotOptimize(&e);
		}
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

// events/<what>/<offers|update>/<json|protobuf>, each an (event type, format) pair of args.
const bool registered = [] {
	const char *types[] = {"offers", "update"}, *formats[] = {"json", "protobuf"};
	for (int type : {0, 1})
		for (int format : {0, 1}) {
			std::string suffix = std::string("/") + types[type] + "/" + formats[format];
			benchmark::RegisterBenchmark(("events/driver" + suffix).c_str(), events_driver)
			    ->Args({type, format})->UseRealTime()->MinTime(1.0);
			benchmark::RegisterBenchmark(("events/decode" + suffix).c_str(), events_decode)
			    ->Args({type, format})->MinTime(0.5);
			benchmark::RegisterBenchmark(("events/bare" + suffix).c_str(), events_bare)
			    ->Args({type, format})->MinTime(0.5);
		}
	return true;
}();

} // namespace

BENCHMARK_MAIN();
