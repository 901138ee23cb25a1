// main.cpp — mesos_cron: the Mesomatic talk's cron framework on the scheduler facade. Jobs run
// on schedules with seconds ("*/20 * * * * *", UTC) as Mesos command tasks; a job whose last
// run has not ended skips its tick; the job file is re-read every second and a change is
// converged (converge.hpp). Runs against an embedded local cluster unless given --master.
//
//   mesos_cron [--config FILE] [--seconds S] [--master host:port] [--agents A]
//
//   --config FILE  the jobs (jobs.hpp's format); without it, two demonstration jobs. The file
//                  is read again every second: replace it whole (write another, then mv), an
//                  invalid version is reported and the current jobs are kept
//   --seconds S    stop after S seconds (tasks still running are killed); 0 (the default):
//                  run until SIGINT or SIGTERM
// Exits 0 after a clean stop, 1 if the framework failed (never subscribed, or the master
// removed it), 2 on bad flags or an invalid job file at the start.
#include "framework.hpp"

#include <turquoise/mesos/cluster.hpp>
#include <turquoise/runtime.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

using namespace std::chrono;
namespace tmesos = turquoise::mesos;
namespace v1 = ::mesos::v1;

namespace {

const char *const demo_jobs = "hello  */2 * * * * *  echo hello from $MESOS_TASK_ID\n"
                              "slow   * * * * * *    sleep 1.5\n";

volatile std::sig_atomic_t interrupted = 0;
extern "C" void on_interrupt(int) { interrupted = 1; }

const char usage_text[] = "usage: mesos_cron [--config FILE] [--seconds S] [--master host:port] [--agents A]\n";

[[noreturn]] void usage(const std::string &why) {
	std::fprintf(stderr, "mesos_cron: %s\n%s", why.c_str(), usage_text);
	std::exit(2);
}

long whole(const char *text, long low, long high, const std::string &flag) {
	char *end = nullptr;
	long v = std::strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || v < low || v > high)
		usage(flag + " takes a whole number from " + std::to_string(low) + " to " + std::to_string(high));
	return v;
}

// The file's text, or nullopt (with errno's reason in `why`) if it cannot be read.
std::optional<std::string> read_file(const std::string &path, std::string &why) {
	std::ifstream in(path, std::ios::binary);
	if (!in) {
		why = "cannot read " + path;
		return std::nullopt;
	}
	std::ostringstream text;
	text << in.rdbuf();
	return text.str();
}

// The job file, read again on each tick; a changed text that parses is the new configuration.
struct watched_file {
	std::string path;
	std::string last_text;
	bool unreadable = false; // said once, until the file is back

	void poll(cron::CronFramework &framework) {
		std::string why;
		auto text = read_file(path, why);
		if (!text) {
			if (!unreadable)
				std::printf("config error: %s; keeping the current jobs\n", why.c_str());
			unreadable = true;
		} else {
			unreadable = false;
			if (*text != last_text) {
				last_text = *text;
				try {
					framework.reconfigure(cron::parse_jobs(*text));
				} catch (const cron::config_error &e) {
					std::printf("config error: %s; keeping the current jobs\n", e.what());
				}
			}
		}
		std::fflush(stdout);
	}
};

} // namespace

