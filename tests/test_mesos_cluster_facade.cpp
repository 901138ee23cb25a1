// test_mesos_cluster_facade.cpp — the scheduler facade (SchedulerDriver) with the allocation
// helper against inger-mesos-local as a real OS process: 100 tasks with count and maxcol over
// 3 agents, all FINISHED; kill and reconcile; re-subscription after the cluster restarts on
// the same port.
#include "mesos_cluster_helpers.hpp"

#include <turquoise/mesos/allocation.hpp>
#include <turquoise/mesos/cluster.hpp>
#include <turquoise/mesos/scheduler.hpp>

#include <map>
#include <set>

using namespace mesos_test;

namespace {

pool &client_pool() {
	static pool p(pool_options{.workers = 2});
	return p;
}

// Launches `count` tasks running `command`, at most `maxcol` at once on one agent.
class batch : public tmesos::Scheduler {
public:
	batch(std::size_t count, std::size_t maxcol, std::string command)
	    : count_(count), maxcol_(maxcol), command_(std::move(command)) {}

	void subscribed(tmesos::SchedulerDriver &, const Event::Subscribed &) override {
		std::lock_guard lock(mutex_);
		++subscriptions_;
		cv_.notify_all();
	}
	void disconnected(tmesos::SchedulerDriver &, const std::string &) override {
		std::lock_guard lock(mutex_);
		++disconnections_;
	}
	void offers(tmesos::SchedulerDriver &driver, const std::vector<v1::Offer> &offers) override {
		std::lock_guard lock(mutex_);
		++offer_events_;
		tmesos::task_spec spec;
		spec.name = "batch";
		spec.count = count_ - launched_;
		spec.maxcol = maxcol_;
		spec.cpus = 0.05;
		spec.mem = 8;
		spec.running = running_;
		tmesos::allocation_options by_agent;
		by_agent.host_key = tmesos::allocation_options::key::agent_id;
		tmesos::allocation a = tmesos::allocate(tmesos::offered_from(offers), {spec}, by_agent);
		std::map<std::size_t, std::vector<v1::TaskInfo>> by_offer;
		for (auto &p : a.placements) {
			v1::TaskInfo proto;
			proto.mutable_command()->set_value(command_);
			std::string id = "task-" + std::to_string(launched_++);
			agent_of_[id] = offers[p.offer].agent_id().value();
			if (++running_[agent_of_[id]] > max_running_)
				max_running_ = running_[agent_of_[id]];
			by_offer[p.offer].push_back(tmesos::task_for(p, spec, offers[p.offer], id, proto));
		}
		v1::Filters quick;
		quick.set_refuse_seconds(0.1);
		for (std::size_t i = 0; i < offers.size(); ++i) {
			Future<Nothing> call = by_offer.count(i) ? driver.launch({offers[i].id()}, by_offer[i], quick)
			                                         : driver.decline({offers[i].id()}, quick);
			call.onFailed([this](const std::string &why) { failed_call(why); });
		}
	}
	void failed_call(const std::string &why) {
		std::lock_guard lock(mutex_);
		failed_calls_.push_back(why);
	}
	// What the scheduler saw, for a test that times out.
	std::string report(const tmesos::SchedulerDriver &driver) {
		std::lock_guard lock(mutex_);
		tmesos::scheduler_status st = driver.status();
		std::string r = "launched " + std::to_string(launched_) + ", ended " + std::to_string(ended_.size());
		r += ", offers " + std::to_string(offer_events_) + ", subscriptions " + std::to_string(st.subscriptions);
		r += ", disconnections " + std::to_string(st.disconnections) + ", last error '" + st.last_error + "'";
		r += ", failed calls " + std::to_string(failed_calls_.size());
		for (auto &why : failed_calls_)
			r += "\n  failed: " + why;
		for (auto &[id, agent] : agent_of_)
			if (!ended_.count(id))
				r += "\n  not ended: " + id + (running_ids_.count(id) ? " (RUNNING seen)" : " (no RUNNING)");
		return r;
	}
	void update(tmesos::SchedulerDriver &, const v1::TaskStatus &s) override {
		std::lock_guard lock(mutex_);
		if (s.reason() == v1::TaskStatus::REASON_RECONCILIATION) {
			reconciled_.push_back(s);
		} else if (s.state() != v1::TASK_STARTING && s.state() != v1::TASK_RUNNING && s.state() != v1::TASK_KILLING) {
			if (ended_.emplace(s.task_id().value(), s.state()).second) {
				--running_[agent_of_[s.task_id().value()]];
				agents_used_.insert(agent_of_[s.task_id().value()]);
			}
		} else if (s.state() == v1::TASK_RUNNING) {
			running_ids_.insert(s.task_id().value());
		}
		cv_.notify_all();
	}

	template <class P>
	bool wait(P pred, std::chrono::seconds limit) {
		std::unique_lock lock(mutex_);
		return cv_.wait_for(lock, limit, [&] { return pred(*this); });
	}

