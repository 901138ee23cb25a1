// test_mesos_cron_converge.cpp — the cron example's pure decisions (examples/mesos/cron/
// converge.hpp): configuration changes, ticks and the skip rule, and the job file they start from.
#include "cron/converge.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>

using namespace std::chrono;
using cron::decision;
using cron::running_task;
using kind = cron::decision::kind;

namespace {

cron::jobs config(const std::string &text) { return cron::parse_jobs(text); }

std::vector<std::string> lines(const std::vector<decision> &ds) {
	std::vector<std::string> out;
	for (const auto &d : ds)
		out.push_back(cron::to_string(d));
	return out;
}

sys_seconds T(long s) { return sys_seconds(seconds(s)); } // 1764770400 is 2025-12-03 14:00:00 UTC

} // namespace

TEST_CASE("job files: comments, blanks, tabs and CRLF, and the command is the rest of the line") {
	cron::jobs j = config("# nightly\n\n  backup  0 0 3 * * *   tar czf /tmp/b.tgz  /srv  \r\n"
	                      "tick\t*/2 * * * * *\techo \"$MESOS_TASK_ID\"\n#last\n");
	REQUIRE(j.size() == 2);
	CHECK(j.at("backup").command == "tar czf /tmp/b.tgz  /srv");
	CHECK(j.at("backup").schedule.text() == "0 0 3 * * *");
	CHECK(j.at("tick").command == "echo \"$MESOS_TASK_ID\"");
	CHECK(config("").empty());
	CHECK(config("# nothing\n\n").empty());
}

TEST_CASE("bad job files are config_errors naming the line") {
	auto error_of = [](const std::string &text) -> std::string {
		try {
			cron::parse_jobs(text);
			return "";
		} catch (const cron::config_error &e) {
			return e.what();
		}
	};
	CHECK(error_of("a * * * * * * true\nb * * * * * * true\na * * * * * * false\n") ==
	      "line 3: job \"a\" is already defined on line 1");
	CHECK(error_of("\na * * * * *\n") == "line 2: job \"a\": expected 6 schedule fields and a command");
	CHECK(error_of("a * * * * * *\n") == "line 1: job \"a\" has no command");
	CHECK(error_of("a * * * * * *   \t\n") == "line 1: job \"a\" has no command");
	CHECK(error_of("a 61 * * * * * true") == "line 1: schedule: field 1 (second) \"61\": 61 is out of range 0-59");
	CHECK(error_of("a/b * * * * * * true") ==
	      "line 1: the job name \"a/b\" has '/': names are [A-Za-z0-9_.-], starting with a letter or digit");
	CHECK(error_of("-a * * * * * * true") ==
	      "line 1: the job name \"-a\" has '-': names are [A-Za-z0-9_.-], starting with a letter or digit");
	CHECK(error_of(std::string(65, 'x') + " * * * * * * true") ==
	      "line 1: the job name \"" + std::string(64, 'x') + "...\" is longer than 64 characters");
	CHECK(error_of("a * * * * * * echo \x01") == "line 1: control character 0x01");
	CHECK(error_of(std::string(cron::max_config_bytes + 1, '#')) == "the configuration is larger than 1048576 bytes");
}

TEST_CASE("converge: the same configuration keeps every job and kills nothing") {
	auto c = config("a */2 * * * * * true\nb * * * * * * sleep 3\n");
	std::vector<running_task> running{{"b-0", "b"}};
	CHECK(lines(cron::converge(c, c, running)) == std::vector<std::string>{"keep job=a", "keep job=b"});
	// A schedule written differently with the same times is the same schedule.
	CHECK(lines(cron::converge(c, config("a 0-59/2 * * * * * true\nb * * * * * * sleep 3\n"), running)) ==
	      std::vector<std::string>{"keep job=a", "keep job=b"});
}

