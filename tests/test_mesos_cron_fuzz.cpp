// test_mesos_cron_fuzz.cpp — the cron example's parsers under random input: schedules
// generated with known meaning checked against an independent oracle (gmtime_r, sets built
// here), and 100 000 random or mutated schedules plus mutated job files that must parse or be
// rejected with a schedule_error/config_error, never crash or throw anything else. Seeded:
// a failure names the seed and the input.
#include "cron/jobs.hpp"
#include "cron/schedule.hpp"

#include <catch2/catch.hpp>

#include <ctime>
#include <random>
#include <set>
#include <string>

using namespace std::chrono;
using cron::Schedule;

namespace {

struct field {
	unsigned min, max; // day-of-week: 0-7
	std::vector<std::string> names; // value min + i (months from 1, weekdays from 0)
	bool days;
};

const field fields[6] = {
    {0, 59, {}, false}, {0, 59, {}, false}, {0, 23, {}, false}, {1, 31, {}, true},
    {1, 12, {"JAN", "feb", "Mar", "APR", "may", "JUN", "JUL", "aug", "SEP", "OCT", "nov", "DEC"}, false},
    {0, 7, {"SUN", "mon", "Tue", "WED", "thu", "FRI", "sat"}, true},
};

// A generated schedule: its text and what each field means.
struct generated {
	std::string text;
	std::set<unsigned> values[6];
	bool restricted[6];
};

unsigned pick(std::mt19937 &rng, unsigned low, unsigned high) {
	return std::uniform_int_distribution<unsigned>(low, high)(rng);
}

std::string value_text(std::mt19937 &rng, const field &f, unsigned v) {
	if (!f.names.empty() && v - f.min < f.names.size() && pick(rng, 0, 2) == 0)
		return f.names[v - f.min];
	return std::to_string(v);
}

std::string generate_field(std::mt19937 &rng, const field &f, std::set<unsigned> &values) {
	std::string text;
	unsigned items = pick(rng, 0, 3) == 0 ? pick(rng, 2, 3) : 1;
	for (unsigned i = 0; i < items; ++i) {
		unsigned first = f.min, last = f.max, step = 1;
		std::string item;
		switch (pick(rng, 0, 6)) {
		case 0: item = f.days && pick(rng, 0, 1) ? "?" : "*"; break;
		case 1: step = pick(rng, 1, f.max - f.min + 1); item = "*/" + std::to_string(step); break;
		case 2: first = last = pick(rng, f.min, f.max); item = value_text(rng, f, first); break;
		case 3:
		case 4:
			first = pick(rng, f.min, f.max);
			last = pick(rng, first, f.max);
			item = value_text(rng, f, first) + "-" + value_text(rng, f, last);
			break;
		case 5:
			first = pick(rng, f.min, f.max);
			last = pick(rng, first, f.max);
			step = pick(rng, 1, f.max - f.min + 1);
			item = std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(step);
			break;
		default:
			first = pick(rng, f.min, f.max);
			step = pick(rng, 1, f.max - f.min + 1);
			item = value_text(rng, f, first) + "/" + std::to_string(step);
			break;
		}
		for (unsigned v = first; v <= last; v += step)
			values.insert(f.max == 7 && v == 7 ? 0 : v);
		text += (i ? "," : "") + item;
	}
	return text;
}

generated generate(std::mt19937 &rng) {
	generated g;
	for (int i = 0; i < 6; ++i) {
		// Mostly '*' in the slow fields, so that next times are near enough to check all between.
		bool star = i >= 2 && pick(rng, 0, 3) != 0;
		std::string text = star ? "*" : generate_field(rng, fields[i], g.values[i]);
		if (star)
			for (unsigned v = fields[i].min; v <= fields[i].max; ++v)
				g.values[i].insert(fields[i].max == 7 && v == 7 ? 0 : v);
		g.restricted[i] = text != "*" && text != "?";
		g.text += (i ? std::string(pick(rng, 1, 2), pick(rng, 0, 1) ? ' ' : '\t') : std::string()) + text;
	}
	return g;
}

bool oracle(const generated &g, sys_seconds t) {
	std::time_t tt = t.time_since_epoch().count();
	std::tm tm{};
	gmtime_r(&tt, &tm);
	auto has = [&](int f, int v) { return g.values[f].count(static_cast<unsigned>(v)) > 0; };
	bool dom = has(3, tm.tm_mday), dow = has(5, tm.tm_wday);
	bool day = g.restricted[3] && g.restricted[5] ? dom || dow : dom && dow;
	return has(0, tm.tm_sec) && has(1, tm.tm_min) && has(2, tm.tm_hour) && day && has(4, tm.tm_mon + 1);
}

bool possible(const generated &g) {
	if (!g.restricted[3] || g.restricted[5])
		return true;
	const unsigned longest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	for (unsigned m : g.values[4])
		if (*g.values[3].begin() <= longest[m])
			return true;
	return false;
}

sys_seconds random_time(std::mt19937 &rng) { // 1950 to 2150
	return sys_seconds(seconds(std::uniform_int_distribution<std::int64_t>(-631152000, 5680281600)(rng)));
}

} // namespace