int main(int argc, char **argv) {
	std::string master, config_path;
	long run_seconds = 0;
	std::size_t agents = 1;
	for (int i = 1; i < argc; ++i) {
		std::string flag = argv[i];
		if (i + 1 >= argc)
			usage("missing value for " + flag);
		const char *value = argv[++i];
		if (flag == "--master")
			master = value;
		else if (flag == "--config")
			config_path = value;
		else if (flag == "--seconds")
			run_seconds = whole(value, 0, 10'000'000, flag);
		else if (flag == "--agents")
			agents = static_cast<std::size_t>(whole(value, 1, 64, flag));
		else
			usage("unknown flag " + flag);
	}

	std::string config_text = demo_jobs, why;
	if (!config_path.empty()) {
		auto text = read_file(config_path, why);
		if (!text)
			usage(why);
		config_text = *text;
	}
	cron::jobs initial;
	try {
		initial = cron::parse_jobs(config_text);
	} catch (const cron::config_error &e) {
		std::fprintf(stderr, "mesos_cron: %s: %s\n", config_path.empty() ? "demo jobs" : config_path.c_str(), e.what());
		return 2;
	}

	std::signal(SIGINT, on_interrupt);
	std::signal(SIGTERM, on_interrupt);
	turquoise::runtime rt;
	turquoise::runtime_scope scope(rt);
	std::unique_ptr<tmesos::LocalCluster> cluster;
	if (master.empty()) {
		tmesos::cluster_options co;
		co.port = 0;
		co.agents = agents;
		co.cpus = 1;
		co.mem = 1024;
		auto started = tmesos::LocalCluster::start(co);
		if (started.isError()) {
			std::fprintf(stderr, "mesos_cron: cannot start the local cluster: %s\n", started.error().c_str());
			return 1;
		}
		cluster = std::move(started.get());
		master = cluster->address();
		std::printf("embedded cluster at %s with %zu agents\n", master.c_str(), agents);
	}
	std::printf("jobs:");
	for (const auto &[name, job] : initial)
		std::printf(" %s=\"%s\"", name.c_str(), job.schedule.text().c_str());
	std::printf("\n");
	std::fflush(stdout);

	cron::framework_options fo;
	fo.per_agent = cluster != nullptr;
	cron::CronFramework framework(initial, fo);
	v1::FrameworkInfo info;
	const char *user = std::getenv("USER");
	info.set_user(user && *user ? user : "nobody");
	info.set_name("cron");
	tmesos::scheduler_options so;
	so.master = master;
	std::optional<tmesos::SchedulerDriver> driver;
	try {
		driver.emplace(rt.workers(), framework, info, so);
	} catch (const std::invalid_argument &e) { // returning (not exit()) stops the runtime first
		std::fprintf(stderr, "mesos_cron: --master: %s\n%s", e.what(), usage_text);
		return 2;
	}
	framework.attach(*driver);
	driver->start();

	// The clock: once a second (UTC), the ticks since the last one; the job file re-read.
	const auto deadline = steady_clock::now() + seconds(run_seconds);
	auto last = floor<seconds>(system_clock::now());
	watched_file job_file{config_path, config_text};
	while (!interrupted && !framework.failed()) {
		auto next = last + seconds(1);
		while (!interrupted && system_clock::now() < next)
			std::this_thread::sleep_for(std::min<system_clock::duration>(next - system_clock::now(), milliseconds(100)));
		if (interrupted || (run_seconds > 0 && steady_clock::now() >= deadline))
			break;
		auto now = floor<seconds>(system_clock::now());
		if (now <= last)
			continue; // the clock went back: no tick twice
		if (!config_path.empty())
			job_file.poll(framework);
		framework.tick(last, now);
		last = now;
		framework.release_old_offers();
	}

	bool subscribed = framework.ready().isReady() && framework.ready().get();
	cron::framework_counts c = framework.counts();
	std::printf("summary launched=%llu skipped=%llu finished=%llu failed=%llu killed=%llu reconfigured=%llu "
	            "running=%zu\n",
	            static_cast<unsigned long long>(c.launched), static_cast<unsigned long long>(c.skipped),
	            static_cast<unsigned long long>(c.finished), static_cast<unsigned long long>(c.failed),
	            static_cast<unsigned long long>(c.killed), static_cast<unsigned long long>(c.reconfigured),
	            c.running);
	std::fflush(stdout);
	driver->teardown().await(seconds(5)); // the master kills what still runs
	driver->stop();
	if (!subscribed)
		std::fprintf(stderr, "mesos_cron: never subscribed to %s\n", master.c_str());
	return subscribed && !framework.failed() ? 0 : 1;
}
