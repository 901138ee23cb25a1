// bench_mesos_tasks.cpp — command tasks launched to TASK_FINISHED per second through the
// embedded cluster (`true` as the command), beside the same number of posix_spawn + waitpid of
// /bin/true in this process: the yardstick for what the cluster adds (offers, LAUNCH over
// HTTP, sandbox directories, three acknowledged status updates per task).
//
//   tasks/cluster/N   one batch: N tasks placed on the offer held, all waited for (FINISHED)
//   tasks/spawn/N     one batch: N posix_spawn of /bin/true, then N waitpid
#include "bench_runtime.hpp"

#include <turquoise/mesos/allocation.hpp>
#include <turquoise/mesos/cluster.hpp>
#include <turquoise/mesos/scheduler.hpp>
#include <turquoise/runtime.hpp>

#include <benchmark/benchmark.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

namespace {

namespace tmesos = turquoise::mesos;
namespace v1 = ::mesos::v1;
using namespace std::chrono;

// Launches what is asked on the offers it holds; counts the tasks that ended.
class Runner : public tmesos::Scheduler {
public:
	void attach(tmesos::SchedulerDriver &d) { driver_ = &d; }

	// Launches n tasks and waits until they ended: false if not within the limit.
	bool run(std::size_t n, seconds limit) {
		std::unique_lock<std::mutex> l(mutex_);
		pending_ += n;
		const std::size_t target = ended_ + n;
		place_and_launch(l);
		return ended_cv_.wait_for(l, limit, [&] { return ended_ >= target; });
	}
	std::size_t failed() {
		std::lock_guard<std::mutex> l(mutex_);
		return failed_;
	}
	// For a batch that did not end: what the framework was waiting for.
	std::string describe() {
		std::lock_guard<std::mutex> l(mutex_);
		return "launched " + std::to_string(serial_) + ", ended " + std::to_string(ended_) + ", waiting for an offer " +
		       std::to_string(pending_) + ", offers held " + std::to_string(held_.size()) + ", offers received " +
		       std::to_string(offered_);
	}

	void offers(tmesos::SchedulerDriver &, const std::vector<v1::Offer> &offers) override {
		std::unique_lock<std::mutex> l(mutex_);
		for (const auto &o : offers)
			held_[o.id().value()] = o;
		offered_ += offers.size();
		place_and_launch(l);
	}
	void rescind(tmesos::SchedulerDriver &, const v1::OfferID &id) override {
		std::lock_guard<std::mutex> l(mutex_);
		held_.erase(id.value());
	}
	void update(tmesos::SchedulerDriver &, const v1::TaskStatus &s) override {
		if (s.state() == v1::TASK_STARTING || s.state() == v1::TASK_RUNNING || s.state() == v1::TASK_STAGING)
			return;
		std::lock_guard<std::mutex> l(mutex_);
		++ended_;
		failed_ += s.state() != v1::TASK_FINISHED;
		ended_cv_.notify_all();
	}

private:
	// Places the pending tasks on the held offers; launches outside the lock.
	void place_and_launch(std::unique_lock<std::mutex> &l) {
		if (pending_ == 0 || held_.empty())
			return;
		std::vector<v1::Offer> offers;
		for (auto &[id, o] : held_)
			offers.push_back(o);
		tmesos::task_spec spec;
		spec.name = "true";
		spec.count = pending_;
		spec.cpus = 0.01;
		spec.mem = 1;
		tmesos::allocation a = tmesos::allocate(tmesos::offered_from(offers), {spec});
		std::map<std::size_t, std::vector<v1::TaskInfo>> by_offer;
		for (const auto &p : a.placements) {
			v1::TaskInfo prototype;
			prototype.mutable_command()->set_value("true");
			by_offer[p.offer].push_back(
			    tmesos::task_for(p, spec, offers[p.offer], "t-" + std::to_string(serial_++), prototype));
		}
		pending_ -= a.placements.size();
		for (auto &[index, tasks] : by_offer)
			held_.erase(offers[index].id().value()); // the rest comes back as a new offer
		l.unlock();
		v1::Filters again_now;
		again_now.set_refuse_seconds(0);
		for (auto &[index, tasks] : by_offer)
			driver_->launch({offers[index].id()}, std::move(tasks), again_now);
		l.lock();
	}

	tmesos::SchedulerDriver *driver_ = nullptr;
	std::mutex mutex_;
	std::condition_variable ended_cv_;
	std::map<std::string, v1::Offer> held_;
	std::size_t pending_ = 0, ended_ = 0, failed_ = 0, offered_ = 0;
	std::uint64_t serial_ = 0;
};

// One cluster and one subscribed framework for the whole run.
struct cluster_fixture {
	turquoise::runtime &rt = bench_runtime();
	std::unique_ptr<tmesos::LocalCluster> cluster;
	Runner runner;
	std::optional<tmesos::SchedulerDriver> driver;
	std::string error;

	cluster_fixture() {
		tmesos::cluster_options co;
		co.port = 0;
		co.agents = 1;
		co.cpus = 64;
		co.mem = 65536;
		co.allocation_interval = milliseconds(100);
		auto started = tmesos::LocalCluster::start(co);
		if (started.isError()) {
			error = started.error();
			return;
		}
		cluster = std::move(started.get());
		v1::FrameworkInfo info;
		info.set_user("nobody");
		info.set_name("bench");
		tmesos::scheduler_options so;
		so.master = cluster->address();
		driver.emplace(rt.workers(), runner, info, so);
		runner.attach(*driver);
		driver->start();
		if (!runner.run(1, seconds(30))) // subscribed, offered, one task through
			error = "the first task did not end within 30 s";
	}
	static cluster_fixture &get() {
		static cluster_fixture f;
		return f;
	}
};

void tasks_cluster(benchmark::State &state) {
	cluster_fixture &f = cluster_fixture::get();
	if (!f.error.empty()) {
		state.SkipWithError(f.error.c_str());
		return;
	}
	const auto n = static_cast<std::size_t>(state.range(0));
	std::size_t failed_before = f.runner.failed();
	for (auto _ : state)
		if (!f.runner.run(n, seconds(60))) {
			static std::string why; // SkipWithError keeps the pointer
			why = "a batch did not end within 60 s: " + f.runner.describe() + "; driver: " +
			      (f.driver->status().subscribed ? "subscribed" : "not subscribed, " + f.driver->status().last_error);
			state.SkipWithError(why.c_str());
			return;
		}
	if (f.runner.failed() != failed_before)
		state.SkipWithError("some tasks did not finish");
	state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void tasks_spawn(benchmark::State &state) {
	const auto n = static_cast<std::size_t>(state.range(0));
	char program[] = "/bin/true";
	char *argv[] = {program, nullptr};
	std::vector<pid_t> pids(n);
	for (auto _ : state) {
		for (auto &pid : pids)
			if (posix_spawn(&pid, program, nullptr, nullptr, argv, environ) != 0) {
				state.SkipWithError("posix_spawn failed");
				return;
			}
		for (auto pid : pids) {
			int status;
			if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				state.SkipWithError("/bin/true did not exit 0");
				return;
			}
		}
	}
	state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

} // namespace

// Alternating: each repetition of one follows the other's, under the same load.
BENCHMARK(tasks_cluster)->Name("tasks/cluster")->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(tasks_spawn)->Name("tasks/spawn")->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
