// turquoise/async/loop.hpp — asynchronous loops without recursion.
//
//   Future<R> loop(iterate, body)
//
// Repeats: v = iterate() (returns T or Future<T>), then body(v) (returns ControlFlow<R> or
// Future<ControlFlow<R>>): Continue() goes round again, Break(r) completes the loop's future
// with r (Break() for R = Nothing). A failed or discarded future from iterate or body, or an
// exception thrown by them, ends the loop the same way. Iterations whose futures are already
// ready run in a plain while loop: the stack does not grow with the number of iterations.
// Iterations continue on whichever thread completes the future they waited on.
//
// A discard requested on the loop's future is requested on the future the loop is waiting
// for, and the loop stops (its future discarded) at the next iteration boundary.
#ifndef TURQUOISE_ASYNC_LOOP_HPP
#define TURQUOISE_ASYNC_LOOP_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/detail/loop.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class T>
class ControlFlow {
public:
	using value_type = T;
	enum class Statement { CONTINUE, BREAK };

	static ControlFlow continue_() { return ControlFlow(Statement::CONTINUE, std::nullopt); }
	static ControlFlow break_(T t) { return ControlFlow(Statement::BREAK, std::move(t)); }

	Statement statement() const { return statement_; }
	bool isBreak() const { return statement_ == Statement::BREAK; }
	const T &value() const & { return *value_; }
	T &&value() && { return std::move(*value_); }

private:
	ControlFlow(Statement s, std::optional<T> t) : statement_(s), value_(std::move(t)) {}
	Statement statement_;
	std::optional<T> value_;
};

struct Continue {
	template <class T>
	operator ControlFlow<T>() const {
		return ControlFlow<T>::continue_();
	}
};

template <class T>
struct BreakWith {
	T value;
	template <class U>
	operator ControlFlow<U>() const & {
		return ControlFlow<U>::break_(U(value));
	}
	template <class U>
	operator ControlFlow<U>() && {
		return ControlFlow<U>::break_(U(std::move(value)));
	}
};

inline BreakWith<Nothing> Break() { return {Nothing()}; }
template <class T>
BreakWith<std::decay_t<T>> Break(T &&t) {
	return {std::forward<T>(t)};
}

template <class Iterate, class Body>
auto loop(Iterate &&iterate, Body &&body) {
	return detail::start_loop(std::forward<Iterate>(iterate), std::forward<Body>(body));
}

} // namespace turquoise

#endif
