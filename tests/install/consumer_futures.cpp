// consumer_futures.cpp — futures and processes from an installed inger, built with nothing
// but `pkg-config --cflags --libs turquoise` (tests/install/check.sh).
#include <turquoise/async/future.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#include <chrono>

namespace {

class Doubler : public turquoise::Process<Doubler> {
public:
	int twice(int n) { return 2 * n; }
};

} // namespace

int main() {
	turquoise::Promise<int> promise;
	turquoise::Future<int> half = promise.future();
	promise.set(21);

	Doubler doubler;
	turquoise::PID<Doubler> pid = turquoise::spawn(doubler);
	turquoise::Future<int> answer = turquoise::dispatch(pid, &Doubler::twice, half.get());
	bool ok = answer.await(std::chrono::seconds(30)) && answer.isReady() && answer.get() == 42;
	turquoise::terminate(pid);
	ok = turquoise::wait(pid, std::chrono::seconds(30)) && ok;
	return ok ? 0 : 1;
}
