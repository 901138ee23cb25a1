// runtime.cpp — the runtime object, its scopes, the default runtime, and the one place where
// libturquoise reads the environment (see turquoise/runtime.hpp).
#include <turquoise/runtime.hpp>

#include <turquoise/guarded_lock.hpp>
#include <turquoise/process/process.hpp>

#include "remote/network.hpp"
#include "runtime_hooks.hpp"

#include <arpa/inet.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

namespace turquoise {
namespace {

std::atomic<runtime *> installed{nullptr};

// A whole number in [min, max], or std::invalid_argument saying which variable is wrong.
unsigned long long parse_number(const char *name, const char *text, unsigned long long min,
                                unsigned long long max, const char *also = "") {
	errno = 0;
	char *end = nullptr;
	unsigned long long v = std::strtoull(text, &end, 10);
	bool digits = text[0] >= '0' && text[0] <= '9'; // strtoull accepts "-1" and " 1"
	if (!digits || *end != '\0' || errno == ERANGE || v < min || v > max)
		throw std::invalid_argument(std::string("turquoise: ") + name + "=\"" + text +
		                            "\": expected a whole number from " + std::to_string(min) +
		                            " to " + std::to_string(max) + also);
	return v;
}

// The variable's value, or nullptr if it is unset or empty.
const char *variable(const char *name) {
	const char *v = std::getenv(name);
	return v && *v ? v : nullptr;
}

// A dotted IPv4 address, or std::invalid_argument naming the variable.
std::string parse_ip(const char *name, const char *text) {
	in_addr a{};
	if (inet_pton(AF_INET, text, &a) != 1)
		throw std::invalid_argument(std::string("turquoise: ") + name + "=\"" + text +
		                            "\": expected an IPv4 address (a.b.c.d)");
	return text;
}

} // namespace

runtime_options runtime_options::from_environment() { return from_environment(runtime_options{}); }

runtime_options runtime_options::from_environment(runtime_options o) {
	if (const char *v = variable("LIBPROCESS_NUM_WORKER_THREADS"))
		o.pool.workers = static_cast<unsigned>(parse_number("LIBPROCESS_NUM_WORKER_THREADS", v, 1, 1024));
	if (const char *v = variable("INGER_QUANTUM_US")) {
		if (std::strcmp(v, "off") == 0)
			o.pool.quantum = no_preemption;
		else
			o.pool.quantum = std::chrono::microseconds(
			    parse_number("INGER_QUANTUM_US", v, 1, 1000000000, ", or \"off\""));
	}
	if (const char *v = variable("INGER_FAIRNESS"))
		o.pool.fairness = static_cast<unsigned>(parse_number("INGER_FAIRNESS", v, 1, 1024));
	if (const char *v = variable("LIBPROCESS_IP"))
		o.network.ip = parse_ip("LIBPROCESS_IP", v);
	if (const char *v = variable("LIBPROCESS_PORT"))
		o.network.port = static_cast<std::uint16_t>(parse_number("LIBPROCESS_PORT", v, 0, 65535));
	if (const char *v = variable("LIBPROCESS_ADVERTISE_IP"))
		o.network.advertise_ip = parse_ip("LIBPROCESS_ADVERTISE_IP", v);
	if (const char *v = variable("LIBPROCESS_ADVERTISE_PORT"))
		o.network.advertise_port =
		    static_cast<std::uint16_t>(parse_number("LIBPROCESS_ADVERTISE_PORT", v, 1, 65535));
	return o;
}

runtime::runtime(runtime_options options)
    : owned_(std::make_unique<pool>(options.pool)), workers_(owned_.get()), network_options_(options.network),
      network_(std::make_shared<detail::network>(*workers_, options.network)) {
	if (options.network.listen)
		if (Try<Address> a = listen(); a.isError())
			throw std::runtime_error("turquoise: " + a.error());
}

runtime::runtime(pool &workers, network_options network)
    : workers_(&workers), network_options_(network), network_(std::make_shared<detail::network>(workers, network)) {
	if (network.listen)
		if (Try<Address> a = listen(); a.isError())
			throw std::runtime_error("turquoise: " + a.error());
}

runtime::~runtime() {
	if (installed.load() == this) {
		std::fputs("turquoise: a runtime was destroyed while a runtime_scope installs it\n", stderr);
		std::abort();
	}
	network_->stop(); // before the pool: its connections are driven by the pool's reactor
}

Try<Address> runtime::listen() { return network_->listen(); }
Option<Address> runtime::address() const { return network_->address(); }
Option<Address> runtime::bound_address() const { return network_->bound(); }
network_stats runtime::network() const { return network_->stats(); }

runtime &runtime::current() {
	if (runtime *r = installed.load(std::memory_order_acquire))
		return *r;
	return standard();
}

// Never destroyed: pool workers may still run tasks during static destruction. Made inside
// a critical section (guarded_lock): a task preempted while creating it would block every
// other task of its worker that needs it.
runtime &runtime::standard() {
	static std::atomic<runtime *> made{nullptr};
	if (runtime *r = made.load(std::memory_order_acquire))
		return *r;
	static std::mutex creating;
	guarded_lock lock(creating);
	if (runtime *r = made.load(std::memory_order_acquire))
		return *r;
	auto *r = new runtime(runtime_options::from_environment()); // may throw: nothing cached
	made.store(r, std::memory_order_release);
	return *r;
}

runtime_scope::runtime_scope(runtime &r) : runtime_(&r) { install(); }

runtime_scope::runtime_scope(runtime_options options)
    : owned_(std::make_unique<runtime>(options)), runtime_(owned_.get()) {
	install();
}

runtime_scope::runtime_scope(pool &workers)
    : owned_(std::make_unique<runtime>(workers)), runtime_(owned_.get()) {
	install();
}

void runtime_scope::install() {
	if (pool::current() != nullptr)
		throw std::logic_error("turquoise: runtime_scope inside a pool task");
	previous_ = installed.exchange(runtime_, std::memory_order_acq_rel);
	detail::clock_use(&runtime_->workers());
}

runtime_scope::~runtime_scope() {
	ProcessManager::terminate_all();
	installed.store(previous_, std::memory_order_release);
	detail::clock_use(previous_ ? &previous_->workers() : nullptr);
}

} // namespace turquoise
