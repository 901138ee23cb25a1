// turquoise/placement/here.hpp — here<Peer>: what code placed on Peer may touch. Local values
// directly, remote ones only through Peer's ties, each access checked at compile time.
//
//   here<Node> h = node.context();
//   h.local(chat.message).fire("hi");                     // placed<Node, ...>: on this peer
//   Event<std::string> pub = h.as_local(chat.publicMessage); // placed<Registry, ...>: single tie
//   on Registry: h.as_local_from_all_seq(chat.message)    // every Node's (multiple tie)
//
// What an access gives, for a value placed on Q of type:
//                    as_local (single/optional)  as_local_from_all (multiple)          ..._seq (multiple)
//   Event<X>         Event<X>                    Event<pair<remote<Q>, X>>             Event<X>
//   Signal<X>        Future<Signal<X>>           Signal<map<remote<Q>, X>>             Signal<vector<X>>
//   function R(A...) remote_function: Future<R>  -                                     -
//   other T          Future<T>                   Future<vector<pair<remote<Q>, T>>>    Future<vector<T>>
// Remote events and signals follow the tie: subscribed at each connection to a Q (the single
// one, or every one, now and later). A single/optional tie's event fails when its peer
// disconnects; multiple views drop the peer. Reads and calls go to the peers connected now
// (none: a failed future). Forbidden accesses are compile errors naming both peers
// (detail/checks.hpp): reading a remote value with local(), any access without a tie,
// as_local over a multiple tie, as_local_from_all over a single or optional one.
#ifndef TURQUOISE_PLACEMENT_HERE_HPP
#define TURQUOISE_PLACEMENT_HERE_HPP

#include <turquoise/async/collect.hpp>
#include <turquoise/placement/detail/uses.hpp>
#include <turquoise/placement/placed.hpp>

#include <functional>
#include <map>
#include <vector>

namespace turquoise::placement {

// A remote peer of type Q, by address.
template <class Q>
struct remote {
	std::string address;
	friend bool operator==(const remote &a, const remote &b) { return a.address == b.address; }
	friend bool operator<(const remote &a, const remote &b) { return a.address < b.address; }
};

// A placed function on a tied peer: calling it returns the result as a Future.
template <class Signature>
class remote_function;
template <class R, class... A>
class remote_function<R(A...)> {
public:
	using result_type = std::conditional_t<std::is_void_v<R>, Nothing, R>;
	remote_function(detail::peer_runtime &rt, std::size_t index, std::string peer)
	    : rt_(&rt), index_(index), peer_(std::move(peer)) {}
	Future<result_type> operator()(const std::decay_t<A> &...args) const {
		auto to = rt_->connected(peer_);
		if (to.empty())
			return Failure("placement: no " + peer_ + " connected to " + rt_->peer());
		return rt_->request(to.front(), index_, true, encode(std::tuple<std::decay_t<A>...>(args...)))
		    .then([](const std::string &bytes) { return decode<result_type>(bytes); });
	}

private:
	detail::peer_runtime *rt_;
	std::size_t index_;
	std::string peer_;
};

template <class Peer>
class here {
public:
	explicit here(detail::peer_runtime &rt) : rt_(&rt) {}

	// A value placed on this peer.
	template <class Q, class T>
	T &local(placed<Q, T> &v) const {
		static_assert(check::value_is_placed_on_local_peer<Peer, Q>,
		              "placement error: a value placed on another peer cannot be read directly (the "
		              "note names <local peer, value's peer>): use as_local() over a tie");
		return *v.value_;
	}

	template <class Q, class T>
	auto as_local(const placed<Q, T> &v) const {
		TURQUOISE_PLACEMENT_CHECK_REMOTE(Peer, Q);
		if constexpr (check::has_tie_to<Peer, Q>) // (no tie: reported above)
			static_assert(check::tie_is_single_or_optional<Peer, Q>,
			              "placement error: as_local() reads over a single or optional tie, and this tie "
			              "is multiple (the note names <local peer, value's peer>): use as_local_from_all() "
			              "or as_local_from_all_seq()");
		return one(v, static_cast<T *>(nullptr));
	}

	template <class Q, class T>
	auto as_local_from_all(const placed<Q, T> &v) const {
		TURQUOISE_PLACEMENT_CHECK_REMOTE(Peer, Q);
		if constexpr (check::has_tie_to<Peer, Q>) // (no tie: reported above)
			static_assert(check::tie_is_multiple<Peer, Q>,
			              "placement error: as_local_from_all() reads over a multiple tie, and this tie is "
			              "single or optional (the note names <local peer, value's peer>): use as_local()");
		return all(v, static_cast<T *>(nullptr), [](const std::string &a, auto &&x) {
			return std::make_pair(remote<Q>{a}, std::forward<decltype(x)>(x));
		});
	}

