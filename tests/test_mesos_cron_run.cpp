// test_mesos_cron_run.cpp — examples/mesos/cron (mesos_cron) as a real OS process, on its
// embedded cluster and against inger-mesos-local: jobs launched on their schedule, a tick
// skipped while the job's last run still runs, an invalid job file reported and kept out, a
// changed job file converged (a removed job's task killed, an added one run, a rescheduled one
// on its new times). Its stdout is the record checked.
#include "remote_tools_helpers.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;

// One output line's key=value words (and its first words, "tick launch", in `kind`).
struct record {
	std::string line, kind;
	std::map<std::string, std::string> field;
	long number(const std::string &key) const { return std::stol(field.at(key)); }
};

std::vector<record> records(const std::string &out) {
	std::vector<record> rs;
	std::istringstream in(out);
	for (std::string line; std::getline(in, line);) {
		record r{line, {}, {}};
		std::istringstream words(line);
		for (std::string w; words >> w;) {
			auto eq = w.find('=');
			if (eq == std::string::npos || w.find('"') < eq) {
				if (r.field.empty())
					r.kind += (r.kind.empty() ? "" : " ") + w;
				continue;
			}
			r.field[w.substr(0, eq)] = w.substr(eq + 1);
		}
		rs.push_back(r);
	}
	return rs;
}

// Writes the job file whole (another file, then rename), as mesos_cron asks.
void replace_file(const fs::path &path, const std::string &text) {
	fs::path next = path;
	next += ".next";
	std::ofstream(next) << text;
	fs::rename(next, path);
}

struct temp_dir {
	fs::path path;
	temp_dir() {
		char name[] = "/tmp/inger-test-cron-XXXXXX";
		REQUIRE(::mkdtemp(name) != nullptr);
		path = name;
	}
	~temp_dir() {
		std::error_code ec;
		fs::remove_all(path, ec);
	}
};

std::size_t index_of(const std::vector<record> &rs, const std::string &prefix) {
	for (std::size_t i = 0; i < rs.size(); ++i)
		if (rs[i].line.rfind(prefix, 0) == 0)
			return i;
	return rs.size();
}

} // namespace

TEST_CASE("mesos_cron on its embedded cluster: schedules kept, overlapping ticks skipped, job file changes converged") {
	temp_dir dir;
	fs::path jobs = dir.path / "jobs";
	replace_file(jobs, "every2  */2 * * * * *  true\n"
	                   "slow    * * * * * *    sleep 2.5\n"
	                   "doomed  * * * * * *    sleep 60\n");
	// Stopped by SIGTERM once the change has shown its effects (--seconds: a bound only).
	rt_tools::child cron({MESOS_CRON, "--config", jobs.string(), "--seconds", "60"});
	std::string line;
	REQUIRE(cron.wait_line("subscribed framework=", 10 * th::slack, line));
	REQUIRE(cron.wait_line("tick skip job=slow", 6 * th::slack, line));
	// A broken version is reported and changes nothing; then the real change.
	replace_file(jobs, "every2  */3 * * * * *\n");
	REQUIRE(cron.wait_line("config error: line 1: job \"every2\" has no command; keeping the current jobs",
	                       3 * th::slack, line));
	replace_file(jobs, "every2  */3 * * * * *  true\n"
	                   "slow    * * * * * *    sleep 2.5\n"
	                   "fresh   * * * * * *    true\n");
	REQUIRE(cron.wait_line("config remove job=doomed", 3 * th::slack, line));
	REQUIRE(cron.wait_line("launched task=fresh-1 ", 5 * th::slack, line));
	cron.wait_line("no such line", 3.5, line); // reads the output for 3.5 s: every2's new */3 ticks once at least
	::kill(cron.pid(), SIGTERM);
	int status = cron.wait_exit(15 * th::slack);
	INFO("stdout:\n" << cron.out() << "stderr:\n" << cron.err());
	REQUIRE(status == 0);

	std::vector<record> rs = records(cron.out());
	const std::size_t error_at = index_of(rs, "config error:"), change_at = index_of(rs, "config kill job=doomed");
	REQUIRE(error_at < change_at);
	REQUIRE(change_at < rs.size());
	CHECK(index_of(rs, "config remove job=doomed") == change_at + 1);
	CHECK(rs[change_at].field.at("task") == "doomed-0");
	CHECK(index_of(rs, "config reschedule job=every2") < rs.size());
	CHECK(index_of(rs, "config add job=fresh") < rs.size());
	CHECK(index_of(rs, "config keep job=slow") < rs.size());

	// every2's ticks (launched or skipped): on even seconds before the change, on multiples of 3
	// after; consecutive unless the clock loop coalesced some.
	int every2_before = 0, every2_after = 0, fresh_after = 0;
	long last_due = 0;
	bool last_coalesced = false;
	for (std::size_t i = 0; i < rs.size(); ++i) {
		const record &r = rs[i];
		if ((r.kind == "tick launch" || r.kind == "tick skip") && r.field.at("job") == "every2") {
			long due = r.number("due");
			INFO(r.line);
			CHECK(due % (i < change_at ? 2 : 3) == 0);
			if (i < change_at && last_due != 0)
				CHECK((due - last_due == 2 || last_coalesced));
			if (i < change_at)
				last_due = due, last_coalesced = r.line.find("coalesced") != std::string::npos;
			++(i < change_at ? every2_before : every2_after);
		}
		if (r.kind == "tick launch" && r.field.at("job") == "fresh")
			fresh_after += i > change_at;
		if (r.kind == "tick launch" && r.field.at("job") == "doomed")
			CHECK(i < change_at); // removed: no more ticks
		if (r.kind == "launched") // held offers: launched within a second or two of the tick
			CHECK(std::stod(r.field.at("delay")) < 2.0 * th::slack);
	}
	CHECK(every2_before >= 1);
	CHECK(every2_after >= 1);
	CHECK(fresh_after >= 1);

	// slow: never two at once; its skipped ticks name the instance still running.
	std::set<std::string> slow_alive;
	int slow_skips = 0, slow_runs = 0;
	for (const record &r : rs) {
		if (r.kind == "launched" && r.field.at("job") == "slow") {
			CHECK(slow_alive.empty());
			slow_alive.insert(r.field.at("task"));
			++slow_runs;
		} else if (r.kind == "end" && r.field.at("job") == "slow") {
			CHECK(r.field.at("state") == "TASK_FINISHED");
			slow_alive.erase(r.field.at("task"));
		} else if (r.kind == "tick skip" && r.field.at("job") == "slow") {
			CHECK(slow_alive.count(r.field.at("running")) == 1);
			++slow_skips;
		}
	}
	CHECK(slow_runs >= 2);
	CHECK(slow_skips >= slow_runs); // 2.5 s runs on a 1 s schedule: at least two skips a run, but the last

	// doomed: launched once, killed by the change.
	const std::size_t killed_at = index_of(rs, "end task=doomed-0 job=doomed state=TASK_KILLED");
	CHECK(killed_at > change_at);
	CHECK(killed_at < rs.size());
	CHECK(index_of(rs, "launched task=doomed-1") == rs.size());
	const record &summary = rs[index_of(rs, "summary")];
	CHECK(summary.number("reconfigured") == 1);
	CHECK(summary.number("killed") == 1);
	CHECK(summary.number("failed") == 0);
}

