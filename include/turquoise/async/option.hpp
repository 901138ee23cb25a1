// turquoise/async/option.hpp — Option<T>: a value or None, with libprocess-style accessors
// (isSome/isNone/get/getOrElse). Thin wrapper over std::optional.
#ifndef TURQUOISE_ASYNC_OPTION_HPP
#define TURQUOISE_ASYNC_OPTION_HPP

#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace turquoise {

struct None {
	friend constexpr bool operator==(None, None) noexcept { return true; }
};

template <class T>
class Option {
public:
	using value_type = T;

	Option() = default;
	Option(None) {}
	Option(std::nullopt_t) {}
	Option(const T &t) : value_(t) {}
	Option(T &&t) : value_(std::move(t)) {}
	template <class U, class = std::enable_if_t<std::is_convertible_v<U &&, T> &&
	                                            !std::is_same_v<std::decay_t<U>, T> &&
	                                            !std::is_same_v<std::decay_t<U>, Option> &&
	                                            !std::is_same_v<std::decay_t<U>, None>>>
	Option(U &&u) : value_(T(std::forward<U>(u))) {}
	Option(std::optional<T> o) : value_(std::move(o)) {}

	bool isSome() const noexcept { return value_.has_value(); }
	bool isNone() const noexcept { return !value_.has_value(); }
	explicit operator bool() const noexcept { return isSome(); }

	// Throws std::logic_error on None.
	const T &get() const & { check(); return *value_; }
	T &get() & { check(); return *value_; }
	T &&get() && { check(); return std::move(*value_); }
	const T *operator->() const { return &get(); }
	T *operator->() { return &get(); }
	const T &operator*() const & { return get(); }
	T &operator*() & { return get(); }

	template <class U>
	T getOrElse(U &&fallback) const {
		return isSome() ? *value_ : static_cast<T>(std::forward<U>(fallback));
	}

	const std::optional<T> &optional() const noexcept { return value_; }

	friend bool operator==(const Option &a, const Option &b) { return a.value_ == b.value_; }
	friend bool operator==(const Option &a, None) { return a.isNone(); }
	friend bool operator==(const Option &a, const T &b) { return a.isSome() && *a.value_ == b; }

private:
	void check() const {
		if (!value_)
			throw std::logic_error("Option::get() on None");
	}
	std::optional<T> value_;
};

template <class T>
Option<std::decay_t<T>> Some(T &&t) {
	return Option<std::decay_t<T>>(std::forward<T>(t));
}

} // namespace turquoise

#endif
