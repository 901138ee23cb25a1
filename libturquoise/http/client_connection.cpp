// client_connection.cpp — one client connection: connect, write a request, decode its
// response (whole or streamed), then go back to the pool or close (see client_state.hpp).
#include "client_state.hpp"
#include "socket.hpp"

#include <turquoise/guarded_lock.hpp>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace turquoise::http::detail {
namespace {

using critical = turquoise::detail::critical;
} // namespace

client_connection::client_connection(std::shared_ptr<Client::state> owner, std::string key, int fd)
    : owner_(owner), reactor_(owner->reactor), key_(std::move(key)), fd_(fd), parser_(owner->options.limits) {}

client_connection::~client_connection() {
	if (phase_ != phase::closed)
		::close(fd_);
}

Future<Response> client_connection::start(exchange ex) {
	Future<Response> f;
	std::uint64_t id;
	{
		critical cs;
		guarded_lock lock(mutex_);
		promise_.emplace();
		f = promise_->future();
		if (phase_ == phase::closed) {
			promise_.reset();
			return Failure("connection closed: before the request was sent");
		}
		phase_ = phase::busy;
		id = ++exchange_id_;
		out_ = std::move(ex.bytes);
		out_off_ = 0;
		parser_.reset();
		parser_.expect_head(ex.head);
		parser_.set_streaming(ex.stream);
		keep_alive_ = ex.keep_alive;
		stream_ = ex.stream;
		head_delivered_ = false;
		fault_.reset();
		std::weak_ptr<client_connection> weak = weak_from_this();
		auto timeout_ms = std::to_string(ex.timeout.count());
		try {
			total_timer_ = reactor_.after(ex.timeout, [weak, id, timeout_ms] {
				if (auto c = weak.lock())
					c->on_fault(id, "timeout: no response within " + timeout_ms + " ms", false);
			});
			if (connecting_) {
				auto owner = owner_.lock();
				auto ms = owner ? owner->options.connect_timeout : std::chrono::milliseconds(5000);
				connect_timer_ = reactor_.after(ms, [weak, id, key = key_] {
					if (auto c = weak.lock())
						c->on_fault(id, "connect timeout: " + key, false);
				});
			}
		} catch (const std::exception &e) {
			promise_.reset();
			close_locked();
			return Failure(std::string("connection closed: ") + e.what());
		}
	}
	std::weak_ptr<client_connection> weak = weak_from_this();
	f.onDiscard([weak, id] {
		if (auto c = weak.lock())
			c->on_fault(id, "discarded", true);
	});
	drive(shared_from_this());
	return f;
}

void client_connection::on_fault(std::uint64_t id, std::string message, bool discard) {
	{
		critical cs;
		guarded_lock lock(mutex_);
		if (id != exchange_id_ || phase_ != phase::busy || fault_)
			return;
		fault_ = std::move(message);
		fault_discard_ = discard;
	}
	drive(shared_from_this());
}

void client_connection::drive(const std::shared_ptr<client_connection> &c) {
	{
		critical cs;
		guarded_lock lock(c->mutex_);
		if (c->driving_) {
			c->again_ = true;
			return;
		}
		c->driving_ = true;
	}
	for (;;) {
		outcome o;
		{
			critical cs;
			guarded_lock lock(c->mutex_);
			c->again_ = false;
			c->step_locked(o);
		}
		// Back to the pool before the caller hears of the answer, so that a request it makes
		// in its callback can reuse the connection (its start() then finds us driving: we
		// step once more for it).
		if (o.reuse) {
			if (auto owner = c->owner_.lock())
				owner->give(c->key_, c);
			else
				c->close_now();
		}
		// Outside the lock: these run the callers' callbacks.
		if (o.promise) {
			if (o.value)
				o.promise->set(std::move(*o.value));
			else if (o.discard)
				o.promise->discard();
			else
				o.promise->fail(o.failure);
		}
		if (o.writer) {
			bool reader_gone = false;
			for (std::string &chunk : o.chunks)
				reader_gone |= !o.writer->write(std::move(chunk));
			if (o.fail_stream)
				o.writer->fail(*o.fail_stream);
			else if (o.end_stream)
				o.writer->close();
			if (reader_gone && !o.end_stream)
				c->close_now(); // nobody reads the stream any more
		}
		critical cs;
		o = outcome();
		guarded_lock lock(c->mutex_);
		if (!c->again_) {
			c->driving_ = false;
			c->arm_locked();
			break;
		}
	}
}

void client_connection::step_locked(outcome &o) {
	if (phase_ == phase::idle) {
		// A wait left from the last exchange: the server closed the idle connection (or sent
		// something unasked for). Either way it cannot be reused.
		if (!connecting_ && !reusable_locked())
			close_locked();
		return;
	}
	if (phase_ != phase::busy)
		return;
	if (fault_)
		return fail_locked(o, *fault_, fault_discard_);
	if (connecting_) {
		if (!connect_signalled_)
			return;
		if (int err = socket_error(fd_))
			return fail_locked(o, reason(err) + ": " + key_);
		connecting_ = false;
		reactor_.cancel_timer(connect_timer_);
	}
	while (out_off_ < out_.size()) {
		ssize_t n = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL);
		if (n > 0)
			out_off_ += static_cast<std::size_t>(n);
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else
			return fail_locked(o, reason(errno) + ": while sending to " + key_);
	}
	if (out_off_ == out_.size() && !out_.empty()) {
		out_.clear();
		out_.shrink_to_fit();
		out_off_ = 0;
	}
	read_locked(o); // a server may answer (413, say) before it has read the whole request
}

void client_connection::arm_locked() {
	if (phase_ != phase::busy)
		return;
	auto self = shared_from_this();
	try {
		if ((connecting_ || out_off_ < out_.size()) && !write_armed_) {
			write_armed_ = true;
			reactor_.when_writable(fd_, [self] {
				{
					critical cs;
					guarded_lock lock(self->mutex_);
					self->write_armed_ = false;
					self->connect_signalled_ = true;
				}
				drive(self);
			});
		}
		if (!connecting_ && !read_armed_) {
			read_armed_ = true;
			reactor_.when_readable(fd_, [self] {
				{
					critical cs;
					guarded_lock lock(self->mutex_);
					self->read_armed_ = false;
				}
				drive(self);
			});
		}
	} catch (const std::exception &) {
		// The pool is shutting down: nothing will wake us; the exchange stays pending until
		// the timers (dropped with the pool) would have fired. Close to free the fd.
		close_locked();
	}
}

bool client_connection::reusable() {
	critical cs;
	guarded_lock lock(mutex_);
	return reusable_locked();
}

bool client_connection::reusable_locked() {
	if (phase_ != phase::idle || connecting_)
		return false;
	char c;
	ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK); // nothing, and no FIN
}

bool client_connection::closed() {
	critical cs;
	guarded_lock lock(mutex_);
	return phase_ == phase::closed;
}

void client_connection::close_now() {
	critical cs;
	guarded_lock lock(mutex_);
	close_locked();
}

void client_connection::close_locked() {
	if (phase_ == phase::closed)
		return;
	phase_ = phase::closed;
	reactor_.cancel_timer(total_timer_);
	reactor_.cancel_timer(connect_timer_);
	reactor_.forget(fd_);
	::close(fd_);
}

} // namespace turquoise::http::detail