TEST_CASE("converge: first configuration adds, empty one removes and kills what runs") {
	auto c = config("b * * * * * * true\na */20 * * * * * true\n");
	CHECK(lines(cron::converge({}, c, {})) ==
	      std::vector<std::string>{"add job=a why=\"schedule \\\"*/20 * * * * *\\\"\"",
	                               "add job=b why=\"schedule \\\"* * * * * *\\\"\""});
	CHECK(lines(cron::converge(c, {}, {{"b-3", "b"}, {"a-1", "a"}, {"a-0", "a"}})) ==
	      std::vector<std::string>{"kill job=a task=a-0 why=\"job removed\"", "kill job=a task=a-1 why=\"job removed\"",
	                               "remove job=a", "kill job=b task=b-3 why=\"job removed\"", "remove job=b"});
	CHECK(cron::converge({}, {}, {}).empty());
}

TEST_CASE("converge: a changed command kills the running instance, a changed schedule does not") {
	auto old_jobs = config("cmd * * * * * * sleep 3\nsched * * * * * * sleep 3\nboth * * * * * * sleep 3\n");
	auto new_jobs = config("cmd * * * * * * sleep 4\nsched */5 * * * * * sleep 3\nboth */5 * * * * * sleep 4\n");
	std::vector<running_task> running{{"cmd-7", "cmd"}, {"sched-2", "sched"}, {"both-1", "both"}};
	CHECK(lines(cron::converge(old_jobs, new_jobs, running)) ==
	      std::vector<std::string>{
	          "kill job=both task=both-1 why=\"command changed\"",
	          "replace job=both why=\"command changed, schedule \\\"* * * * * *\\\" -> \\\"*/5 * * * * *\\\"\"",
	          "kill job=cmd task=cmd-7 why=\"command changed\"", "replace job=cmd why=\"command changed\"",
	          "reschedule job=sched why=\"\\\"* * * * * *\\\" -> \\\"*/5 * * * * *\\\"\""});
	// Nothing running: the same decisions without kills.
	CHECK(lines(cron::converge(old_jobs, new_jobs, {})) ==
	      std::vector<std::string>{
	          "replace job=both why=\"command changed, schedule \\\"* * * * * *\\\" -> \\\"*/5 * * * * *\\\"\"",
	          "replace job=cmd why=\"command changed\"",
	          "reschedule job=sched why=\"\\\"* * * * * *\\\" -> \\\"*/5 * * * * *\\\"\""});
}

TEST_CASE("converge: tasks of jobs neither configuration knows are killed last, by task id") {
	auto c = config("a * * * * * * true\n");
	CHECK(lines(cron::converge(c, c, {{"zz-1", "zz"}, {"a-1", "a"}, {"old-9", "old"}})) ==
	      std::vector<std::string>{"keep job=a", "kill job=old task=old-9 why=\"no such job\"",
	                               "kill job=zz task=zz-1 why=\"no such job\""});
}

TEST_CASE("converge, on random configurations: every job decided once, exactly the stale tasks killed") {
	std::mt19937 rng(99);
	const char *schedules[] = {"* * * * * *", "*/2 * * * * *", "0,2,4,6,8,10,12,14,16,18,20,22,24,26,28,30,32,34,36,38,"
	                           "40,42,44,46,48,50,52,54,56,58 * * * * *", "0 * * * * *"};
	const char *commands[] = {"true", "sleep 1", "false"};
	auto random_jobs = [&] {
		std::string text;
		for (int i = 0; i < 8; ++i)
			if (rng() % 2)
				text += "j" + std::to_string(i) + " " + schedules[rng() % 4] + " " + commands[rng() % 3] + "\n";
		return config(text);
	};
	for (int round = 0; round < 2000; ++round) {
		cron::jobs a = random_jobs(), b = random_jobs();
		std::vector<running_task> running;
		for (int i = 0; i < 10; ++i)
			if (rng() % 3 == 0)
				running.push_back({"j" + std::to_string(i) + "-" + std::to_string(rng() % 3), "j" + std::to_string(i)});
		std::sort(running.begin(), running.end(), [](auto &x, auto &y) { return x.task_id < y.task_id; });
		running.erase(std::unique(running.begin(), running.end()), running.end());
		std::shuffle(running.begin(), running.end(), rng);

		std::vector<decision> ds = cron::converge(a, b, running);
		REQUIRE(ds == cron::converge(a, b, running)); // deterministic
		std::set<std::string> decided, killed, expected_kills;
		for (const auto &d : ds) {
			if (d.what == kind::kill) {
				REQUIRE(killed.insert(d.task_id).second);
				continue;
			}
			REQUIRE(decided.insert(d.job).second);
			bool in_a = a.count(d.job), in_b = b.count(d.job);
			REQUIRE(d.what == (!in_a ? kind::add : !in_b ? kind::remove
			                          : a.at(d.job).command != b.at(d.job).command ? kind::replace
			                          : a.at(d.job).schedule == b.at(d.job).schedule ? kind::keep : kind::reschedule));
		}
		for (const auto &[name, j] : a)
			REQUIRE(decided.count(name));
		for (const auto &[name, j] : b)
			REQUIRE(decided.count(name));
		for (const auto &r : running) {
			// Removed jobs and orphans, and jobs whose command changed.
			bool stale = !b.count(r.job) || (a.count(r.job) && a.at(r.job).command != b.at(r.job).command);
			if (stale)
				expected_kills.insert(r.task_id);
		}
		REQUIRE(killed == expected_kills);
	}
}

