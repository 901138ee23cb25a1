// turquoise/placement/detail/uses.hpp — the local side of remote events and signals: subscribers
// that turn a remote peer's occurrences into a local Event or Signal (here.hpp's as_local*).
#ifndef TURQUOISE_PLACEMENT_DETAIL_USES_HPP
#define TURQUOISE_PLACEMENT_DETAIL_USES_HPP

#include <turquoise/placement/codec.hpp>
#include <turquoise/placement/detail/peer_runtime.hpp>
#include <turquoise/placement/signal.hpp>

#include <map>
#include <mutex>

namespace turquoise::placement::detail {

// Decode a payload from `address`; on malformed bytes, report and return nothing.
template <class X>
std::optional<X> decode_from(peer_runtime &rt, const std::string &address, std::string_view payload) {
	try {
		return decode<X>(payload);
	} catch (const decode_error &e) {
		rt.report(std::string(e.what()) + " from " + address + " (occurrence dropped)");
		return std::nullopt;
	}
}

// One remote peer's event (a single or optional tie): the first connection only. It ends as
// the remote event ends, and fails when that peer disconnects.
template <class X>
class event_from_one final : public subscriber {
public:
	explicit event_from_one(peer_runtime &rt) : rt_(rt) {}
	Event<X> out;
	bool connected(const std::string &) override { return !std::exchange(bound_, true); }
	void occurrence(const std::string &address, std::string_view payload) override {
		if (auto v = decode_from<X>(rt_, address, payload))
			out.fire(std::move(*v));
	}
	void ended(const std::string &, bool failed, const std::string &message) override {
		failed ? out.fail(message) : out.end();
	}
	void disconnected(const std::string &, const std::string &reason) override { out.fail("placement: " + reason); }

private:
	peer_runtime &rt_;
	bool bound_ = false; // (under the runtime's lock)
};

// Every remote peer's event (a multiple tie), now and later, in one local event: Tag(address,
// value). A peer that ends or disconnects just stops contributing.
template <class X, class Out, class Tag>
class event_from_all final : public subscriber {
public:
	event_from_all(peer_runtime &rt, Tag tag) : rt_(rt), tag_(std::move(tag)) {}
	Event<Out> out;
	bool connected(const std::string &) override { return true; }
	void occurrence(const std::string &address, std::string_view payload) override {
		if (auto v = decode_from<X>(rt_, address, payload))
			out.fire(tag_(address, std::move(*v)));
	}
	void ended(const std::string &, bool, const std::string &) override {}
	void disconnected(const std::string &, const std::string &) override {}

private:
	peer_runtime &rt_;
	Tag tag_;
};

// One remote peer's signal: ready once its value arrived; follows its changes (newer versions
// only); a disconnection fails its changed() event and keeps the last value.
template <class X>
class signal_from_one final : public subscriber {
public:
	explicit signal_from_one(peer_runtime &rt) : rt_(rt) {}
	Promise<Signal<X>> ready;
	bool connected(const std::string &) override { return !std::exchange(bound_, true); }
	void occurrence(const std::string &address, std::string_view payload) override {
		auto v = decode_from<std::pair<std::uint64_t, X>>(rt_, address, payload);
		if (!v)
			return;
		std::lock_guard<std::mutex> g(mutex_);
		if (!signal_) {
			signal_ = Signal<X>::derived(std::move(v->second));
			version_ = v->first;
			ready.set(*signal_);
		} else if (v->first > version_) {
			version_ = v->first;
			signal_->update(std::move(v->second));
		}
	}
	void ended(const std::string &address, bool failed, const std::string &message) override {
		finish(failed ? message : "placement: the signal at " + address + " ended");
	}
	void disconnected(const std::string &, const std::string &reason) override { finish("placement: " + reason); }

private:
	void finish(const std::string &why) {
		std::lock_guard<std::mutex> g(mutex_);
		if (signal_)
			signal_->versioned_changes().fail(why);
		else
			ready.fail(why);
	}
	peer_runtime &rt_;
	bool bound_ = false;
	std::mutex mutex_;
	std::optional<Signal<X>> signal_;
	std::uint64_t version_ = 0;
};

// Every remote peer's signal as one map signal: Key{address} -> value; a peer that ends or
// disconnects leaves the map.
template <class X, class Key>
class signal_from_all final : public subscriber {
public:
	explicit signal_from_all(peer_runtime &rt) : out(Signal<std::map<Key, X>>::derived({})), rt_(rt) {}
	Signal<std::map<Key, X>> out;
	bool connected(const std::string &) override { return true; }
	void occurrence(const std::string &address, std::string_view payload) override {
		auto v = decode_from<std::pair<std::uint64_t, X>>(rt_, address, payload);
		if (!v)
			return;
		std::lock_guard<std::mutex> g(mutex_);
		auto &seen = seen_[address]; // version + 1 (0: nothing yet)
		if (v->first + 1 <= seen)
			return;
		seen = v->first + 1;
		values_[Key{address}] = std::move(v->second);
		out.update(values_);
	}
	void ended(const std::string &address, bool, const std::string &) override { drop(address); }
	void disconnected(const std::string &address, const std::string &) override { drop(address); }

private:
	void drop(const std::string &address) {
		std::lock_guard<std::mutex> g(mutex_);
		seen_.erase(address);
		if (values_.erase(Key{address}))
			out.update(values_);
	}
	peer_runtime &rt_;
	std::mutex mutex_;
	std::map<std::string, std::uint64_t> seen_;
	std::map<Key, X> values_;
};

} // namespace turquoise::placement::detail

#endif
