// hello.cpp — a Mesos framework: launch N command tasks, placed by the allocation helper (at
// most --maxcol on one host), and print how each ended. Runs against an embedded local cluster
// unless given --master host:port (a real Mesos master, or inger-mesos-local).
//
//   mesos_hello [--master host:port] [--tasks N] [--maxcol M] [--agents A] [--command CMD]
//
// Exits 0 when every task finished, 1 when one did not or the framework failed, 2 on bad flags.
#include <turquoise/mesos/allocation.hpp>
#include <turquoise/mesos/cluster.hpp>
#include <turquoise/mesos/scheduler.hpp>
#include <turquoise/runtime.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

using turquoise::Future;
using turquoise::Promise;
namespace tmesos = turquoise::mesos; // ::mesos is protobuf's package (::mesos::v1)
namespace v1 = ::mesos::v1;

namespace {

struct hello_options {
	std::string master; // empty: an embedded cluster
	std::size_t tasks = 6;
	std::size_t maxcol = 2;
	std::size_t agents = 3;
	std::string command = "echo hello from $MESOS_TASK_ID";
};

class Hello : public tmesos::Scheduler {
public:
	Hello(hello_options options, bool per_agent) : options_(std::move(options)), per_agent_(per_agent) {}

	Future<bool> done() { return done_.future(); }

	void subscribed(tmesos::SchedulerDriver &, const v1::scheduler::Event::Subscribed &s) override {
		std::printf("subscribed as framework %s\n", s.framework_id().value().c_str());
	}

	void offers(tmesos::SchedulerDriver &driver, const std::vector<v1::Offer> &offers) override {
		tmesos::task_spec spec;
		spec.name = "hello";
		spec.count = options_.tasks - launched_;
		spec.maxcol = options_.maxcol;
		spec.cpus = 0.1;
		spec.mem = 32;
		spec.running = running_; // instances still running count against maxcol
		tmesos::allocation_options by;
		by.host_key = per_agent_ ? tmesos::allocation_options::key::agent_id : tmesos::allocation_options::key::hostname;
		tmesos::allocation a = tmesos::allocate(tmesos::offered_from(offers), {spec}, by);

		std::map<std::size_t, std::vector<v1::TaskInfo>> by_offer;
		for (const auto &p : a.placements) {
			const v1::Offer &offer = offers[p.offer];
			v1::TaskInfo prototype;
			prototype.mutable_command()->set_value(options_.command);
			std::string id = "hello-" + std::to_string(launched_++);
			by_offer[p.offer].push_back(tmesos::task_for(p, spec, offer, id, prototype));
			host_of_[id] = per_agent_ ? offer.agent_id().value() : offer.hostname();
			++running_[host_of_[id]];
		}
		v1::Filters short_filter; // what is left is offered again soon
		short_filter.set_refuse_seconds(0.5);
		for (std::size_t i = 0; i < offers.size(); ++i) {
			if (by_offer.count(i))
				driver.launch({offers[i].id()}, by_offer[i], short_filter);
			else
				driver.decline({offers[i].id()}, short_filter);
		}
	}

	void update(tmesos::SchedulerDriver &, const v1::TaskStatus &status) override {
		const std::string &id = status.task_id().value();
		if (status.state() == v1::TASK_STARTING || status.state() == v1::TASK_RUNNING ||
		    status.state() == v1::TASK_STAGING || status.state() == v1::TASK_KILLING)
			return;
		if (!ended_.insert(id).second)
			return; // a resent terminal update
		if (host_of_.count(id))
			--running_[host_of_[id]];
		if (status.state() == v1::TASK_FINISHED)
			++finished_;
		// An agent by its short name (its id ends in "-S<n>").
		std::string where = host_of_.count(id) ? host_of_[id] : "?";
		if (per_agent_)
			where = "agent " + where.substr(where.rfind('-') + 1);
		std::printf("%-10s %-15s on %s%s%s\n", id.c_str(), v1::TaskState_Name(status.state()).c_str(),
		            where.c_str(), status.has_message() ? ": " : "",
		            status.has_message() ? status.message().c_str() : "");
		std::fflush(stdout);
		if (ended_.size() == options_.tasks)
			done_.set(finished_ == options_.tasks);
	}

	void error(tmesos::SchedulerDriver &, const std::string &message) override {
		std::fprintf(stderr, "hello: the master says: %s\n", message.c_str());
		done_.set(false);
	}

	void disconnected(tmesos::SchedulerDriver &, const std::string &why) override {
		std::fprintf(stderr, "hello: disconnected (%s); subscribing again\n", why.c_str());
	}

private:
	hello_options options_;
	bool per_agent_;
	std::size_t launched_ = 0, finished_ = 0;
	std::map<std::string, std::size_t> running_;     // by host key (agent id or hostname)
	std::map<std::string, std::string> host_of_;     // task id -> host key
	std::set<std::string> ended_;
	Promise<bool> done_;
};

[[noreturn]] void usage(const char *why) {
	std::fprintf(stderr, "hello: %s\nusage: mesos_hello [--master host:port] [--tasks N] [--maxcol M] "
	                     "[--agents A] [--command CMD]\n", why);
	std::exit(2);
}

std::size_t count(const char *text) {
	char *end = nullptr;
	long v = std::strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || v < 1 || v > 100000)
		usage("counts must be whole numbers from 1 to 100000");
	return static_cast<std::size_t>(v);
}

} // namespace

int main(int argc, char **argv) {
	hello_options o;
	for (int i = 1; i < argc; ++i) {
		std::string flag = argv[i];
		if (i + 1 >= argc)
			usage(("missing value for " + flag).c_str());
		const char *value = argv[++i];
		if (flag == "--master")
			o.master = value;
		else if (flag == "--tasks")
			o.tasks = count(value);
		else if (flag == "--maxcol")
			o.maxcol = count(value);
		else if (flag == "--agents")
			o.agents = count(value);
		else if (flag == "--command")
			o.command = value;
		else
			usage(("unknown flag " + flag).c_str());
	}

	turquoise::runtime rt;
	turquoise::runtime_scope scope(rt);
	std::unique_ptr<tmesos::LocalCluster> cluster;
	std::string master = o.master;
	if (master.empty()) {
		tmesos::cluster_options co;
		co.port = 0;
		co.agents = o.agents;
		co.cpus = 1;
		co.mem = 1024;
		auto started = tmesos::LocalCluster::start(co);
		if (started.isError()) {
			std::fprintf(stderr, "hello: cannot start the local cluster: %s\n", started.error().c_str());
			return 1;
		}
		cluster = std::move(started.get());
		master = cluster->address();
		std::printf("embedded cluster at %s with %zu agents\n", master.c_str(), o.agents);
	}

	// One host per agent on the embedded cluster (its agents share this machine's hostname).
	Hello hello(o, cluster != nullptr);
	v1::FrameworkInfo info;
	const char *user = std::getenv("USER");
	info.set_user(user && *user ? user : "nobody");
	info.set_name("hello");
	tmesos::scheduler_options so;
	so.master = master;
	tmesos::SchedulerDriver driver(rt.workers(), hello, info, so);
	driver.start();
	Future<bool> done = hello.done();
	bool ok = done.await(std::chrono::seconds(120)) && done.isReady() && done.get();
	if (!done.isReady())
		std::fprintf(stderr, "hello: not every task ended within 120 s\n");
	driver.teardown().await(std::chrono::seconds(5));
	driver.stop();
	std::printf("%s\n", ok ? "all tasks finished" : "some tasks did not finish");
	return ok ? 0 : 1;
}
