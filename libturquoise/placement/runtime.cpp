// runtime.cpp — the placement entry points the headers' templates call (turquoise::abi, see
// detail/peer_runtime.hpp): placement_runtime forwards to runtime_core; a hosted value's
// defaults; the module being built; type names.
#include "state.hpp"

#include <cxxabi.h>

#include <cstdlib>

namespace turquoise::abi {

using placement::detail::runtime_core;

placement_runtime::placement_runtime(std::string peer, std::vector<placement::tie_info> ties,
                                     std::type_index peer_type, std::string module,
                                     std::unique_ptr<placement::endpoint> ep)
    : peer_(peer), peer_type_(peer_type),
      core_(std::make_unique<runtime_core>(std::move(peer), std::move(ties), peer_type, std::move(module), std::move(ep))) {}

placement_runtime::~placement_runtime() = default; // (core_'s destructor stops it)

std::string placement_runtime::address() const { return core_->address(); }
std::size_t placement_runtime::add_value(placement_value_slot slot) { return core_->add_value(std::move(slot)); }
void placement_runtime::host(std::size_t index, std::unique_ptr<placement_hosted> h) { core_->host(index, std::move(h)); }
void placement_runtime::start() { core_->start(); }
Future<Nothing> placement_runtime::connect(const std::string &peer, const std::string &address) {
	return core_->connect(peer, address);
}
std::vector<std::string> placement_runtime::connected(const std::string &peer) const { return core_->connected(peer); }
void placement_runtime::subscribe(std::size_t index, std::shared_ptr<placement_subscriber> s) {
	core_->subscribe(index, std::move(s));
}
Future<std::string> placement_runtime::request(const std::string &address, std::size_t index, bool call,
                                               std::string args) {
	return core_->request(address, index, call, std::move(args));
}
void placement_runtime::stop() { core_->stop(); }
placement::runtime_stats placement_runtime::stats() const { return core_->stats(); }
void placement_runtime::report(const std::string &error) { core_->report(error); }

placement_runtime *&placement_runtime::building() {
	static thread_local placement_runtime *rt = nullptr;
	return rt;
}

placement_hosted::~placement_hosted() = default;
std::function<void()> placement_hosted::subscribe(std::function<void(std::string)>,
                                                  std::function<void(bool, std::string)>) {
	return {};
}
Future<std::string> placement_hosted::get() { return Failure("this value cannot be read remotely"); }
Future<std::string> placement_hosted::call(std::string_view) { return Failure("this value is not a function"); }

std::string placement_demangle(const char *mangled) {
	int status = 0;
	char *s = ::abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
	std::string out = status == 0 && s ? s : mangled;
	std::free(s);
	return out;
}

} // namespace turquoise::abi
