// errors.cpp — descriptions of error codes, for C (linger_strerror) and C++ (inger::category).
#include <inger/inger.hpp>

#include "schedule.hpp"
#include "testing.h"
#include "thread_state.hpp"

#include <string>

extern "C" const char *linger_strerror(int error) {
	switch (error) {
	case LINGER_OK: return "success";
	case LINGER_ENULLFN: return "launch: the function pointer is NULL";
	case LINGER_ENULLHANDLE: return "the handle pointer is NULL";
	case LINGER_ECOMPLETED: return "the preemptible function has already completed";
	case LINGER_ECANCELLED: return "the preemptible function was cancelled";
	case LINGER_EFOREIGN: return "not a live preemptible function of this thread";
	case LINGER_ERUNNING: return "the preemptible function is running (it is the caller or one of its callers)";
	case LINGER_ENOMEM: return "out of memory for a preemptible function's stack or record";
	case LINGER_ESIGNAL: return "called from a signal handler that interrupted libinger";
	case LINGER_ESTACKOVERFLOW: return "the preemptible function overflowed its stack and was terminated";
	case LINGER_ESYSTEM: return "the preemption timer or signal handler could not be set up";
	case LINGER_EABANDONED: return "the preemptible function was abandoned: it left its stack by longjmp";
	case LINGER_ECORRUPTED: return "the preemptible function's stack was overwritten from outside (a stack clash); it was discarded";
	default: return "unknown libinger error";
	}
}

namespace inger {
namespace {

class error_category final : public std::error_category {
public:
	const char *name() const noexcept override { return "inger"; }
	std::string message(int value) const override {
		switch (static_cast<errc>(value)) {
		case errc::not_complete: return "the preemptible function has not completed yet";
		case errc::not_live: return "the handle is empty (moved from, cancelled, or its result taken)";
		default: return linger_strerror(value);
		}
	}
};

} // namespace

const std::error_category &category() noexcept {
	static const error_category instance;
	return instance;
}

namespace abi {
void throw_error(int linger_error) { throw error(static_cast<errc>(linger_error)); }
} // namespace abi

} // namespace inger

extern "C" void linger_testing_enter_runtime(void) { inger::detail::this_thread()->busy = true; }
extern "C" void linger_testing_leave_runtime(void) {
	inger::detail::unbusy(inger::detail::this_thread());
}
