// turquoise/placement/detail/checks.hpp — the compile-time checks of every access to a placed
// value. Each check is a variable template whose name, printed by the compiler with both peers
// ("note: 'turquoise::placement::check::has_tie_to<Node, Worker>' evaluates to false"), says
// what is missing; the static_assert message says what to do.
#ifndef TURQUOISE_PLACEMENT_DETAIL_CHECKS_HPP
#define TURQUOISE_PLACEMENT_DETAIL_CHECKS_HPP

#include <turquoise/placement/peer.hpp>

#include <type_traits>

namespace turquoise::placement::check {

// <the peer the code runs on, the peer the value is placed on>
template <class Local, class Remote>
constexpr bool value_is_placed_on_local_peer = std::is_same_v<Local, Remote>;
template <class Local, class Remote>
constexpr bool value_is_placed_on_another_peer = !std::is_same_v<Local, Remote>;
template <class Local, class Remote>
constexpr bool has_tie_to = tie_multiplicity<Local, Remote> != multiplicity::none;
template <class Local, class Remote>
constexpr bool tie_is_single_or_optional = tie_multiplicity<Local, Remote> == multiplicity::single ||
                                           tie_multiplicity<Local, Remote> == multiplicity::optional;
template <class Local, class Remote>
constexpr bool tie_is_multiple = tie_multiplicity<Local, Remote> == multiplicity::multiple;
// <the peer the code is placed on, the peer the value it initializes is placed on>
template <class Code, class Value>
constexpr bool code_is_placed_on_value_peer = std::is_same_v<Code, Value>;

#define TURQUOISE_PLACEMENT_CHECK_REMOTE(Local, Remote)                                                \
	static_assert(::turquoise::placement::check::value_is_placed_on_another_peer<Local, Remote>,       \
	              "placement error: this value is placed on the local peer: read it with local(), "    \
	              "not through a tie");                                                                \
	static_assert(::turquoise::placement::check::has_tie_to<Local, Remote>,                            \
	              "placement error: the local peer has no tie to the peer this value is placed on "    \
	              "(the note names <local peer, value's peer>): declare tie<ValuePeer, ...> in the "    \
	              "local peer's peer<...>")

} // namespace turquoise::placement::check

#endif
