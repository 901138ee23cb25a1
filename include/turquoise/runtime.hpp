// turquoise/runtime.hpp — the runtime: the one pool (workers, timers, reactor) that runs
// processes, fires the Clock's timers and drives io/subprocess; built from runtime_options.
//
//   int main() {
//     turquoise::runtime rt(turquoise::runtime_options::from_environment());
//     turquoise::runtime_scope scope(rt);  // processes, Clock timers, io: all on rt's pool
//     ...
//   }                                      // live processes terminated and waited for
//
// Which runtime: the one installed by the innermost live runtime_scope, else the default
// runtime: created on first use (a spawn, a dispatch, a Clock timer, io::read...) from
// runtime_options::from_environment() and never destroyed. A program that never creates a
// runtime gets the default one: one worker per hardware thread, a 1 ms quantum.
//
// Environment variables, all read here (runtime_options::from_environment()), each with its
// API equivalent:
//   LIBPROCESS_NUM_WORKER_THREADS=N  (1..1024)         runtime_options::pool.workers
//   INGER_QUANTUM_US=N (1..10^9) or "off"              runtime_options::pool.quantum
//                                                       (off: turquoise::no_preemption)
//   INGER_FAIRNESS=N (1..1024)                          runtime_options::pool.fairness
//   LIBPROCESS_IP=a.b.c.d                               runtime_options::network.ip
//   LIBPROCESS_PORT=N (0..65535)                        runtime_options::network.port
//   LIBPROCESS_ADVERTISE_IP=a.b.c.d                     runtime_options::network.advertise_ip
//   LIBPROCESS_ADVERTISE_PORT=N (1..65535)              runtime_options::network.advertise_port
// An invalid value throws std::invalid_argument naming the variable, the value and what is
// expected (from the first use of the default runtime, if that is where it is read). An empty
// variable counts as unset. libinger's INGER_STACK_SIZE and INGER_SIGNAL are read by
// libinger itself (linger_set_stack_size, linger_set_signal), libgotcha's INGER_LIBSETS by
// libgotcha.
#ifndef TURQUOISE_RUNTIME_HPP
#define TURQUOISE_RUNTIME_HPP

#include <turquoise/async/option.hpp>
#include <turquoise/async/try.hpp>
#include <turquoise/pool.hpp>
#include <turquoise/process/network.hpp>
#include <turquoise/process/pid.hpp>

#include <memory>

namespace turquoise {

namespace detail {
struct network; // the runtime's TCP side (libturquoise/remote)
}

struct runtime_options {
	pool_options pool;
	network_options network{}; // process/network.hpp

	// `defaults` with the environment variables above applied; std::invalid_argument if one
	// is invalid.
	static runtime_options from_environment(runtime_options defaults);
	static runtime_options from_environment(); // from runtime_options{}
};

class runtime {
public:
	explicit runtime(runtime_options options = {});
	// A runtime over a pool the caller owns (it must outlive the runtime and its scopes).
	explicit runtime(pool &workers, network_options network = {});
	// Destroying a runtime that a live scope still installs is a bug: it aborts.
	~runtime();
	runtime(const runtime &) = delete;
	runtime &operator=(const runtime &) = delete;

	pool &workers() const { return *workers_; }

	// Listen on network.ip:network.port now, if not yet (process/network.hpp). The advertised
	// address (what UPIDs of this runtime's processes carry), or an Error naming the address
	// that could not be bound. Idempotent: later calls return the same address.
	Try<Address> listen();
	// The advertised address once listening; None before.
	Option<Address> address() const;
	// The address actually bound (differs from address() when advertising another); None
	// before listening.
	Option<Address> bound_address() const;
	network_stats network() const;
	const network_options &network_settings() const { return network_options_; }

	// Internal: the network side (made with the runtime; it binds on listen()).
	detail::network &network_state() const { return *network_; }

	// The runtime of the innermost live scope, else the default runtime.
	static runtime &current();
	// The default runtime (created now if needed; std::invalid_argument from the environment).
	static runtime &standard();

private:
	std::unique_ptr<pool> owned_;
	pool *workers_;
	network_options network_options_;
	std::shared_ptr<detail::network> network_; // stopped before the pool (outbound
	                                           // connections hold it weakly)
};

// Installs a runtime for its lifetime (scopes nest, innermost wins; create and destroy them
// on one thread, outside pool tasks). On exit it terminates every live process and waits for
// them, then reinstalls the runtime that was current before.
class runtime_scope {
public:
	explicit runtime_scope(runtime &r);
	// Convenience: a scope owning a runtime made from `options`, or over `workers`.
	explicit runtime_scope(runtime_options options);
	explicit runtime_scope(pool &workers);
	~runtime_scope();
	runtime_scope(const runtime_scope &) = delete;
	runtime_scope &operator=(const runtime_scope &) = delete;

	runtime &get() const { return *runtime_; }

private:
	void install();
	std::unique_ptr<runtime> owned_;
	runtime *runtime_;
	runtime *previous_ = nullptr;
};

} // namespace turquoise

#endif
