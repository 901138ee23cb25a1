// consumer_mesos.cpp — a Mesos framework built against an installed inger (find_package's
// inger::turquoise_mesos_cluster and `pkg-config turquoise-mesos-cluster` alike, by
// tests/install/check.sh): it starts the embedded cluster, launches one `true` task on an
// offer and exits 0 once the task finished.
#include <turquoise/mesos/cluster.hpp>
#include <turquoise/mesos/scheduler.hpp>
#include <turquoise/runtime.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace tmesos = turquoise::mesos;
namespace v1 = ::mesos::v1;

namespace {

class OneTask : public tmesos::Scheduler {
public:
	turquoise::Future<bool> done() { return done_.future(); }

	void offers(tmesos::SchedulerDriver &driver, const std::vector<v1::Offer> &offers) override {
		for (const v1::Offer &offer : offers) {
			if (launched_) {
				driver.decline({offer.id()});
				continue;
			}
			v1::TaskInfo task;
			task.set_name("consumer");
			task.mutable_task_id()->set_value("consumer-1");
			*task.mutable_agent_id() = offer.agent_id();
			task.mutable_command()->set_value("true");
			for (const char *name : {"cpus", "mem"}) {
				v1::Resource *r = task.add_resources();
				r->set_name(name);
				r->set_type(v1::Value::SCALAR);
				r->mutable_scalar()->set_value(name[0] == 'c' ? 0.1 : 16);
			}
			driver.launch({offer.id()}, {task});
			launched_ = true;
		}
	}

	void update(tmesos::SchedulerDriver &, const v1::TaskStatus &status) override {
		std::printf("consumer-1: %s\n", v1::TaskState_Name(status.state()).c_str());
		if (status.state() == v1::TASK_FINISHED)
			done_.set(true);
		else if (status.state() != v1::TASK_STARTING && status.state() != v1::TASK_RUNNING)
			done_.set(false);
	}

	void error(tmesos::SchedulerDriver &, const std::string &message) override {
		std::fprintf(stderr, "consumer_mesos: %s\n", message.c_str());
		done_.set(false);
	}

private:
	bool launched_ = false;
	turquoise::Promise<bool> done_;
};

} // namespace

int main() {
	turquoise::runtime rt;
	turquoise::runtime_scope scope(rt);
	tmesos::cluster_options co;
	co.port = 0;
	co.cpus = 1;
	co.mem = 256;
	auto cluster = tmesos::LocalCluster::start(co);
	if (cluster.isError()) {
		std::fprintf(stderr, "consumer_mesos: cannot start the cluster: %s\n", cluster.error().c_str());
		return 1;
	}
	OneTask framework;
	v1::FrameworkInfo info;
	const char *user = std::getenv("USER");
	info.set_user(user && *user ? user : "nobody");
	info.set_name("consumer");
	tmesos::scheduler_options so;
	so.master = cluster.get()->address();
	tmesos::SchedulerDriver driver(rt.workers(), framework, info, so);
	driver.start();
	turquoise::Future<bool> done = framework.done();
	bool ok = done.await(std::chrono::seconds(60)) && done.isReady() && done.get();
	driver.stop();
	return ok ? 0 : 1;
}