	std::mutex mutex_;
	std::condition_variable cv_;
	std::size_t count_, maxcol_;
	std::string command_;
	std::size_t launched_ = 0, max_running_ = 0, subscriptions_ = 0, disconnections_ = 0, offer_events_ = 0;
	std::vector<std::string> failed_calls_;
	std::map<std::string, std::size_t> running_;
	std::map<std::string, std::string> agent_of_;
	std::map<std::string, v1::TaskState> ended_;
	std::set<std::string> agents_used_, running_ids_;
	std::vector<v1::TaskStatus> reconciled_;
};

v1::FrameworkInfo info(const char *name) {
	v1::FrameworkInfo i;
	i.set_user("test");
	i.set_name(name);
	return i;
}

} // namespace

TEST_CASE("the scheduler facade launches 100 tasks with count and maxcol over 3 agents: all FINISHED") {
	cluster_process cluster({"--agents", "3", "--cpus", "2", "--mem", "2048"}, client_pool());
	batch b(100, 4, "true");
	tmesos::scheduler_options so;
	so.master = cluster.address();
	tmesos::SchedulerDriver driver(client_pool(), b, info("hundred"), so);
	REQUIRE(driver.start());
	// Under CTest's 120 s limit, so that a run that stalls says where.
	bool all_ended = b.wait([](batch &x) { return x.ended_.size() == 100; }, std::chrono::seconds(90));
	if (!all_ended)
		UNSCOPED_INFO(b.report(driver));
	CHECK(all_ended);
	std::lock_guard lock(b.mutex_);
	std::size_t finished = 0;
	for (auto &[id, state] : b.ended_)
		finished += state == v1::TASK_FINISHED;
	CHECK(finished == 100);
	CHECK(b.launched_ == 100);
	CHECK(b.max_running_ <= 4);
	CHECK(b.agents_used_.size() == 3);
	driver.stop();
}

TEST_CASE("the scheduler facade: kill and reconcile, re-subscription after the cluster restarts") {
	auto cluster = std::make_unique<cluster_process>(std::vector<std::string>{"--heartbeat-interval", "0.5"},
	                                                 client_pool());
	std::string address = cluster->address();
	std::string port = address.substr(address.find(':') + 1);
	batch b(2, 2, "sleep 60");
	tmesos::scheduler_options so;
	so.master = address;
	so.backoff_min = std::chrono::milliseconds(100);
	so.backoff_max = std::chrono::milliseconds(500);
	tmesos::SchedulerDriver driver(client_pool(), b, info("killer"), so);
	REQUIRE(driver.start());
	REQUIRE(b.wait([](batch &x) { return x.running_ids_.size() == 2; }, std::chrono::seconds(30)));

	v1::TaskID first;
	first.set_value("task-0");
	REQUIRE(driver.kill(first).await(std::chrono::seconds(10)));
	REQUIRE(b.wait([](batch &x) { return x.ended_.count("task-0") == 1; }, std::chrono::seconds(15)));
	{
		std::lock_guard lock(b.mutex_);
		CHECK(b.ended_["task-0"] == v1::TASK_KILLED);
	}
	REQUIRE(driver.reconcile().await(std::chrono::seconds(10)));
	// task-1 is running; task-0 may be reported too (as KILLED) until its acknowledgement,
	// which the driver sends after update() returned, has reached the master.
	auto of_task_1 = [](batch &x) {
		for (auto &s : x.reconciled_)
			if (s.task_id().value() == "task-1")
				return true;
		return false;
	};
	REQUIRE(b.wait(of_task_1, std::chrono::seconds(15)));
	{
		std::lock_guard lock(b.mutex_);
		for (auto &s : b.reconciled_)
			CHECK(s.state() == (s.task_id().value() == "task-1" ? v1::TASK_RUNNING : v1::TASK_KILLED));
	}

	// The cluster goes away and comes back on the same port: the driver subscribes again with
	// its framework id.
	auto id = driver.status().framework_id;
	REQUIRE(id);
	cluster->stop();
	cluster.reset();
	cluster = std::make_unique<cluster_process>(std::vector<std::string>{"--port", port}, client_pool());
	CHECK(b.wait([](batch &x) { return x.subscriptions_ >= 2; }, std::chrono::seconds(30)));
	REQUIRE(driver.status().framework_id);
	CHECK(driver.status().framework_id->value() == id->value());
	CHECK(b.disconnections_ >= 1);
	driver.stop();
}

TEST_CASE("LocalCluster in-process: the work directory it made goes with stop(), a given one stays") {
	tmesos::cluster_options o;
	o.port = 0;
	auto made = tmesos::LocalCluster::start(o);
	REQUIRE(made.isSome());
	std::string dir = made.get()->work_dir();
	CHECK(std::filesystem::is_directory(dir));
	CHECK(made.get()->port() != 0);
	made.get()->stop();
	CHECK(!std::filesystem::exists(dir));

	char given[] = "/tmp/inger-test-given-XXXXXX";
	REQUIRE(::mkdtemp(given) != nullptr);
	o.work_dir = given;
	auto kept = tmesos::LocalCluster::start(o);
	REQUIRE(kept.isSome());
	kept.get()->stop();
	CHECK(std::filesystem::is_directory(given));
	std::filesystem::remove_all(given);

	o.agents = 0;
	auto none = tmesos::LocalCluster::start(o);
	REQUIRE(none.isError());
	CHECK_THAT(none.error(), Catch::Contains("agents"));
}