	template <class Q, class T>
	auto as_local_from_all_seq(const placed<Q, T> &v) const {
		TURQUOISE_PLACEMENT_CHECK_REMOTE(Peer, Q);
		if constexpr (check::has_tie_to<Peer, Q>) // (no tie: reported above)
			static_assert(check::tie_is_multiple<Peer, Q>,
			              "placement error: as_local_from_all_seq() reads over a multiple tie, and this tie "
			              "is single or optional (the note names <local peer, value's peer>): use as_local()");
		return all(v, static_cast<T *>(nullptr), [](const std::string &, auto &&x) { return std::forward<decltype(x)>(x); });
	}

	// The peers of type Q connected now.
	template <class Q>
	std::vector<remote<Q>> remotes() const {
		static_assert(check::has_tie_to<Peer, Q>, "placement error: the local peer has no tie to this peer "
		                                          "(the template arguments name <local peer, other peer>)");
		std::vector<remote<Q>> out;
		for (auto &a : rt_->connected(peer_name<Q>()))
			out.push_back({a});
		return out;
	}

	detail::peer_runtime &runtime() const { return *rt_; }

private:
	template <class Q, class X>
	Event<X> one(const placed<Q, Event<X>> &v, Event<X> *) const {
		auto s = std::make_shared<detail::event_from_one<X>>(*rt_);
		rt_->subscribe(v.index(), s);
		return s->out;
	}
	template <class Q, class X>
	Future<Signal<X>> one(const placed<Q, Signal<X>> &v, Signal<X> *) const {
		auto s = std::make_shared<detail::signal_from_one<X>>(*rt_);
		rt_->subscribe(v.index(), s);
		return s->ready.future();
	}
	template <class Q, class R, class... A>
	remote_function<R(A...)> one(const placed<Q, std::function<R(A...)>> &v, std::function<R(A...)> *) const {
		return remote_function<R(A...)>(*rt_, v.index(), peer_name<Q>());
	}
	template <class Q, class T>
	Future<T> one(const placed<Q, T> &v, void *) const {
		auto to = rt_->connected(peer_name<Q>());
		if (to.empty())
			return Failure("placement: no " + peer_name<Q>() + " connected to " + rt_->peer());
		return rt_->request(to.front(), v.index(), false, "").then([](const std::string &b) { return decode<T>(b); });
	}

	template <class Q, class X, class Tag>
	auto all(const placed<Q, Event<X>> &v, Event<X> *, Tag tag) const {
		using Out = std::decay_t<std::invoke_result_t<Tag &, const std::string &, X &&>>;
		auto s = std::make_shared<detail::event_from_all<X, Out, Tag>>(*rt_, std::move(tag));
		rt_->subscribe(v.index(), s);
		return s->out;
	}
	template <class Q, class X, class Tag>
	auto all(const placed<Q, Signal<X>> &v, Signal<X> *, Tag) const {
		auto s = std::make_shared<detail::signal_from_all<X, remote<Q>>>(*rt_);
		rt_->subscribe(v.index(), s);
		using Out = std::decay_t<std::invoke_result_t<Tag &, const std::string &, X &&>>;
		if constexpr (std::is_same_v<Out, X>)
			return s->out.map([](const std::map<remote<Q>, X> &m) {
				std::vector<X> out;
				for (const auto &[k, x] : m)
					out.push_back(x);
				return out;
			});
		else
			return s->out;
	}
	template <class Q, class R, class... A, class Tag>
	void all(const placed<Q, std::function<R(A...)>> &, std::function<R(A...)> *, Tag) const {
		static_assert(check::tie_is_single_or_optional<Peer, Q>,
		              "placement error: a placed function is called over a single or optional tie; "
		              "calling every peer of a multiple tie is not supported (the note names <local "
		              "peer, function's peer>)");
	}
	template <class Q, class T, class Tag>
	auto all(const placed<Q, T> &v, void *, Tag tag) const {
		using Out = std::decay_t<std::invoke_result_t<Tag &, const std::string &, T &&>>;
		std::vector<Future<Out>> each;
		for (const auto &a : rt_->connected(peer_name<Q>()))
			each.push_back(rt_->request(a, v.index(), false, "").then([a, tag](const std::string &b) mutable {
				return tag(a, decode<T>(b));
			}));
		return collect(each);
	}

	detail::peer_runtime *rt_;
};

} // namespace turquoise::placement

#endif
