// turquoise/async/try.hpp — Try<T, E = Error>: a value or an error, for synchronous results.
#ifndef TURQUOISE_ASYNC_TRY_HPP
#define TURQUOISE_ASYNC_TRY_HPP

#include <turquoise/async/failure.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace turquoise {

template <class T, class E = Error>
class Try {
public:
	Try(const T &t) : v_(std::in_place_index<0>, t) {}
	Try(T &&t) : v_(std::in_place_index<0>, std::move(t)) {}
	Try(const E &e) : v_(std::in_place_index<1>, e) {}
	Try(E &&e) : v_(std::in_place_index<1>, std::move(e)) {}
	template <class U, class = std::enable_if_t<std::is_convertible_v<U &&, T> &&
	                                            !std::is_same_v<std::decay_t<U>, T> &&
	                                            !std::is_same_v<std::decay_t<U>, E> &&
	                                            !std::is_same_v<std::decay_t<U>, Try>>>
	Try(U &&u) : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}

	bool isSome() const noexcept { return v_.index() == 0; }
	bool isError() const noexcept { return v_.index() == 1; }

	// get() throws std::logic_error carrying the error message when there is no value.
	const T &get() const & { check(); return std::get<0>(v_); }
	T &get() & { check(); return std::get<0>(v_); }
	T &&get() && { check(); return std::get<0>(std::move(v_)); }
	const T *operator->() const { return &get(); }
	const T &operator*() const & { return get(); }

	// The error's message (std::logic_error if there is a value).
	std::string error() const {
		if (!isError())
			throw std::logic_error("Try::error() on a value");
		if constexpr (requires(const E &e) { e.message; })
			return std::get<1>(v_).message;
		else
			return std::string(std::get<1>(v_).what());
	}
	const E &errorValue() const { return std::get<1>(v_); }

private:
	void check() const {
		if (isError())
			throw std::logic_error("Try::get() on an error: " + error());
	}
	std::variant<T, E> v_;
};

} // namespace turquoise

#endif
