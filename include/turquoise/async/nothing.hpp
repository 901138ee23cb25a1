// turquoise/async/nothing.hpp — the unit type: Future<Nothing> is the "Future<void>" of the
// async layer (it becomes ready without carrying a value).
#ifndef TURQUOISE_ASYNC_NOTHING_HPP
#define TURQUOISE_ASYNC_NOTHING_HPP

#include <ostream>

namespace turquoise {

struct Nothing {
	friend constexpr bool operator==(Nothing, Nothing) noexcept { return true; }
	friend constexpr bool operator<(Nothing, Nothing) noexcept { return false; }
	friend std::ostream &operator<<(std::ostream &os, Nothing) { return os << "Nothing"; }
};

} // namespace turquoise

#endif
