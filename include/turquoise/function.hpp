// turquoise/function.hpp — a move-only type-erased callable (std::move_only_function is C++23).
//
// Callables up to `inline_size` bytes (that move without throwing) are stored inside the
// object, larger ones on the heap. Every posted task and every future callback is one of
// these, and most capture a pointer or two: storing them inline saves an allocation (and a
// free on another thread) per task or callback.
#ifndef TURQUOISE_FUNCTION_HPP
#define TURQUOISE_FUNCTION_HPP

#include <turquoise/detail/function.hpp>

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class Signature>
class unique_function;

template <class R, class... Args>
class unique_function<R(Args...)> {
	using vtable = detail::function_vtable<R, Args...>;

public:
	static constexpr std::size_t inline_size = vtable::inline_size;

	unique_function() noexcept = default;
	template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, unique_function>>>
	unique_function(F &&f) {
		ops_ = vtable::template store<F>(buf_, std::forward<F>(f));
	}
	unique_function(unique_function &&o) noexcept { take(o); }
	unique_function &operator=(unique_function &&o) noexcept {
		if (this != &o) {
			reset();
			take(o);
		}
		return *this;
	}
	unique_function(const unique_function &) = delete;
	unique_function &operator=(const unique_function &) = delete;
	~unique_function() { reset(); }

	R operator()(Args... args) { return ops_->call(buf_, std::forward<Args>(args)...); }
	explicit operator bool() const noexcept { return ops_ != nullptr; }

private:
	void take(unique_function &o) noexcept {
		if (o.ops_) {
			o.ops_->move(buf_, o.buf_);
			ops_ = o.ops_;
			o.ops_ = nullptr;
		}
	}
	void reset() noexcept {
		if (ops_) {
			const typename vtable::ops *o = ops_;
			ops_ = nullptr;
			o->destroy(buf_);
		}
	}

	const typename vtable::ops *ops_ = nullptr;
	alignas(std::max_align_t) unsigned char buf_[inline_size];
};

} // namespace turquoise

#endif