TEST_CASE("generated schedules match exactly the times an independent oracle says") {
	const unsigned seed = 20261203;
	std::mt19937 rng(seed);
	int checked_gaps = 0, rejected = 0;
	for (int n = 0; n < 3000; ++n) {
		generated g = generate(rng);
		INFO("seed " << seed << ", schedule #" << n << ": \"" << g.text << "\"");
		if (!possible(g)) {
			CHECK_THROWS_WITH(Schedule::parse(g.text), Catch::Contains("never matches"));
			++rejected;
			continue;
		}
		Schedule s = Schedule::parse(g.text);
		for (int k = 0; k < 20; ++k) {
			sys_seconds t = random_time(rng);
			REQUIRE(s.matches(t) == oracle(g, t));
		}
		sys_seconds t = random_time(rng);
		for (int k = 0; k < 5; ++k) {
			auto next = s.next_after(t);
			REQUIRE(next);
			REQUIRE(*next > t);
			REQUIRE(oracle(g, *next));
			if (*next - t <= seconds(900)) { // nothing matched in between
				++checked_gaps;
				sys_seconds u = t + seconds(1);
				while (u < *next && !oracle(g, u))
					u += seconds(1);
				INFO("after " << t.time_since_epoch().count() << ": " << u.time_since_epoch().count()
				              << " matches, next_after said " << next->time_since_epoch().count());
				REQUIRE(u == *next);
			}
			t = *next;
		}
	}
	CHECK(checked_gaps > 3000); // the dense cases were many: the gap check did run
	INFO(rejected << " never-matching schedules were generated");
}

TEST_CASE("every day-of-month and month pair: accepted exactly when that day exists in that month") {
	const unsigned longest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	for (unsigned m = 1; m <= 12; ++m)
		for (unsigned d = 1; d <= 31; ++d) {
			std::string text = "0 0 0 " + std::to_string(d) + " " + std::to_string(m) + " *";
			INFO(text);
			if (d <= longest[m]) {
				Schedule s = Schedule::parse(text);
				auto next = s.next_after(sys_days(2026y / January / 1));
				REQUIRE(next);
				CHECK(year_month_day(floor<days>(*next)) >= 2026y / January / 1);
				CHECK(unsigned(year_month_day(floor<days>(*next)).day()) == d);
			} else {
				CHECK_THROWS_WITH(Schedule::parse(text), Catch::Contains("never matches"));
				// With a weekday too, either rule can fire: accepted.
				CHECK_NOTHROW(Schedule::parse("0 0 0 " + std::to_string(d) + " " + std::to_string(m) + " MON"));
			}
		}
}

