// mesos_fake_endpoint.hpp — a scripted fake Mesos master (scheduler API) or agent (executor
// API) on our http::Server, for the facade tests: decodes every call in the content type it
// came in, records it, answers SUBSCRIBE with a RecordIO stream (each record its own chunk, as
// Mesos writes them) and Mesos-Stream-Id, other calls with 202 (400 for a wrong stream id
// when `check_stream_id`), and lets the test push events or raw bytes and close the stream.
#pragma once

#include "http_helpers.hpp"

#include <turquoise/guarded_lock.hpp>
#include <turquoise/http/server.hpp>
#include <turquoise/mesos/codec.hpp>
#include <turquoise/mesos/recordio.hpp>
#include <turquoise/mesos/types.hpp>
#include <turquoise/util/pipe.hpp>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mesos_test {

using namespace std::chrono_literals;
namespace http = turquoise::http;
namespace mesos = turquoise::mesos;
using turquoise::Future;

template <class Call>
struct recorded_call {
	Call call;
	std::string content_type, stream_id, accept;
	std::chrono::steady_clock::time_point at;
};

template <class Call>
class fake_endpoint {
public:
	// path: "/api/v1/scheduler" or "/api/v1/executor".
	fake_endpoint(turquoise::pool &p, std::string path, bool check_stream_id) : check_stream_id_(check_stream_id) {
		auto s = http::Server::listen(p);
		REQUIRE(s.isSome());
		server_.emplace(std::move(s).get());
		server_->route(path, [this](const http::Request &r) { return handle(r); });
	}
	~fake_endpoint() { server_->stop(); }

	std::uint16_t port() const { return server_->port(); }
	std::string address() const { return "127.0.0.1:" + std::to_string(port()); }
	http::Server &server() { return *server_; }

	// Answer the next SUBSCRIBEs with this (status, then nothing else) instead of a stream.
	std::function<std::optional<http::Response>(const Call &)> on_subscribe;
	// Events written on each new stream right after it opens (e.g. SUBSCRIBED, HEARTBEAT).
	std::function<std::vector<std::string>(mesos::ContentType)> greeting;

	// Encode `event` in the stream's content type and write it as one record (one chunk).
	template <class Event>
	bool send(const Event &event) {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		if (!writer_)
			return false;
		return writer_->write(mesos::recordio::encode(mesos::encode(event, type_).get()));
	}
	bool send_raw(std::string bytes) {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		return writer_ && writer_->write(std::move(bytes));
	}
	void close_stream() {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		if (writer_)
			writer_->close();
		writer_.reset();
	}
	bool streaming() const {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		return writer_.has_value();
	}
	std::string stream_id() const {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		return stream_id_;
	}
	mesos::ContentType stream_type() const {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		return type_;
	}
	std::vector<recorded_call<Call>> calls() const {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		return calls_;
	}
	std::vector<recorded_call<Call>> calls(typename Call::Type type) const {
		std::vector<recorded_call<Call>> out;
		for (auto &c : calls())
			if (c.call.type() == type)
				out.push_back(c);
		return out;
	}
	// Waits (loosely) until at least n calls of this type arrived.
	bool wait_calls(typename Call::Type type, std::size_t n, std::chrono::milliseconds limit = 10s) const {
		return http_test::eventually([&] { return calls(type).size() >= n; }, limit);
	}
	std::size_t bad_calls() const {
		turquoise::guarded_lock<std::mutex> l(mutex_);
		return bad_calls_;
	}

private:
	Future<http::Response> handle(const http::Request &r) {
		auto type = mesos::parse_media_type(r.find_header("Content-Type").value_or(""));
		if (!type)
			return http::Response(415, "unsupported Content-Type\n");
		Call call;
		auto decoded = mesos::decode(r.body, *type, call);
		turquoise::guarded_lock<std::mutex> l(mutex_);
		if (decoded.isError()) {
			++bad_calls_;
			return http::BadRequest("malformed call: " + decoded.error());
		}
		recorded_call<Call> rc{call, std::string(r.find_header("Content-Type").value_or("")),
		                       std::string(r.find_header("Mesos-Stream-Id").value_or("")),
		                       std::string(r.find_header("Accept").value_or("")), std::chrono::steady_clock::now()};
		calls_.push_back(rc);
		if (call.type() != Call::SUBSCRIBE) {
			if (check_stream_id_ && rc.stream_id != stream_id_) {
				++bad_calls_;
				return http::BadRequest("wrong Mesos-Stream-Id\n");
			}
			return http::Accepted();
		}
		if (on_subscribe)
			if (auto answer = on_subscribe(call))
				return *answer;
		if (writer_)
			writer_->close();
		turquoise::Pipe pipe;
		writer_ = pipe.writer();
		type_ = mesos::parse_media_type(rc.accept).value_or(mesos::ContentType::JSON);
		stream_id_ = "stream-" + std::to_string(++streams_);
		if (greeting)
			for (auto &e : greeting(type_))
				writer_->write(mesos::recordio::encode(e));
		http::Response answer(200, {}, std::string(mesos::media_type(type_)));
		answer.headers.push_back({"Mesos-Stream-Id", stream_id_});
		answer.reader = pipe.reader();
		return answer;
	}

	bool check_stream_id_;
	std::optional<http::Server> server_;
	mutable std::mutex mutex_;
	std::optional<turquoise::Pipe::Writer> writer_;
	mesos::ContentType type_ = mesos::ContentType::JSON;
	std::string stream_id_;
	int streams_ = 0;
	std::vector<recorded_call<Call>> calls_;
	std::size_t bad_calls_ = 0;
};

} // namespace mesos_test
