// client_response.cpp — receiving a response on a client connection: decode it, hand it out
// whole or as a stream, then complete or fail the exchange (see client_state.hpp).
#include "client_state.hpp"
#include "socket.hpp"

#include <cerrno>
#include <sys/socket.h>

namespace turquoise::http::detail {
namespace {
constexpr std::size_t read_chunk = 16 * 1024;
constexpr int max_reads = 16; // per step: a fast stream does not hog a worker
} // namespace

std::string reason(int err) {
	switch (err) {
	case ECONNREFUSED: return "connection refused";
	case ECONNRESET: case EPIPE: case ECONNABORTED: return "connection reset";
	case ETIMEDOUT: return "connect timeout";
	default: return describe(err);
	}
}


void client_connection::read_locked(outcome &o) {
	char buf[read_chunk];
	for (int round = 0; round < max_reads; ++round) {
		ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0)
			return fail_locked(o, reason(errno) + ": while receiving from " + key_);
		std::string_view in(buf, static_cast<std::size_t>(n));
		if (n > 0)
			in.remove_prefix(parser_.feed(in));
		else if (!parser_.finish() && !parser_.failed())
			return fail_locked(o, "connection closed: by " + key_ + " before any response");
		if (parser_.failed()) {
			parse_error e = parser_.error();
			if (e == parse_error::truncated)
				return fail_locked(o, "connection closed: by " + key_ + " before the response was complete");
			return fail_locked(o, "malformed response: " + std::string(to_string(e)) + " (from " + key_ + ")");
		}
		if (stream_ && parser_.head_done()) {
			if (!head_delivered_) {
				head_delivered_ = true;
				Pipe pipe;
				Response head;
				head.status = parser_.current().status;
				head.headers = parser_.current().headers;
				head.reader = pipe.reader();
				writer_ = pipe.writer();
				o.promise = std::move(promise_);
				promise_.reset();
				o.value = std::move(head);
				reactor_.cancel_timer(total_timer_); // the stream may last: the timeout was for the head
			}
			std::string body = parser_.take_body();
			if (!body.empty()) {
				o.writer = writer_;
				o.chunks.push_back(std::move(body));
			}
		}
		if (parser_.ready())
			return complete_locked(o, in.empty() && n > 0 && keep_alive_ && parser_.keep_alive());
	}
}

void client_connection::complete_locked(outcome &o, bool reusable) {
	reactor_.cancel_timer(total_timer_);
	if (stream_) {
		o.writer = writer_;
		o.end_stream = true;
		writer_.reset();
	} else {
		o.promise = std::move(promise_);
		o.value = parser_.take();
	}
	promise_.reset();
	if (reusable) {
		phase_ = phase::idle;
		o.reuse = true;
	} else {
		close_locked();
	}
}

void client_connection::fail_locked(outcome &o, std::string message, bool discard) {
	if (promise_) {
		o.promise = std::move(promise_);
		promise_.reset();
		o.failure = std::move(message);
		o.discard = discard;
	} else if (writer_) {
		o.writer = writer_;
		o.fail_stream = std::move(message);
		writer_.reset();
	}
	if (auto owner = owner_.lock())
		owner->count.failures.fetch_add(1, std::memory_order_relaxed);
	close_locked();
}

} // namespace turquoise::http::detail