TEST_CASE("100000 random and mutated schedules: each parses or is a schedule_error, never a crash") {
	const unsigned seed = 4242;
	std::mt19937 rng(seed);
	const std::vector<std::string> tokens = {"*", "?", "/", "-", ",", " ", " ", "\t", "0", "7", "59", "60", "31",
	                                         "12", "1", "99999999999", "JAN", "mon", "SUN", "xyz", "L", "#"};
	int accepted = 0, rejected = 0;
	for (int n = 0; n < 100000; ++n) {
		std::string text;
		if (n % 2 == 0) {
			unsigned count = pick(rng, 0, 30);
			for (unsigned i = 0; i < count; ++i)
				text += pick(rng, 0, 40) == 0 ? std::string(1, static_cast<char>(pick(rng, 0, 255)))
				                              : tokens[pick(rng, 0, static_cast<unsigned>(tokens.size() - 1))];
		} else {
			text = generate(rng).text; // valid but for never-matching ones, then mutated
			for (unsigned m = pick(rng, 0, 3); m > 0 && !text.empty(); --m) {
				std::size_t at = pick(rng, 0, static_cast<unsigned>(text.size() - 1));
				switch (pick(rng, 0, 2)) {
				case 0: text[at] = static_cast<char>(pick(rng, 0, 255)); break;
				case 1: text.erase(at, 1); break;
				default: text.insert(at, tokens[pick(rng, 0, static_cast<unsigned>(tokens.size() - 1))]); break;
				}
			}
		}
		try {
			Schedule s = Schedule::parse(text);
			++accepted;
			// What parsed is consistent: its text parses to the same schedule, and its next
			// time matches.
			REQUIRE(Schedule::parse(s.text()) == s);
			sys_seconds t = random_time(rng);
			auto next = s.next_after(t);
			REQUIRE(next);
			REQUIRE(*next > t);
			REQUIRE(s.matches(*next));
		} catch (const cron::schedule_error &e) {
			++rejected;
			REQUIRE(std::string(e.what()).size() > 0);
		} catch (const std::exception &e) {
			FAIL("seed " << seed << ", input #" << n << " \"" << text << "\": unexpected " << e.what());
		}
	}
	CHECK(accepted > 10000);
	CHECK(rejected > 10000);
}

TEST_CASE("20000 mutated job files: each parses or is a config_error naming its line") {
	const std::string valid = "# jobs\nbackup  0 */20 * * * *  tar czf /tmp/b.tgz /srv\n\n"
	                          "tick\t*/2 * * * * *\techo tick\r\nweekly 0 0 3 * * SUN  run --weekly\n";
	REQUIRE(cron::parse_jobs(valid).size() == 3);
	const unsigned seed = 7;
	std::mt19937 rng(seed);
	int accepted = 0, rejected = 0;
	for (int n = 0; n < 20000; ++n) {
		std::string text = valid;
		for (unsigned m = pick(rng, 1, 4); m > 0 && !text.empty(); --m) {
			std::size_t at = pick(rng, 0, static_cast<unsigned>(text.size() - 1));
			switch (pick(rng, 0, 3)) {
			case 0: text[at] = static_cast<char>(pick(rng, 0, 255)); break;
			case 1: text.erase(at, pick(rng, 1, 8)); break;
			case 2: text.insert(at, 1, " *\n#\t,"[pick(rng, 0, 5)]); break;
			default: text.insert(at, text.substr(pick(rng, 0, static_cast<unsigned>(text.size() - 1)), 12)); break;
			}
		}
		try {
			cron::jobs j = cron::parse_jobs(text);
			++accepted;
			for (const auto &[name, job] : j) {
				REQUIRE(name == job.name);
				REQUIRE(!job.command.empty());
			}
		} catch (const cron::config_error &e) {
			++rejected;
			REQUIRE(std::string(e.what()).rfind("line ", 0) == 0);
		} catch (const std::exception &e) {
			FAIL("seed " << seed << ", input #" << n << ": unexpected " << e.what());
		}
	}
	CHECK(accepted > 1000);
	CHECK(rejected > 1000);
}
