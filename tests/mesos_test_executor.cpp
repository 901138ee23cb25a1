// mesos_test_executor.cpp — a custom Mesos executor on our ExecutorDriver, for the local
// cluster's tests: inger-mesos-local starts it as a real child process with the MESOS_*
// environment. What a task does is in its TaskInfo.data:
//   "finish"  TASK_RUNNING, then TASK_FINISHED;
//   "run"     TASK_RUNNING, until KILL (then TASK_KILLED).
// Framework messages from the scheduler: "ping" is answered "pong <executor id>";
// "die" makes the process exit at once with status 7 (an executor that dies). SHUTDOWN ends
// it with status 0. It prints its MESOS_* environment on stdout (the sandbox's stdout file)
// and never runs longer than 120 s.
#include <turquoise/mesos/executor.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unistd.h>

using turquoise::pool;
using turquoise::pool_options;
using turquoise::Try;
namespace tmesos = turquoise::mesos;
namespace v1 = ::mesos::v1;

namespace {

struct test_executor : tmesos::Executor {
	std::mutex mutex;
	std::condition_variable cv;
	bool done = false;
	std::string id;

	void finish() {
		std::lock_guard lock(mutex);
		done = true;
		cv.notify_all();
	}
	static v1::TaskStatus status(const v1::TaskID &task, v1::TaskState state) {
		v1::TaskStatus s;
		*s.mutable_task_id() = task;
		s.set_state(state);
		return s;
	}
	void launch(tmesos::ExecutorDriver &d, const v1::TaskInfo &task) override {
		d.update(status(task.task_id(), v1::TASK_RUNNING));
		if (task.data() == "finish")
			d.update(status(task.task_id(), v1::TASK_FINISHED));
	}
	void kill(tmesos::ExecutorDriver &d, const v1::TaskID &task, const std::optional<v1::KillPolicy> &) override {
		d.update(status(task, v1::TASK_KILLED));
	}
	void message(tmesos::ExecutorDriver &d, const std::string &data) override {
		if (data == "die")
			::_exit(7);
		if (data == "ping")
			d.message("pong " + id);
	}
	void shutdown(tmesos::ExecutorDriver &) override { finish(); }
	void error(tmesos::ExecutorDriver &, const std::string &message) override {
		std::fprintf(stderr, "executor error: %s\n", message.c_str());
		finish();
	}
};

} // namespace

int main() {
	for (const char *name : {"MESOS_FRAMEWORK_ID", "MESOS_EXECUTOR_ID", "MESOS_AGENT_ENDPOINT", "MESOS_DIRECTORY",
	                         "MESOS_SANDBOX", "MESOS_SLAVE_ID"}) {
		const char *v = std::getenv(name);
		std::printf("%s=%s\n", name, v ? v : "");
	}
	std::fflush(stdout);
	Try<tmesos::executor_options> options = tmesos::executor_options::from_environment();
	if (options.isError()) {
		std::fprintf(stderr, "%s\n", options.error().c_str());
		return 2;
	}
	options.get().backoff_min = std::chrono::milliseconds(50);
	options.get().recovery_timeout = std::chrono::seconds(20);
	pool workers(pool_options{.workers = 2});
	test_executor executor;
	executor.id = options.get().executor_id.value();
	{
		tmesos::ExecutorDriver driver(workers, executor, options.get());
		driver.start();
		std::unique_lock lock(executor.mutex);
		executor.cv.wait_for(lock, std::chrono::seconds(120), [&] { return executor.done; });
	}
	return 0;
}
