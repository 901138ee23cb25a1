// turquoise/placement/detail/hosted.hpp — how other peers reach a value hosted here, by kind:
// events and signals are subscribed to, functions are called, other values are read.
#ifndef TURQUOISE_PLACEMENT_DETAIL_HOSTED_HPP
#define TURQUOISE_PLACEMENT_DETAIL_HOSTED_HPP

#include <turquoise/placement/codec.hpp>
#include <turquoise/placement/signal.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <tuple>

namespace turquoise::placement::detail {

template <class T>
concept has_codec = requires(std::string &out, const T &v, std::string_view &in) {
	codec<T>::encode(out, v);
	{ codec<T>::decode(in) } -> std::convertible_to<T>;
};

// Send the end of `e` to `end` unless stopped first; returns the stop (which runs unobserve).
template <class E, class U>
std::function<void()> follow_end(const E &e, std::function<void(bool, std::string)> end, U unobserve) {
	auto live = std::make_shared<std::atomic<bool>>(true);
	e.ended().onAny([end = std::move(end), live](const Future<Nothing> &f) {
		if (live->load())
			end(f.isFailed(), f.isFailed() ? f.failure() : std::string());
	});
	return [live, unobserve] {
		live->store(false);
		unobserve();
	};
}

template <class X>
class hosted_event final : public hosted {
public:
	explicit hosted_event(Event<X> e) : event_(std::move(e)) {}
	std::function<void()> subscribe(std::function<void(std::string)> occurrence,
	                                std::function<void(bool, std::string)> end) override {
		auto id = event_.observe([occurrence](const X &v) { occurrence(encode(v)); });
		return follow_end(event_, std::move(end), [e = event_, id] { e.unobserve(id); });
	}

private:
	Event<X> event_;
};

// A signal's subscribers get (version, value): its value now, then each change.
template <class X>
class hosted_signal final : public hosted {
public:
	explicit hosted_signal(Signal<X> s) : signal_(std::move(s)) {}
	std::function<void()> subscribe(std::function<void(std::string)> occurrence,
	                                std::function<void(bool, std::string)> end) override {
		auto changes = signal_.versioned_changes();
		// Observe first, then send the value now: a change in between arrives twice at
		// worst, and the subscriber ignores versions it has seen.
		auto id = changes.observe([occurrence](const std::pair<std::uint64_t, X> &c) { occurrence(encode(c)); });
		occurrence(encode(signal_.versioned_now()));
		return follow_end(changes, std::move(end), [changes, id] { changes.unobserve(id); });
	}
	Future<std::string> get() override { return encode(signal_.now()); }

private:
	Signal<X> signal_;
};

template <class R, class... A>
class hosted_function final : public hosted {
public:
	explicit hosted_function(std::function<R(A...)> f) : f_(std::move(f)) {}
	Future<std::string> call(std::string_view args) override {
		auto a = decode<std::tuple<std::decay_t<A>...>>(args);
		if (!f_)
			return Failure("placement: the placed function is empty");
		try {
			if constexpr (std::is_void_v<R>) {
				std::apply(f_, std::move(a));
				return encode(Nothing());
			} else {
				return encode(std::apply(f_, std::move(a)));
			}
		} catch (...) {
			return Failure(current_message());
		}
	}

private:
	std::function<R(A...)> f_;
};

template <class T>
class hosted_value final : public hosted {
public:
	explicit hosted_value(const T &v) : value_(&v) {}
	Future<std::string> get() override { return encode(*value_); }

private:
	const T *value_;
};

template <class T>
struct hosting {
	static std::unique_ptr<hosted> make(T &v) {
		if constexpr (has_codec<T>)
			return std::make_unique<hosted_value<T>>(v);
		else
			return std::make_unique<hosted>(); // not reachable from other peers
	}
};
template <class X>
struct hosting<Event<X>> {
	static std::unique_ptr<hosted> make(Event<X> &e) { return std::make_unique<hosted_event<X>>(e); }
};
template <class X>
struct hosting<Signal<X>> {
	static std::unique_ptr<hosted> make(Signal<X> &s) { return std::make_unique<hosted_signal<X>>(s); }
};
template <class R, class... A>
struct hosting<std::function<R(A...)>> {
	static std::unique_ptr<hosted> make(std::function<R(A...)> &f) {
		return std::make_unique<hosted_function<R, A...>>(f);
	}
};

template <class T>
std::unique_ptr<hosted> make_hosted(T &value) {
	return hosting<T>::make(value);
}

} // namespace turquoise::placement::detail

#endif
