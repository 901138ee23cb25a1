// turquoise/process/detail/wrapper.hpp — internal: ProcessWrapper's destructor
// (process/wrapper.hpp, which includes this file at its end) and the runtime call it makes.
#ifndef TURQUOISE_PROCESS_DETAIL_WRAPPER_HPP
#define TURQUOISE_PROCESS_DETAIL_WRAPPER_HPP

#include <turquoise/pool.hpp>
#include <turquoise/process/process.hpp>
#include <turquoise/process/wrapper.hpp>

namespace turquoise {

namespace abi { // see detail/small_alloc.hpp
// Let the runtime delete `process` after it terminated. False if it has terminated already
// (or was never spawned): the caller still owns it.
bool manage_after_termination(const UPID &pid, ProcessBase *process);
} // namespace abi

template <class P>
inline ProcessWrapper<P>::~ProcessWrapper() {
	terminate(pid_);
	if (pool::current() != nullptr) {
		if (abi::manage_after_termination(pid_, process_.get()))
			(void)process_.release();
		return; // not terminated yet, now the runtime's; or terminated: deleted below
	}
	wait(pid_);
}

} // namespace turquoise

#endif
