// turquoise/async/failure.hpp — Failure (why a Future failed) and Error (why a Try holds no
// value). Both are just a message; `Future<T> f = Failure("...")` makes a failed future.
#ifndef TURQUOISE_ASYNC_FAILURE_HPP
#define TURQUOISE_ASYNC_FAILURE_HPP

#include <cerrno>
#include <cstring>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>

namespace turquoise {

class Failure {
public:
	explicit Failure(std::string message) : message(std::move(message)) {}
	explicit Failure(const char *message) : message(message) {}
	std::string message;
	friend std::ostream &operator<<(std::ostream &os, const Failure &f) { return os << f.message; }
};

// A Failure whose message ends with strerror(errno) (or of the given code).
inline Failure ErrnoFailure(const std::string &what, int code = errno) {
	return Failure(what + ": " + std::strerror(code));
}

class Error {
public:
	explicit Error(std::string message) : message(std::move(message)) {}
	explicit Error(const char *message) : message(message) {}
	std::string message;
	friend std::ostream &operator<<(std::ostream &os, const Error &e) { return os << e.message; }
};

// What Future::get() (and co_await) throw for a future that did not become ready.
class FutureFailed : public std::runtime_error {
public:
	explicit FutureFailed(const std::string &message) : std::runtime_error(message) {}
};
class FutureDiscarded : public std::runtime_error {
public:
	FutureDiscarded() : std::runtime_error("future discarded") {}
};
// The future's last Promise was destroyed without completing it: it can never complete.
class FutureAbandoned : public std::runtime_error {
public:
	FutureAbandoned() : std::runtime_error("future abandoned (its promise was destroyed)") {}
};

} // namespace turquoise

#endif
