// turquoise/placement/detail/peer.hpp — peer names and tie lists at run time (for peer.hpp).
#ifndef TURQUOISE_PLACEMENT_DETAIL_PEER_HPP
#define TURQUOISE_PLACEMENT_DETAIL_PEER_HPP

#include <string>
#include <typeinfo>
#include <vector>

namespace turquoise::abi {
// The demangled name of a type (the mangled one if demangling fails). (An out-of-line entry
// point of the templates: see detail/peer_runtime.hpp.)
std::string placement_demangle(const char *mangled);
} // namespace turquoise::abi

namespace turquoise::placement {

namespace detail {
inline std::string demangle(const char *mangled) { return abi::placement_demangle(mangled); }

template <class Peer>
concept names_itself = requires { Peer::peer_name; };

template <class... Ties>
std::vector<tie_info> list_ties(const peer<Ties...> *) {
	return {tie_info{placement::peer_name<typename Ties::peer_type>(),
	                 multiplicity_of<typename Ties::multiplicity_type>()}...};
}
} // namespace detail

template <class Peer>
std::string peer_name() {
	if constexpr (detail::names_itself<Peer>)
		return std::string(Peer::peer_name);
	else
		return detail::demangle(typeid(Peer).name());
}

template <class Peer>
std::vector<tie_info> ties_of() {
	static_assert(is_peer<Peer>, "placement: not a peer (derive it from peer<tie<...>...>)");
	return detail::list_ties(static_cast<const Peer *>(nullptr));
}

} // namespace turquoise::placement

#endif
