// Helpers for the local cluster's tests: inger-mesos-local started as a real OS process over
// 127.0.0.1, and a hand-driven v1 scheduler (our HTTP client, RecordIO, JSON or protobuf)
// that collects its stream's events, so that tests can send any call, well-formed or not.
#pragma once

#include "helpers.hpp"

#include <catch2/catch.hpp>

#include <turquoise/http/client.hpp>
#include <turquoise/mesos/codec.hpp>
#include <turquoise/mesos/recordio.hpp>
#include <turquoise/mesos/types.hpp>
#include <turquoise/util/subprocess.hpp>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace mesos_test {

using namespace turquoise;
using namespace std::chrono_literals;
namespace v1 = ::mesos::v1;
namespace tmesos = turquoise::mesos;
using Call = v1::scheduler::Call;
using Event = v1::scheduler::Event;

// inger-mesos-local with the given flags (port 0), until destroyed (SIGTERM, then SIGKILL).
class cluster_process {
public:
	explicit cluster_process(std::vector<std::string> flags, pool &p) {
		char dir[] = "/tmp/inger-test-mesos-XXXXXX";
		REQUIRE(::mkdtemp(dir) != nullptr);
		work_dir_ = dir;
		std::vector<std::string> argv = {INGER_MESOS_LOCAL, "--port", "0", "--work-dir", work_dir_};
		argv.insert(argv.end(), flags.begin(), flags.end());
		Try<Subprocess> s = subprocess(INGER_MESOS_LOCAL, argv, Subprocess::FD(STDIN_FILENO),
		                               Subprocess::PIPE(), Subprocess::FD(STDERR_FILENO), None(), &p);
		REQUIRE(s.isSome());
		process_.emplace(s.get());
		std::string out;
		auto deadline = std::chrono::steady_clock::now() + 20s;
		while (out.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
			pollfd pfd{process_->out().get(), POLLIN, 0};
			if (::poll(&pfd, 1, 100) <= 0)
				continue;
			char buf[256];
			ssize_t n = ::read(process_->out().get(), buf, sizeof buf);
			if (n <= 0)
				break;
			out.append(buf, static_cast<std::size_t>(n));
		}
		REQUIRE(out.rfind("READY 127.0.0.1:", 0) == 0);
		address_ = out.substr(6, out.find('\n') - 6);
	}
	~cluster_process() {
		stop();
		std::error_code ec;
		std::filesystem::remove_all(work_dir_, ec);
	}
	const std::string &work_dir() const { return work_dir_; }
	int stop() {
		if (!process_)
			return status_;
		::kill(process_->pid(), SIGTERM);
		Future<Option<int>> st = process_->status();
		if (!st.await(20s)) {
			::kill(process_->pid(), SIGKILL);
			st.await(10s);
		}
		status_ = st.isReady() && st.get().isSome() ? st.get().get() : -1;
		process_.reset();
		return status_;
	}
	const std::string &address() const { return address_; }
	std::string url(const std::string &path = "/api/v1/scheduler") const { return "http://" + address_ + path; }

private:
	std::optional<Subprocess> process_;
	std::string work_dir_;
	std::string address_;
	int status_ = -1;
};

inline std::string body(const google::protobuf::Message &m, tmesos::ContentType type = tmesos::ContentType::JSON) {
	Try<std::string> b = tmesos::encode(m, type);
	REQUIRE(b.isSome());
	return b.get();
}

// A SUBSCRIBE'd framework driven by hand.
class framework {
public:
	framework(http::Client &client, const cluster_process &cluster, v1::FrameworkInfo info = {},
	          tmesos::ContentType type = tmesos::ContentType::JSON)
	    : client_(client), url_(cluster.url()), type_(type), state_(std::make_shared<shared>()) {
		if (!info.has_user())
			info.set_user("test");
		if (!info.has_name())
			info.set_name("test framework");
		Call call;
		call.set_type(Call::SUBSCRIBE);
		*call.mutable_subscribe()->mutable_framework_info() = info;
		if (info.has_id())
			*call.mutable_framework_id() = info.id();
		http::ClientRequest r;
		r.method = "POST";
		r.url = http::URL::parse(url_).get();
		r.headers = {{"Content-Type", std::string(tmesos::media_type(type))},
		             {"Accept", std::string(tmesos::media_type(type))}};
		r.body = body(call, type);
		r.stream_response = true;
		r.timeout = 10s;
		Future<http::Response> f = client_.request(r);
		REQUIRE(f.await(10s));
		REQUIRE(f.isReady());
		REQUIRE(f.get().status == 200);
		auto sid = f.get().find_header("Mesos-Stream-Id");
		REQUIRE(sid);
		stream_id = std::string(*sid);
		state_->reader = *f.get().reader;
		pump(state_, type);
		Event subscribed = next([](const Event &e) { return e.type() == Event::SUBSCRIBED; });
		id = subscribed.subscribed().framework_id();
	}
	~framework() { close(); }

	// Closes this side of the stream (the connection is dropped).
	void close() {
		if (state_->reader)
			state_->reader->close();
	}

	// Sends a call (framework_id filled in) with the stream id; the response.
	http::Response call(Call c, std::optional<std::string> sid = std::nullopt) {
		if (!c.has_framework_id())
			*c.mutable_framework_id() = id;
		Future<http::Response> f = client_.post(url_, body(c, type_), std::string(tmesos::media_type(type_)),
		                                        {{"Mesos-Stream-Id", sid.value_or(stream_id)}});
		REQUIRE(f.await(10s));
		REQUIRE(f.isReady());
		return f.get();
	}

