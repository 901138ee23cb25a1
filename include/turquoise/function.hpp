// turquoise/function.hpp — a move-only type-erased callable (std::move_only_function is C++23).
#ifndef TURQUOISE_FUNCTION_HPP
#define TURQUOISE_FUNCTION_HPP

#include <memory>
#include <type_traits>
#include <utility>

namespace turquoise {

template <class Signature>
class unique_function;

template <class R, class... Args>
class unique_function<R(Args...)> {
public:
	unique_function() = default;
	template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, unique_function>>>
	unique_function(F &&f) : impl_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}

	R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }
	explicit operator bool() const noexcept { return impl_ != nullptr; }

private:
	struct concept_ {
		virtual ~concept_() = default;
		virtual R call(Args... args) = 0;
	};
	template <class F>
	struct model final : concept_ {
		template <class G>
		explicit model(G &&g) : f(std::forward<G>(g)) {}
		R call(Args... args) override { return f(std::forward<Args>(args)...); }
		F f;
	};
	std::unique_ptr<concept_> impl_;
};

} // namespace turquoise

#endif
