// turquoise/function.hpp — a move-only type-erased callable (std::move_only_function is C++23).
//
// Callables up to `inline_size` bytes (that move without throwing) are stored inside the
// object, larger ones on the heap. Every posted task and every future callback is one of
// these, and most capture a pointer or two: storing them inline saves an allocation (and a
// free on another thread) per task or callback.
#ifndef TURQUOISE_FUNCTION_HPP
#define TURQUOISE_FUNCTION_HPP

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class Signature>
class unique_function;

template <class R, class... Args>
class unique_function<R(Args...)> {
public:
	static constexpr std::size_t inline_size = 48;

	unique_function() noexcept = default;
	template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, unique_function>>>
	unique_function(F &&f) {
		using D = std::decay_t<F>;
		if constexpr (fits<D>) {
			::new (static_cast<void *>(buf_)) D(std::forward<F>(f));
			ops_ = &inline_ops<D>;
		} else {
			*reinterpret_cast<D **>(buf_) = new D(std::forward<F>(f));
			ops_ = &heap_ops<D>;
		}
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
	struct ops {
		R (*call)(void *, Args &&...);
		void (*move)(void *to, void *from) noexcept; // leaves `from` destroyed
		void (*destroy)(void *) noexcept;
	};

	template <class D>
	static constexpr bool fits = sizeof(D) <= inline_size &&
	                             alignof(D) <= alignof(std::max_align_t) &&
	                             std::is_nothrow_move_constructible_v<D>;

	template <class D>
	static D &as(void *p) noexcept {
		return *std::launder(reinterpret_cast<D *>(p));
	}
	template <class D>
	static constexpr ops inline_ops = {
	    [](void *p, Args &&...a) -> R { return as<D>(p)(std::forward<Args>(a)...); },
	    [](void *to, void *from) noexcept {
		    ::new (to) D(std::move(as<D>(from)));
		    as<D>(from).~D();
	    },
	    [](void *p) noexcept { as<D>(p).~D(); },
	};
	template <class D>
	static constexpr ops heap_ops = {
	    [](void *p, Args &&...a) -> R { return (*as<D *>(p))(std::forward<Args>(a)...); },
	    [](void *to, void *from) noexcept { ::new (to) D *(as<D *>(from)); },
	    [](void *p) noexcept { delete as<D *>(p); },
	};

	void take(unique_function &o) noexcept {
		if (o.ops_) {
			o.ops_->move(buf_, o.buf_);
			ops_ = o.ops_;
			o.ops_ = nullptr;
		}
	}
	void reset() noexcept {
		if (ops_) {
			const ops *o = ops_;
			ops_ = nullptr;
			o->destroy(buf_);
		}
	}

	const ops *ops_ = nullptr;
	alignas(std::max_align_t) unsigned char buf_[inline_size];
};

} // namespace turquoise

#endif
