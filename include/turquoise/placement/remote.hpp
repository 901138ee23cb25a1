// turquoise/placement/remote.hpp — a program started as one of its peers over the remote layer
// (remote processes, process/network.hpp): run<Peer>(listen(port)) or
// run<Peer>(connect_to<Q>("ip:port")), the peer naming its module (instance.hpp); or with the
// module named: run<Peer, Module>(...).
//
//   auto registry = run<Registry>(listen(5050));                 // "placement@127.0.0.1:5050"
//   auto node = run<Node>(connect_to<Registry>("127.0.0.1:5050"));
//
// Each instance is one process (id "placement") of a runtime of its own listening on
// 127.0.0.1 (listen(port, ip) to choose; port 0 picks a free one; the other runtime options
// come from the environment, LIBPROCESS_ADVERTISE_* included); its address is "placement@ip:port". The placement messages are
// named placement.* (libprocess peers drop them). A peer's death is the remote layer's
// exited(): its connection ends, its remote events fail, it leaves the multiple views.
// run(connect_to) returns once connected and every tie's handshake is done, or throws
// std::runtime_error with the reason (refused, unreachable, wrong peer type, timeout).
#ifndef TURQUOISE_PLACEMENT_REMOTE_HPP
#define TURQUOISE_PLACEMENT_REMOTE_HPP

#include <turquoise/placement/instance.hpp>
#include <turquoise/runtime.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace turquoise::placement {

// An endpoint on the current runtime (which must listen: its UPIDs carry its address).
std::unique_ptr<endpoint> remote_endpoint(const std::string &id = "placement");

// "ip:port" -> "placement@ip:port"; a full UPID is kept.
std::string placement_address(const std::string &address);

struct listen_on {
	std::uint16_t port = 0;
	std::string ip = "127.0.0.1";
};
inline listen_on listen(std::uint16_t port, std::string ip = "127.0.0.1") { return {port, std::move(ip)}; }

template <class Q>
struct connect_to_t {
	std::string address;
	std::uint16_t port = 0; // our own port (0: any)
};
template <class Q>
connect_to_t<Q> connect_to(std::string address) {
	return {std::move(address)};
}

} // namespace turquoise::placement

namespace turquoise::abi {
// A runtime of the instance's own, listening (std::runtime_error if it cannot bind). (An
// out-of-line entry point of the templates below: see detail/peer_runtime.hpp.)
std::shared_ptr<void> placement_listening_runtime(const std::string &ip, std::uint16_t port);
} // namespace turquoise::abi

namespace turquoise::placement {

template <class Peer, class Module = module_of<Peer>, class... Args>
std::unique_ptr<instance<Peer, Module>> run(listen_on l, Args &&...args) {
	auto rt = abi::placement_listening_runtime(l.ip, l.port);
	auto i = std::make_unique<instance<Peer, Module>>(remote_endpoint(), std::forward<Args>(args)...);
	i->keep(std::move(rt));
	return i;
}

template <class Peer, class Module = module_of<Peer>, class Q, class... Args>
std::unique_ptr<instance<Peer, Module>> run(connect_to_t<Q> c, Args &&...args) {
	auto i = run<Peer, Module>(listen(c.port), std::forward<Args>(args)...);
	auto f = i->template connect<Q>(placement_address(c.address));
	if (!f.await(std::chrono::seconds(10)))
		throw std::runtime_error("placement: no answer from " + peer_name<Q>() + " at " + c.address + " in 10 s");
	if (!f.isReady())
		throw std::runtime_error(f.isFailed() ? f.failure() : "placement: connect discarded");
	return i;
}

} // namespace turquoise::placement

#endif
