// cluster.cpp — LocalCluster: the work directory, the Master process, the master's HTTP
// server and one HTTP address per agent (see turquoise/mesos/cluster.hpp).
#include <turquoise/mesos/cluster.hpp>

#include "executor_http.hpp"
#include "master.hpp"
#include "scheduler_http.hpp"

#include <turquoise/http/server.hpp>
#include <turquoise/mesos/allocation.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/runtime.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unistd.h>

namespace turquoise::mesos {

struct LocalCluster::state {
	cluster_options options;
	std::unique_ptr<local::Master> master;
	PID<local::Master> pid;
	std::optional<http::Server> server;
	std::vector<http::Server> agent_servers;
	bool stopped = false;
	bool own_work_dir = false; // made by start(): removed by stop()
};

namespace {

Try<std::string> make_work_dir(const std::string &wanted) {
	std::error_code ec;
	if (wanted.empty()) {
		const char *tmp = std::getenv("TMPDIR");
		std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/inger-mesos-local-XXXXXX";
		if (!::mkdtemp(tmpl.data()))
			return Error("cannot create a work directory " + tmpl + ": " + std::strerror(errno));
		return tmpl;
	}
	std::filesystem::create_directories(wanted, ec);
	if (ec)
		return Error("cannot create the work directory " + wanted + ": " + ec.message());
	return std::filesystem::absolute(wanted).string();
}

std::string host_name() {
	char name[256] = {};
	if (::gethostname(name, sizeof name - 1) != 0 || !name[0])
		return "localhost";
	return name;
}

double physical_memory_mb() {
	long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
	if (pages <= 0 || size <= 0)
		return 1024;
	return static_cast<double>(pages) * static_cast<double>(size) / (1024.0 * 1024.0);
}

} // namespace

LocalCluster::LocalCluster(std::unique_ptr<state> s) : state_(std::move(s)) {}

Try<std::unique_ptr<LocalCluster>> LocalCluster::start(cluster_options options) {
	if (options.agents < 1 || options.agents > 1000)
		return Error("agents must be between 1 and 1000");
	if (options.cpus && !(std::isfinite(*options.cpus) && *options.cpus > 0))
		return Error("cpus must be a positive number");
	if (options.mem && !(std::isfinite(*options.mem) && *options.mem > 0))
		return Error("mem must be a positive number (MB)");
	if (!(std::isfinite(options.disk) && options.disk >= 0))
		return Error("disk must be a non-negative number (MB)");
	if (options.heartbeat_interval.count() <= 0 || options.offer_timeout.count() <= 0 ||
	    options.update_retry_interval.count() <= 0 || options.allocation_interval.count() <= 0 ||
	    options.executor_registration_timeout.count() <= 0)
		return Error("intervals and timeouts must be positive");
	if (options.ports_begin + options.agents * 1000 > 65536)
		return Error("the agents' port ranges do not fit below 65536");
	Try<std::string> work_dir = make_work_dir(options.work_dir);
	if (work_dir.isError())
		return Error(work_dir.error());
	bool made_work_dir = options.work_dir.empty();
	options.work_dir = work_dir.get();
	struct remove_unless_started { // the directory start() made goes if start() fails
		const std::string &dir;
		bool made, started = false;
		~remove_unless_started() {
			std::error_code ec;
			if (made && !started)
				std::filesystem::remove_all(dir, ec);
		}
	} cleanup{options.work_dir, made_work_dir};
	double n = static_cast<double>(options.agents);
	double cpus = options.cpus.value_or(std::max(1u, std::thread::hardware_concurrency()) / n);
	double mem = options.mem.value_or(std::max(512.0, physical_memory_mb() - 1024) / n);

	pool &workers = runtime::current().workers();
	http::server_options so;
	so.ip = options.ip;
	so.port = options.port;
	so.idle_timeout = std::chrono::hours(24 * 365); // event streams stay open between events
	Try<http::Server> server = http::Server::listen(workers, so);
	if (server.isError())
		return Error("cannot listen on " + options.ip + ":" + std::to_string(options.port) + ": " +
		             server.error());
	options.port = server.get().port();

	auto s = std::make_unique<state>();
	s->own_work_dir = made_work_dir;
	s->options = options;
	s->master = std::make_unique<local::Master>(options);
	std::string advertised = options.ip == "0.0.0.0" ? "127.0.0.1" : options.ip;
	std::string hostname = host_name();
	std::vector<std::string> agent_ids;
	for (std::size_t i = 0; i < options.agents; ++i) {
		http::server_options ao;
		ao.ip = options.ip;
		Try<http::Server> agent_server = http::Server::listen(workers, ao);
		if (agent_server.isError())
			return Error("cannot listen for agent " + std::to_string(i) + ": " + agent_server.error());
		local::agent_state agent;
		agent.ip = advertised;
		agent.info.set_hostname(hostname);
		agent.info.set_port(agent_server.get().port());
		agent.total.cpus = fixed_point(cpus);
		agent.total.mem = fixed_point(mem);
		agent.total.disk = fixed_point(options.disk);
		std::uint64_t begin = options.ports_begin + i * 1000;
		agent.total.ports = {{begin, begin + 999}};
		*agent.info.mutable_resources() = local::to_protobuf(agent.total, "*");
		agent_ids.push_back(s->master->add_agent(std::move(agent)));
		s->agent_servers.push_back(std::move(agent_server.get()));
	}
	s->pid = spawn(*s->master);
	PID<local::Master> pid = s->pid;
	for (std::size_t i = 0; i < agent_ids.size(); ++i) {
		std::string agent_id = agent_ids[i];
		auto executors = [pid, agent_id](const http::Request &r) { return local::executor_endpoint(pid, agent_id, r); };
		s->agent_servers[i].route("/api/v1/executor", executors);
		s->agent_servers[i].route("/slave(1)/api/v1/executor", executors);
	}
	auto endpoint = [pid](const http::Request &r) { return local::scheduler_endpoint(pid, r); };
	server.get().route("/api/v1/scheduler", endpoint);
	server.get().route("/master/api/v1/scheduler", endpoint);
	s->server.emplace(std::move(server.get()));
	cleanup.started = true;
	return std::make_unique<LocalCluster>(std::move(s));
}

LocalCluster::~LocalCluster() { stop(); }

const std::string &LocalCluster::ip() const { return state_->options.ip; }
std::uint16_t LocalCluster::port() const { return state_->options.port; }
std::string LocalCluster::address() const { return ip() + ":" + std::to_string(port()); }
const std::string &LocalCluster::work_dir() const { return state_->options.work_dir; }

void LocalCluster::stop() {
	if (state_->stopped)
		return;
	state_->stopped = true;
	// Tasks killed and streams ended first, so that schedulers read the end of their streams.
	Future<Nothing> stopped = dispatch(state_->pid, &local::Master::stop);
	stopped.await(std::chrono::seconds(5));
	terminate(state_->pid);
	wait(state_->pid);
	state_->server->stop();
	for (auto &a : state_->agent_servers)
		a.stop();
	if (state_->own_work_dir) {
		std::error_code ec;
		std::filesystem::remove_all(state_->options.work_dir, ec);
	}
}

} // namespace turquoise::mesos
