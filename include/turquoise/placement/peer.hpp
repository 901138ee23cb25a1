// turquoise/placement/peer.hpp — peers and ties as types (ScalaLoci's peer and tie declarations).
//
//   struct Registry; struct Node;
//   struct Registry : peer<tie<Node, multiple>> {};
//   struct Node : peer<tie<Registry, single>> {};
//
// A peer is a type deriving from peer<tie<Other, Multiplicity>...>. A tie says that this peer
// talks to Other, and how many of them it is connected to at once:
//   single    exactly one (connected before the peer starts running);
//   optional  zero or one;
//   multiple  any number.
// Ties are directed: Node's tie to Registry lets code on Node read values placed on Registry.
// Each access to a remote value is checked against these ties at compile time (access.hpp);
// the run-time handshake checks the declared peer types and multiplicities again (runtime.hpp).
//
// A peer's name on the wire and in errors is its type's name (demangled), or the value of a
// static member `static constexpr const char *peer_name` if the peer declares one.
#ifndef TURQUOISE_PLACEMENT_PEER_HPP
#define TURQUOISE_PLACEMENT_PEER_HPP

#include <string>
#include <type_traits>
#include <vector>

namespace turquoise::placement {

// Multiplicities.
struct single {};
struct optional {};
struct multiple {};

enum class multiplicity { none, single, optional, multiple };

template <class Peer, class Multiplicity>
struct tie {
	static_assert(std::is_same_v<Multiplicity, single> || std::is_same_v<Multiplicity, optional> ||
	                  std::is_same_v<Multiplicity, multiple>,
	              "placement: a tie's multiplicity is single, optional or multiple");
	using peer_type = Peer;
	using multiplicity_type = Multiplicity;
};

namespace detail {
struct peer_base {};
template <class M>
constexpr multiplicity multiplicity_of() {
	if constexpr (std::is_same_v<M, single>)
		return multiplicity::single;
	else if constexpr (std::is_same_v<M, optional>)
		return multiplicity::optional;
	else
		return multiplicity::multiple;
}
} // namespace detail

template <class... Ties>
struct peer : detail::peer_base {
	// The ties as a type list (each a tie<Peer, Multiplicity>).
	template <template <class...> class List>
	using ties = List<Ties...>;
};

template <class T>
constexpr bool is_peer = std::is_base_of_v<detail::peer_base, T>;

namespace detail {
template <class From, class To, class... Ties>
constexpr multiplicity find_tie(const peer<Ties...> *) {
	multiplicity m = multiplicity::none;
	((std::is_same_v<typename Ties::peer_type, To> ? (void)(m = multiplicity_of<typename Ties::multiplicity_type>())
	                                                : (void)0),
	 ...);
	return m;
}
} // namespace detail

// The multiplicity of From's tie to To (none if From has no tie to To).
template <class From, class To>
constexpr multiplicity tie_multiplicity = detail::find_tie<From, To>(static_cast<const From *>(nullptr));

// A peer's name (see above).
template <class Peer>
std::string peer_name();

// A peer's ties, for the run-time handshake.
struct tie_info {
	std::string peer;
	multiplicity kind;
};
template <class Peer>
std::vector<tie_info> ties_of();

const char *to_string(multiplicity m);

} // namespace turquoise::placement

#include <turquoise/placement/detail/peer.hpp>

#endif
