// turquoise/process/wrapper.hpp — own a process through an ordinary object.
//
// libprocess code usually hides a process behind a class that spawns it in its constructor,
// forwards its public methods with dispatch() and terminates and waits for it in its
// destructor. ProcessWrapper<P> is that pattern:
//
//   class Counter {                       // the public face
//   public:
//     Future<int> add(int n) { return process_.dispatch(&CounterProcess::add, n); }
//   private:
//     ProcessWrapper<CounterProcess> process_;
//   };
//
// Destruction: outside pool tasks, the destructor terminates the process, waits for it and
// deletes it. Inside a pool task (e.g. a wrapper owned by another process) it must not block:
// it terminates the process and hands it to the runtime, which deletes it once terminated.
#ifndef TURQUOISE_PROCESS_WRAPPER_HPP
#define TURQUOISE_PROCESS_WRAPPER_HPP

#include <turquoise/pool.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#include <memory>
#include <stdexcept>
#include <utility>

namespace turquoise {

template <class P>
class ProcessWrapper {
public:
	// Constructs P(args...) and spawns it; throws std::runtime_error if its id is taken.
	template <class... A>
	explicit ProcessWrapper(A &&...args) : process_(std::make_unique<P>(std::forward<A>(args)...)) {
		pid_ = spawn(process_.get());
		if (!pid_)
			throw std::runtime_error("ProcessWrapper: cannot spawn " + process_->self().id +
			                         ": id in use");
	}
	~ProcessWrapper();
	ProcessWrapper(const ProcessWrapper &) = delete;
	ProcessWrapper &operator=(const ProcessWrapper &) = delete;

	const PID<P> &pid() const { return pid_; }

	template <class M, class... A>
	auto dispatch(M method, A &&...args) const {
		return turquoise::dispatch(pid_, method, std::forward<A>(args)...);
	}
	template <class M, class... B>
	auto defer(M method, B &&...bound) const {
		return turquoise::defer(pid_, method, std::forward<B>(bound)...);
	}

	// The process object itself: touch it only in its own context (e.g. in a dispatch).
	P *get() const { return process_.get(); }

private:
	std::unique_ptr<P> process_;
	PID<P> pid_;
};

} // namespace turquoise

#include <turquoise/process/detail/wrapper.hpp>

#endif