	// The first event (in arrival order, not taken before) satisfying pred, waiting up to
	// `limit`; fails the test case if none comes.
	Event next(std::function<bool(const Event &)> pred, std::chrono::milliseconds limit = 15s) {
		// (Sanitizer builds on a loaded VM: one clean-clone ASan run waited longer than 15 s.)
		std::optional<Event> e = maybe_next(pred, std::chrono::duration_cast<std::chrono::milliseconds>(limit * th::slack));
		REQUIRE(e);
		return *e;
	}
	std::optional<Event> maybe_next(std::function<bool(const Event &)> pred, std::chrono::milliseconds limit) {
		std::unique_lock lock(state_->mutex);
		auto deadline = std::chrono::steady_clock::now() + limit;
		for (;;) {
			for (auto it = state_->events.begin(); it != state_->events.end(); ++it)
				if (pred(*it)) {
					Event e = *it;
					state_->events.erase(it);
					return e;
				}
			if (state_->ended || state_->cv.wait_until(lock, deadline) == std::cv_status::timeout) {
				for (auto it = state_->events.begin(); it != state_->events.end(); ++it)
					if (pred(*it)) {
						Event e = *it;
						state_->events.erase(it);
						return e;
					}
				return std::nullopt;
			}
		}
	}
	// The next UPDATE of that task.
	v1::TaskStatus update(const std::string &task, std::chrono::milliseconds limit = 15s) {
		return next([&](const Event &e) {
			       return e.type() == Event::UPDATE && e.update().status().task_id().value() == task;
		       }, limit)
		    .update()
		    .status();
	}
	std::vector<v1::Offer> offers(std::chrono::milliseconds limit = 15s) {
		Event e = next([](const Event &e) { return e.type() == Event::OFFERS; }, limit);
		return {e.offers().offers().begin(), e.offers().offers().end()};
	}
	void acknowledge(const v1::TaskStatus &s) {
		Call c;
		c.set_type(Call::ACKNOWLEDGE);
		*c.mutable_acknowledge()->mutable_agent_id() = s.agent_id();
		*c.mutable_acknowledge()->mutable_task_id() = s.task_id();
		c.mutable_acknowledge()->set_uuid(s.uuid());
		REQUIRE(call(c).status == 202);
	}
	bool ended(std::chrono::milliseconds limit) {
		std::unique_lock lock(state_->mutex);
		return state_->cv.wait_for(lock, limit, [&] { return state_->ended; });
	}
	std::string stream_error() {
		std::lock_guard lock(state_->mutex);
		return state_->error;
	}

	v1::FrameworkID id;
	std::string stream_id;

private:
	struct shared {
		std::mutex mutex;
		std::condition_variable cv;
		std::deque<Event> events;
		bool ended = false;
		std::string error;
		std::optional<Pipe::Reader> reader;
		tmesos::recordio::Decoder decoder;
	};

	// Reads the stream chunk by chunk. The next read is asked for outside the lock: its
	// callback runs at once (on this thread) when a chunk is already buffered.
	static void pump(std::shared_ptr<shared> s, tmesos::ContentType type) {
		s->reader->read().onAny([s, type](const Future<std::string> &chunk) {
			if (take(*s, chunk, type))
				pump(s, type);
		});
	}
	// False once the stream has ended.
	static bool take(shared &s, const Future<std::string> &chunk, tmesos::ContentType type) {
		std::lock_guard lock(s.mutex);
		s.cv.notify_all();
		if (!chunk.isReady() || chunk.get().empty()) {
			s.ended = true;
			return false;
		}
		Try<std::vector<std::string>> records = s.decoder.decode(chunk.get());
		if (records.isError()) {
			s.error = records.error();
			s.ended = true;
			return false;
		}
		for (auto &r : records.get()) {
			Try<Event> e = tmesos::decode<Event>(r, type);
			if (e.isError())
				s.error = e.error();
			else
				s.events.push_back(e.get());
		}
		return true;
	}

	http::Client &client_;
	std::string url_;
	tmesos::ContentType type_;
	std::shared_ptr<shared> state_;
};

// A LAUNCH of command tasks on one offer.
inline v1::TaskInfo command_task(const std::string &id, const v1::Offer &offer, const std::string &command,
                                 double cpus = 0.1, double mem = 16) {
	v1::TaskInfo t;
	t.set_name(id);
	t.mutable_task_id()->set_value(id);
	*t.mutable_agent_id() = offer.agent_id();
	t.mutable_command()->set_value(command);
	for (auto [name, v] : {std::pair{"cpus", cpus}, std::pair{"mem", mem}}) {
		v1::Resource *r = t.add_resources();
		r->set_name(name);
		r->set_type(v1::Value::SCALAR);
		r->mutable_scalar()->set_value(v);
	}
	return t;
}

inline Call accept(const std::vector<v1::OfferID> &offers, const std::vector<v1::TaskInfo> &tasks,
                   std::optional<double> refuse_seconds = 0) {
	Call c;
	c.set_type(Call::ACCEPT);
	for (auto &o : offers)
		*c.mutable_accept()->add_offer_ids() = o;
	auto *op = c.mutable_accept()->add_operations();
	op->set_type(v1::Offer::Operation::LAUNCH);
	for (auto &t : tasks)
		*op->mutable_launch()->add_task_infos() = t;
	if (refuse_seconds)
		c.mutable_accept()->mutable_filters()->set_refuse_seconds(*refuse_seconds);
	return c;
}

} // namespace mesos_test
