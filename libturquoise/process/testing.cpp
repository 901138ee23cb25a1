// testing.cpp — the dispatch and message expectations of turquoise/process/testing.hpp, as
// one Filter.
#include <turquoise/process/testing.hpp>

#include <turquoise/guarded_lock.hpp>

#include <mutex>
#include <vector>

namespace turquoise::testing {
namespace internal {

struct expectation {
	enum class kind {
		observe_once, // FUTURE_DISPATCH
		drop_once,    // DROP_DISPATCH
		drop_all,     // DROP_DISPATCHES
		watch,        // EXPECT_NO_FUTURE_DISPATCHES (does not consume)
	};
	UPID pid;
	MethodId method;
	kind what;
	bool active = true;            // under the filter's mutex
	std::atomic<std::uint64_t> hits{0};
	Promise<Nothing> promise;      // the *_once kinds

	// Message expectations (FUTURE_MESSAGE ...): name, sender, receiver.
	bool for_message = false;
	std::string name;
	UPID from, to;
	Promise<Message> message;      // the *_once kinds

	bool matches(const DispatchEvent &e) const {
		return active && !for_message && (pid.id.empty() || pid == e.pid) && method == e.method;
	}
	bool matches(const Message &m) const {
		return active && for_message && (name.empty() || name == m.name) && same(from, m.from) && same(to, m.to);
	}
	// An empty pattern matches any UPID; a placeholder address matches by id only.
	static bool same(const UPID &pattern, const UPID &pid) {
		if (pattern.id.empty())
			return true;
		if (pattern.id != pid.id)
			return false;
		return pattern.address.unspecified() || pattern.address == pid.address;
	}
};

namespace {

class testing_filter final : public Filter {
public:
	bool filter(const UPID &, const DispatchEvent &e) override { return consume(e, nullptr); }
	bool filter(const UPID &, const MessageEvent &e) override { return consume(e.message, &e.message); }

	template <class Event>
	bool consume(const Event &e, const Message *m) {
		std::shared_ptr<expectation> hit;
		{
			guarded_lock lock(mutex_);
			for (auto &x : list_) {
				if (!x->matches(e))
					continue;
				if (x->what == expectation::kind::watch) {
					x->hits.fetch_add(1);
				} else if (!hit) {
					hit = x;
				}
			}
			if (hit) {
				hit->hits.fetch_add(1);
				if (hit->what != expectation::kind::drop_all)
					hit->active = false;
				prune_locked();
			}
		}
		if (!hit)
			return false;
		if (hit->what == expectation::kind::observe_once || hit->what == expectation::kind::drop_once) {
			if (m)
				hit->message.set(*m);
			else
				hit->promise.set(Nothing());
		}
		return hit->what != expectation::kind::observe_once;
	}

	std::shared_ptr<expectation> add(const UPID &pid, MethodId method, expectation::kind what) {
		auto x = std::make_shared<expectation>();
		x->pid = pid;
		x->pid.reference.reset();
		x->method = method;
		x->what = what;
		return add(x);
	}

	std::shared_ptr<expectation> add(const std::string &name, const UPID &from, const UPID &to,
	                                 expectation::kind what) {
		auto x = std::make_shared<expectation>();
		x->for_message = true;
		x->name = name;
		x->from = from;
		x->from.reference.reset();
		x->to = to;
		x->to.reference.reset();
		x->what = what;
		return add(x);
	}

	std::shared_ptr<expectation> add(std::shared_ptr<expectation> x) {
		{
			guarded_lock lock(mutex_);
			list_.push_back(x);
		}
		// (Installed once: a callback of a FUTURE_DISPATCH future runs while the runtime
		// holds its filter lock, and may set the next expectation.)
		if (!installed_.exchange(true))
			turquoise::filter(this);
		return x;
	}

	void deactivate(const std::shared_ptr<expectation> &x) {
		guarded_lock lock(mutex_);
		x->active = false;
		prune_locked();
	}

	void clear() {
		turquoise::filter(nullptr); // waits for a filter() call in progress
		installed_ = false;
		std::vector<std::shared_ptr<expectation>> old;
		{
			guarded_lock lock(mutex_);
			old.swap(list_);
		}
	}

private:
	void prune_locked() {
		std::erase_if(list_, [](const std::shared_ptr<expectation> &x) { return !x->active; });
	}

	std::mutex mutex_;
	std::vector<std::shared_ptr<expectation>> list_;
	std::atomic<bool> installed_{false};
};

testing_filter &the_filter() {
	static testing_filter *f = new testing_filter; // never destroyed (workers may use it)
	return *f;
}

} // namespace
} // namespace internal

using internal::expectation;

std::uint64_t DispatchWatch::count() const { return e_->hits.load(); }
void DispatchWatch::cancel() { internal::the_filter().deactivate(e_); }

Future<Nothing> future_dispatch(const UPID &pid, MethodId method) {
	return internal::the_filter().add(pid, method, expectation::kind::observe_once)->promise.future();
}
Future<Nothing> drop_dispatch(const UPID &pid, MethodId method) {
	return internal::the_filter().add(pid, method, expectation::kind::drop_once)->promise.future();
}
DispatchWatch drop_dispatches(const UPID &pid, MethodId method) {
	return DispatchWatch(internal::the_filter().add(pid, method, expectation::kind::drop_all));
}
DispatchWatch expect_no_dispatches(const UPID &pid, MethodId method) {
	return DispatchWatch(internal::the_filter().add(pid, method, expectation::kind::watch));
}
void clear_dispatch_expectations() { internal::the_filter().clear(); }

Future<Message> future_message(const std::string &name, const UPID &from, const UPID &to) {
	return internal::the_filter().add(name, from, to, expectation::kind::observe_once)->message.future();
}
Future<Message> drop_message(const std::string &name, const UPID &from, const UPID &to) {
	return internal::the_filter().add(name, from, to, expectation::kind::drop_once)->message.future();
}
MessageWatch drop_messages(const std::string &name, const UPID &from, const UPID &to) {
	return MessageWatch(internal::the_filter().add(name, from, to, expectation::kind::drop_all));
}
void clear_message_expectations() { internal::the_filter().clear(); }

} // namespace turquoise::testing
