// turquoise/placement/instance.hpp — a program started as one of its peers: instance<Peer,
// Module> builds the module as Peer on an endpoint, and connects it to tied peers.
//
// The module may be left out when the peer names it (`using module = Chat;` in the peer; a
// declaration `struct Chat;` before the peers is enough): instance<Node>, run<Node>(...).
// Peers shared by several modules are used with the module named: instance<Node, Chat>.
//
//   loopback_network net;                                     // or the remote layer: run.hpp
//   instance<Registry, Chat> registry(net.open("registry"));
//   instance<Node, Chat> node(net.open("node-1"));
//   node.connect<Registry>("registry").get();                 // the handshake checks the ties
//   node.context().local(node.module().message).fire("hi");
//
// connect<Q>() is a compile error unless Peer has a tie to Q; at run time the handshake checks
// both peers' types, the program (the module's type, and each placed value's peer and type, in
// order: two builds that differ in one placed type refuse each other, naming it), and each
// side's multiplicity (a second Q on a single or optional tie is refused, with the reason in
// the failed future and on the refusing side's stderr). After a disconnection the peer may
// connect again. Refused input (unknown values, malformed payloads, messages from peers not
// connected) is counted in stats() and reported on stderr (INGER_PLACEMENT_QUIET=1 silences).
// Destroying the instance leaves every peer (they see it exit).
#ifndef TURQUOISE_PLACEMENT_INSTANCE_HPP
#define TURQUOISE_PLACEMENT_INSTANCE_HPP

#include <turquoise/placement/here.hpp>

#include <memory>
#include <typeindex>
#include <utility>

namespace turquoise::placement {

// The module a peer names (`using module = M;`), else missing_module<Peer>.
template <class Peer>
struct missing_module {};
namespace detail {
template <class Peer>
struct module_named_by {
	using type = missing_module<Peer>;
};
template <class Peer>
	requires requires { typename Peer::module; }
struct module_named_by<Peer> {
	using type = typename Peer::module;
};
template <class M>
constexpr bool is_missing_module = false;
template <class P>
constexpr bool is_missing_module<missing_module<P>> = true;
} // namespace detail
template <class Peer>
using module_of = typename detail::module_named_by<Peer>::type;

template <class Peer, class Module = module_of<Peer>>
class instance {
	static_assert(is_peer<Peer>, "placement error: instance<P, M>: P is not a peer");
	static_assert(!detail::is_missing_module<Module>,
	              "placement error: the peer names no module: declare `using module = YourModule;` in "
	              "the peer, or name the module: run<Peer, YourModule>(...) / instance<Peer, YourModule>");

public:
	template <class... Args>
	explicit instance(std::unique_ptr<endpoint> ep, Args &&...args)
	    : rt_(std::make_unique<detail::peer_runtime>(peer_name<Peer>(), ties_of<Peer>(), std::type_index(typeid(Peer)),
	                                                 detail::demangle(typeid(Module).name()), std::move(ep))) {
		auto &building = detail::peer_runtime::building();
		auto *outer = std::exchange(building, rt_.get());
		try {
			module_ = std::make_unique<Module>(std::forward<Args>(args)...);
		} catch (...) {
			building = outer;
			throw;
		}
		building = outer;
		rt_->start();
	}
	~instance() {
		rt_->stop();  // no message is delivered after this
		module_.reset();
	}
	instance(const instance &) = delete;
	instance &operator=(const instance &) = delete;

	Module &module() { return *module_; }
	here<Peer> context() const { return here<Peer>(*rt_); }
	std::string address() const { return rt_->address(); }
	runtime_stats stats() const { return rt_->stats(); }

	template <class Q>
	Future<Nothing> connect(const std::string &address) {
		static_assert(check::has_tie_to<Peer, Q>,
		              "placement error: connect<Q>() needs a tie from the local peer to Q (the note "
		              "names <local peer, Q>)");
		return rt_->connect(peer_name<Q>(), address);
	}

	// Leave every peer now (as destruction does).
	void stop() { rt_->stop(); }

	// Keep `owner` (e.g. the runtime the endpoint lives in) alive until after the instance.
	void keep(std::shared_ptr<void> owner) { owner_ = std::move(owner); }

private:
	std::shared_ptr<void> owner_; // (first: destroyed last)
	std::unique_ptr<detail::peer_runtime> rt_;
	std::unique_ptr<Module> module_;
};

} // namespace turquoise::placement

#endif
