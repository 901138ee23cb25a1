// remote_endpoint.cpp — the placement endpoint on remote processes: one process installs a
// handler per placement message, sends with the remote layer, links to peers and hears their
// exit (exited()).
#include <turquoise/placement/remote.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/message.hpp>
#include <turquoise/process/process.hpp>

#include <stdexcept>

namespace turquoise::placement {

std::string placement_address(const std::string &address) {
	return address.find('@') == std::string::npos ? "placement@" + address : address;
}

namespace {

class placement_process final : public Process<placement_process> {
public:
	explicit placement_process(const std::string &id) : ProcessBase(id) {}
	endpoint::handlers handlers; // set before spawn, read in the process's context only

	void link_to(const UPID &to) { link(to); }

protected:
	void initialize() override {
		for (const auto &name : handlers.names)
			install(name, [this, name](const UPID &from, std::string &&body) {
				handlers.message(from.str(), name, std::move(body));
			});
	}
	void exited(const UPID &pid) override {
		if (handlers.exited)
			handlers.exited(pid.str());
	}
};

class remote_endpoint_impl final : public endpoint {
public:
	explicit remote_endpoint_impl(const std::string &id) : process_(std::make_unique<placement_process>(id)) {}
	~remote_endpoint_impl() override { stop(); }

	std::string address() const override { return process_->self().str(); }
	void start(handlers h) override {
		process_->handlers = std::move(h);
		if (!spawn(*process_))
			throw std::runtime_error("placement: cannot spawn process " + process_->self().id +
			                         " (a live process has that id)");
		spawned_ = true;
	}
	void send(const std::string &to, const std::string &name, std::string body) override {
		UPID pid = UPID::parse(to);
		if (!pid)
			return; // not an address: nothing to send to (the runtime reported it)
		post(process_->self(), pid, name, std::move(body));
	}
	void link(const std::string &to) override {
		UPID pid = UPID::parse(to);
		placement_process *p = process_.get();
		if (pid)
			dispatch(p->self(), [p, pid] { p->link_to(pid); });
	}
	void stop() override {
		if (!spawned_ || stopped_)
			return;
		stopped_ = true;
		terminate(*process_);
		wait(*process_); // no handler runs after this (not from a pool task: see instance)
	}

private:
	std::unique_ptr<placement_process> process_;
	bool spawned_ = false, stopped_ = false;
};

} // namespace

std::unique_ptr<endpoint> remote_endpoint(const std::string &id) {
	return std::make_unique<remote_endpoint_impl>(id);
}

} // namespace turquoise::placement

namespace turquoise::abi {
std::shared_ptr<void> placement_listening_runtime(const std::string &ip, std::uint16_t port) {
	runtime_options options = runtime_options::from_environment();
	options.network.ip = ip;
	options.network.port = port;
	auto scope = std::make_shared<runtime_scope>(options);
	Try<Address> a = scope->get().listen();
	if (a.isError())
		throw std::runtime_error("placement: cannot listen on " + ip + ":" + std::to_string(port) + ": " + a.error());
	return scope;
}
} // namespace turquoise::abi
