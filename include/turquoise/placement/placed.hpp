// turquoise/placement/placed.hpp — placed<Peer, T>: a value that exists on Peer only, and
// on<Peer>(code): the code that makes it, run on Peer only.
//
//   struct Chat {
//     placed<Node, Event<std::string>> message;                        // an Event on each Node
//     placed<Registry, Event<std::string>> publicMessage = on<Registry>(
//         [this](here<Registry> h) { return h.as_local_from_all_seq(message); });
//     placed<Registry, std::function<int(int)>> twice = on<Registry>(
//         [] { return std::function<int(int)>([](int x) { return 2 * x; }); });
//   };
//
// A module (a struct of placed values) is built by instance<Peer, Module> (runtime.hpp) as
// one of its peers: every placed value is declared on every peer, in the same order (that
// order is the value's identity on the wire), and holds its T only on its own peer. Code on a
// peer reads its local values with here<Peer>::local() and remote ones through ties
// (here.hpp). The initializer given by on<Q> must be placed on the value's peer (a compile
// error otherwise); it receives here<Q> (or nothing) and returns the T (or nothing for
// placed<Q, Nothing>: code run once on Q).
//
// Remote access by kind of T: Event<X> (subscribed), Signal<X> (subscribed: the value, then
// its changes), std::function<R(A...)> (a placed function: a call returns Future<R>), any
// other T with a codec (read: Future<T>). T crosses the wire through codec<> (codec.hpp).
#ifndef TURQUOISE_PLACEMENT_PLACED_HPP
#define TURQUOISE_PLACEMENT_PLACED_HPP

#include <turquoise/placement/detail/checks.hpp>
#include <turquoise/placement/detail/peer_runtime.hpp>
#include <turquoise/placement/peer.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace turquoise::placement {

template <class Peer>
class here;

namespace detail {
// How other peers reach a hosted value of type T (detail/hosted.hpp).
template <class T>
std::unique_ptr<hosted> make_hosted(T &value);
} // namespace detail

// on<Peer>(f): code placed on Peer (an initializer of placed<Peer, T>).
template <class Peer, class F>
struct placed_code {
	F code;
};
template <class Peer, class F>
placed_code<Peer, F> on(F code) {
	static_assert(is_peer<Peer>, "placement error: on<P>: P is not a peer (derive it from peer<tie<...>...>)");
	return {std::move(code)};
}

template <class Peer, class T>
class placed {
	static_assert(is_peer<Peer>, "placement error: placed<P, T>: P is not a peer (derive it from peer<tie<...>...>)");

public:
	using peer_type = Peer;
	using value_type = T;

	// T() on Peer.
	placed() : placed(on<Peer>([] { return T(); })) {}
	// T made by code placed on Peer.
	template <class Code, class F>
	placed(placed_code<Code, F> init) {
		static_assert(check::code_is_placed_on_value_peer<Code, Peer>,
		              "placement error: a value placed on one peer is initialized by code placed on "
		              "another (the note names <code's peer, value's peer>): use on<ValuePeer>(...)");
		rt_ = detail::peer_runtime::building();
		if (rt_ == nullptr)
			throw std::logic_error("placement: placed<> built outside a peer instance (build the module "
			                       "with instance<Peer, Module> or run<Peer, Module>)");
		index_ = rt_->add_value({detail::demangle(typeid(T).name()), typeid(T).name(), placement::peer_name<Peer>(), nullptr});
		if (rt_->peer_type() == typeid(Peer)) {
			here<Peer> h(*rt_);
			if constexpr (std::is_invocable_v<F &, here<Peer>>)
				construct(init.code, h);
			else
				construct(init.code);
			host();
		}
	}
	placed(const placed &) = delete;
	placed &operator=(const placed &) = delete;

	std::size_t index() const { return index_; }
	// True on the peer the value is placed on (where local() finds it).
	bool hosted() const { return value_.has_value(); }

private:
	template <class>
	friend class here;
	template <class F, class... A>
	void construct(F &f, A &...a) {
		if constexpr (std::is_void_v<std::invoke_result_t<F &, A &...>>) {
			static_assert(std::is_same_v<T, Nothing>, "placement error: on<P>(code) returns nothing: place it as placed<P, Nothing>");
			f(a...);
			value_.emplace();
		} else {
			value_.emplace(f(a...));
		}
	}
	void host() { rt_->host(index_, detail::make_hosted(*value_)); }

	std::optional<T> value_;
	detail::peer_runtime *rt_ = nullptr;
	std::size_t index_ = 0;
};

} // namespace turquoise::placement

#include <turquoise/placement/here.hpp>
#include <turquoise/placement/detail/hosted.hpp>

#endif
