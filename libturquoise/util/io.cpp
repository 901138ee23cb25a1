// io.cpp — io::read / io::write (see turquoise/util/io.hpp).
#include <turquoise/util/io.hpp>

#include <turquoise/guarded_lock.hpp>
#include <turquoise/runtime.hpp>

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <sys/socket.h>
#include <unistd.h>

namespace turquoise::io {
namespace {

// Bounded work per task: a busy fd does not hog a worker (level-triggered reactor: the next
// round is scheduled at once).
constexpr int max_rounds = 16;
constexpr std::size_t chunk = 64 * 1024;

int private_dup(int fd) {
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d < 0)
		return -1;
	int flags = fcntl(d, F_GETFL);
	if (flags < 0 || fcntl(d, F_SETFL, flags | O_NONBLOCK) < 0) {
		int e = errno;
		close(d);
		errno = e;
		return -1;
	}
	return d;
}

// One operation on a private fd. Every step runs under `mutex` with `done` checked, so the fd
// is never used after it was closed; the promise is completed outside the lock.
template <class T>
struct op {
	op(pool &p, int fd) : reactor(p), fd(fd) {}
	~op() {
		if (!done) // the reactor dropped us (shutdown): nothing else can use the fd
			close(fd);
	}
	pool &reactor;
	int fd;
	std::mutex mutex;
	bool done = false;
	Promise<T> promise;

	// Under the lock: stop using the fd.
	void finish_locked() {
		done = true;
		reactor.forget(fd);
		close(fd);
	}
};

struct reader : op<std::string> {
	using op::op;
	std::string data;
};

struct writer : op<Nothing> {
	writer(pool &p, int fd, std::string d) : op(p, fd), data(std::move(d)) {}
	std::string data;
	std::size_t written = 0;
};

template <class Op>
void on_discard(const std::weak_ptr<Op> &weak) {
	auto o = weak.lock();
	if (!o)
		return;
	{
		guarded_lock lock(o->mutex);
		if (o->done)
			return;
		o->finish_locked();
	}
	o->promise.discard();
}

void step(const std::shared_ptr<reader> &r) {
	enum { wait, eof, error } outcome = wait;
	int err = 0;
	std::string result;
	{
		guarded_lock lock(r->mutex);
		if (r->done)
			return;
		for (int round = 0; round < max_rounds; ++round) {
			std::size_t old = r->data.size();
			r->data.resize(old + chunk);
			ssize_t n = ::read(r->fd, r->data.data() + old, chunk);
			r->data.resize(old + static_cast<std::size_t>(n > 0 ? n : 0));
			if (n > 0)
				continue;
			if (n == 0) {
				outcome = eof;
				break;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			err = errno;
			outcome = error;
			break;
		}
		if (outcome == wait) {
			try {
				r->reactor.when_readable(r->fd, [r] { step(r); });
			} catch (const std::exception &e) {
				outcome = error;
				err = 0;
				result = e.what();
			}
		}
		if (outcome != wait) {
			r->finish_locked();
			if (outcome == eof)
				result.swap(r->data);
		}
	}
	if (outcome == eof)
		r->promise.set(std::move(result));
	else if (outcome == error)
		r->promise.fail(err ? ErrnoFailure("io::read", err).message : "io::read: " + result);
	detail::critical c;
	result.clear();
	result.shrink_to_fit();
}

void step(const std::shared_ptr<writer> &w) {
	enum { wait, complete, error } outcome = wait;
	int err = 0;
	std::string what;
	{
		guarded_lock lock(w->mutex);
		if (w->done)
			return;
		for (int round = 0; round < max_rounds && w->written < w->data.size(); ++round) {
			ssize_t n = ::send(w->fd, w->data.data() + w->written, w->data.size() - w->written,
			                   MSG_NOSIGNAL);
			if (n < 0 && errno == ENOTSOCK)
				n = ::write(w->fd, w->data.data() + w->written, w->data.size() - w->written);
			if (n >= 0) {
				w->written += static_cast<std::size_t>(n);
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			err = errno;
			outcome = error;
			break;
		}
		if (outcome == wait && w->written == w->data.size())
			outcome = complete;
		if (outcome == wait) {
			try {
				w->reactor.when_writable(w->fd, [w] { step(w); });
			} catch (const std::exception &e) {
				outcome = error;
				what = e.what();
			}
		}
		if (outcome != wait)
			w->finish_locked();
	}
	if (outcome == complete)
		w->promise.set(Nothing());
	else if (outcome == error)
		w->promise.fail(err ? ErrnoFailure("io::write", err).message : "io::write: " + what);
}

template <class Op, class T, class... A>
Future<T> start(pool *p, int fd, A &&...a) {
	std::shared_ptr<Op> o;
	Future<T> f;
	{
		detail::critical c;
		int d = private_dup(fd);
		if (d < 0)
			return ErrnoFailure("io: cannot use fd " + std::to_string(fd));
		o = std::make_shared<Op>(reactor(p), d, std::forward<A>(a)...);
		f = o->promise.future();
		f.onDiscard([weak = std::weak_ptr<Op>(o)] { on_discard(weak); });
	}
	step(o);
	return f;
}

} // namespace

pool &reactor(pool *p) { return p ? *p : runtime::current().workers(); }

Future<std::string> read(int fd, pool *p) { return start<reader, std::string>(p, fd); }

Future<Nothing> write(int fd, std::string data, pool *p) {
	return start<writer, Nothing>(p, fd, std::move(data));
}

} // namespace turquoise::io