TEST_CASE("mesos_cron against inger-mesos-local (a separate process) with --master") {
	temp_dir dir;
	rt_tools::child master({INGER_MESOS_LOCAL, "--port", "0", "--agents", "2", "--work-dir", dir.path.string()});
	std::string ready;
	REQUIRE(master.wait_line("READY ", 10 * th::slack, ready));
	fs::path jobs = dir.path / "jobs";
	replace_file(jobs, "tick * * * * * * echo tick\n");
	rt_tools::child cron({MESOS_CRON, "--master", ready.substr(6), "--config", jobs.string(), "--seconds", "4"});
	int status = cron.wait_exit(15 * th::slack);
	INFO("stdout:\n" << cron.out() << "stderr:\n" << cron.err());
	REQUIRE(status == 0);
	CHECK(cron.out().find("embedded cluster") == std::string::npos);
	std::vector<record> rs = records(cron.out());
	int finished = 0;
	for (const record &r : rs)
		finished += r.kind == "end" && r.field.at("state") == "TASK_FINISHED";
	CHECK(finished >= 2);
}

TEST_CASE("mesos_cron's bad input: an invalid job file, bad flags, an unreachable master") {
	temp_dir dir;
	fs::path jobs = dir.path / "jobs";
	replace_file(jobs, "ok * * * * * * true\nbad 0 0 0 31 2 * true\n");
	{
		rt_tools::child cron({MESOS_CRON, "--config", jobs.string()});
		CHECK(cron.wait_exit(10 * th::slack) == 2);
		CHECK(cron.err().find("line 2: schedule: never matches: no month in \"2\" has a day in \"31\"") !=
		      std::string::npos);
	}
	for (std::vector<std::string> flags : {std::vector<std::string>{"--seconds", "-1"}, {"--seconds"},
	                                       {"--frobnicate", "1"}, {"--config", (dir.path / "missing").string()},
	                                       {"--master", "not a master"}}) {
		std::vector<std::string> argv{MESOS_CRON};
		argv.insert(argv.end(), flags.begin(), flags.end());
		rt_tools::child cron(argv);
		INFO(flags.front() << ": " << cron.err());
		CHECK(cron.wait_exit(10 * th::slack) == 2);
		CHECK(cron.err().find("usage: mesos_cron") != std::string::npos);
	}
	{
		// Port 1 on loopback: nothing listens; the run ends on time and says why it failed.
		rt_tools::child cron({MESOS_CRON, "--master", "127.0.0.1:1", "--seconds", "2"});
		CHECK(cron.wait_exit(10 * th::slack) == 1);
		CHECK(cron.err().find("never subscribed to 127.0.0.1:1") != std::string::npos);
	}
}
