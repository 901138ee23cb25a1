// loopback.cpp — loopback_network: placement endpoints inside one OS process, one delivery thread.
#include <turquoise/placement/transport.hpp>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace turquoise::placement {

struct loopback_network::impl {
	struct item {
		std::string from, to, name, body;
		bool exited = false; // an exit notice for `to` about `from`
	};
	struct box {
		endpoint::handlers handlers;
		bool started = false;
		std::set<std::string> linked_by; // endpoints to tell when this one goes away
	};

	std::mutex mutex;
	std::condition_variable wake, idle;
	std::deque<item> queue;
	std::map<std::string, box> boxes; // live endpoints
	bool quitting = false, busy = false;
	std::string delivering_to; // the endpoint whose handler runs now (while busy)
	std::thread deliverer;

	void run() {
		std::unique_lock<std::mutex> l(mutex);
		for (;;) {
			wake.wait(l, [&] { return quitting || !queue.empty(); });
			if (quitting)
				return;
			item it = std::move(queue.front());
			queue.pop_front();
			auto b = boxes.find(it.to);
			if (b == boxes.end() || !b->second.started)
				continue; // to a closed endpoint: lost, as over a network
			endpoint::handlers h = b->second.handlers;
			busy = true;
			delivering_to = it.to;
			l.unlock();
			if (it.exited)
				h.exited(it.from);
			else
				h.message(it.from, it.name, std::move(it.body));
			l.lock();
			busy = false;
			delivering_to.clear();
			idle.notify_all();
			if (queue.empty())
				idle.notify_all();
		}
	}

	void post(item it) {
		std::lock_guard<std::mutex> g(mutex);
		queue.push_back(std::move(it));
		wake.notify_one();
	}

	// `address` is gone: every endpoint linked to it hears so. Returns once no handler of it
	// runs (unless called from that handler).
	void close(const std::string &address) {
		std::unique_lock<std::mutex> g(mutex);
		if (std::this_thread::get_id() != deliverer.get_id())
			idle.wait(g, [&] { return !busy || delivering_to != address; });
		auto b = boxes.find(address);
		if (b == boxes.end())
			return;
		for (const auto &watcher : b->second.linked_by)
			queue.push_back(item{address, watcher, "", "", true});
		boxes.erase(b);
		wake.notify_one();
	}
};

namespace {
class loopback_endpoint final : public endpoint {
public:
	loopback_endpoint(std::shared_ptr<loopback_network::impl> net, std::string address)
	    : net_(std::move(net)), address_(std::move(address)) {}
	~loopback_endpoint() override { stop(); }

	std::string address() const override { return address_; }
	void start(handlers h) override {
		std::lock_guard<std::mutex> g(net_->mutex);
		auto &b = net_->boxes[address_];
		b.handlers = std::move(h);
		b.started = true;
	}
	void send(const std::string &to, const std::string &name, std::string body) override {
		net_->post({address_, to, name, std::move(body)});
	}
	void link(const std::string &to) override {
		std::lock_guard<std::mutex> g(net_->mutex);
		auto b = net_->boxes.find(to);
		if (b == net_->boxes.end()) {
			net_->queue.push_back({to, address_, "", "", true}); // not there: exited at once
			net_->wake.notify_one();
		} else {
			b->second.linked_by.insert(address_);
		}
	}
	void stop() override {
		if (!stopped_) {
			stopped_ = true;
			net_->close(address_);
		}
	}

private:
	std::shared_ptr<loopback_network::impl> net_;
	std::string address_;
	bool stopped_ = false;
};
} // namespace

loopback_network::loopback_network() : impl_(std::make_shared<impl>()) {
	impl_->deliverer = std::thread([i = impl_.get()] { i->run(); });
}

loopback_network::~loopback_network() {
	{
		std::lock_guard<std::mutex> g(impl_->mutex);
		impl_->quitting = true;
		impl_->wake.notify_all();
	}
	impl_->deliverer.join();
}

std::unique_ptr<endpoint> loopback_network::open(const std::string &address) {
	std::lock_guard<std::mutex> g(impl_->mutex);
	if (impl_->boxes.count(address))
		throw std::invalid_argument("loopback_network: address " + address + " is in use");
	impl_->boxes[address];
	return std::make_unique<loopback_endpoint>(impl_, address);
}

void loopback_network::inject(const std::string &from, const std::string &to, const std::string &name,
                              std::string body) {
	impl_->post({from, to, name, std::move(body)});
}

bool loopback_network::settle(int timeout_ms) {
	std::unique_lock<std::mutex> l(impl_->mutex);
	return impl_->idle.wait_for(l, std::chrono::milliseconds(timeout_ms),
	                            [&] { return impl_->queue.empty() && !impl_->busy; });
}

} // namespace turquoise::placement
