// turquoise/detail/function.hpp — internal: the per-type operations table behind
// unique_function (function.hpp): call, move and destroy a callable stored inline or on the heap.
#ifndef TURQUOISE_DETAIL_FUNCTION_HPP
#define TURQUOISE_DETAIL_FUNCTION_HPP

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace turquoise::detail {

template <class R, class... Args>
struct function_vtable {
	static constexpr std::size_t inline_size = 48;

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

	// Construct f's decayed copy in buf (inline_size bytes), or on the heap with its pointer
	// in buf; returns the table for it.
	template <class F>
	static const ops *store(unsigned char *buf, F &&f) {
		using D = std::decay_t<F>;
		if constexpr (fits<D>) {
			::new (static_cast<void *>(buf)) D(std::forward<F>(f));
			return &inline_ops<D>;
		} else {
			*reinterpret_cast<D **>(buf) = new D(std::forward<F>(f));
			return &heap_ops<D>;
		}
	}
};

} // namespace turquoise::detail

#endif