TEST_CASE("due: a job launches on its ticks, and skips them while an instance runs") {
	auto c = config("even */2 * * * * * true\nall * * * * * * sleep 3\n");
	const long t0 = 1764770400; // even
	CHECK(lines(cron::due(c, T(t0), T(t0 + 1), {})) == std::vector<std::string>{"launch job=all due=1764770401"});
	CHECK(lines(cron::due(c, T(t0 + 1), T(t0 + 2), {})) ==
	      std::vector<std::string>{"launch job=all due=1764770402", "launch job=even due=1764770402"});
	CHECK(lines(cron::due(c, T(t0 + 1), T(t0 + 2), {{"all-4", "all"}, {"even-1", "even"}})) ==
	      std::vector<std::string>{"skip job=all running=all-4 due=1764770402", "skip job=even running=even-1 due=1764770402"});
	// Only the job's own instances count.
	CHECK(lines(cron::due(c, T(t0 + 1), T(t0 + 2), {{"all-4", "all"}})) ==
	      std::vector<std::string>{"skip job=all running=all-4 due=1764770402", "launch job=even due=1764770402"});
	CHECK(cron::due(c, T(t0 + 2), T(t0 + 2), {}).empty());
	CHECK(cron::due(c, T(t0 + 3), T(t0 + 2), {}).empty()); // the clock went back
	CHECK(cron::due({}, T(t0), T(t0 + 100), {}).empty());
}

TEST_CASE("due: many ticks in one interval (a stalled clock) are one decision at the first") {
	auto c = config("even */2 * * * * * true\nminute 0 * * * * * true\n");
	const long t0 = 1764770400; // 14:00:00
	CHECK(lines(cron::due(c, T(t0), T(t0 + 10), {})) ==
	      std::vector<std::string>{"launch job=even due=1764770402 why=\"later ticks up to 1764770410 coalesced\""});
	CHECK(lines(cron::due(c, T(t0 - 1), T(t0 + 1), {{"even-0", "even"}})) ==
	      std::vector<std::string>{"skip job=even running=even-0 due=1764770400",
	                               "launch job=minute due=1764770400"});
}

TEST_CASE("due, driven like the framework's clock: a 3-second job on a 1-second schedule runs every third tick") {
	auto c = config("slow * * * * * * sleep 2.5\n");
	const long t0 = 1764770400;
	std::vector<running_task> running;
	long ends_at = 0;
	int launches = 0, skips = 0, serial = 0;
	// Round t decides the tick at second t + 1, at that second.
	for (long t = t0; t < t0 + 30; ++t) {
		if (!running.empty() && t + 1 >= ends_at)
			running.clear(); // TASK_FINISHED arrived before this tick
		for (const auto &d : cron::due(c, T(t), T(t + 1), running)) {
			REQUIRE(d.due == T(t + 1));
			if (d.what == kind::launch) {
				++launches;
				running.push_back({"slow-" + std::to_string(serial++), "slow"});
				ends_at = t + 1 + 3; // 2.5 s and the updates' latency after its due second
			} else {
				REQUIRE(d.what == kind::skip);
				REQUIRE(d.task_id == running.front().task_id);
				++skips;
			}
		}
	}
	CHECK(launches == 10);
	CHECK(skips == 20);
}
