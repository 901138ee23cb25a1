// test_mesos_cron_schedule.cpp — the cron example's schedules (examples/mesos/cron/schedule.hpp):
// parsing, errors, matching and next times, against hand-worked dates and an independent oracle.
#include "cron/schedule.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace std::chrono;
using cron::Schedule;
using cron::schedule_error;

namespace {

sys_seconds at(year_month_day d, int h = 0, int m = 0, int s = 0) {
	return sys_days(d) + hours(h) + minutes(m) + seconds(s);
}

// The parse error's text, or "" if it parsed.
std::string error_of(const std::string &text) {
	try {
		Schedule::parse(text);
		return "";
	} catch (const schedule_error &e) {
		return e.what();
	}
}

} // namespace

TEST_CASE("every 20 seconds: */20 matches :00, :20 and :40 and nothing else") {
	Schedule s = Schedule::parse("*/20 * * * * *");
	auto base = at(2026y / December / 3, 14, 5);
	for (int sec = 0; sec < 60; ++sec)
		CHECK(s.matches(base + seconds(sec)) == (sec % 20 == 0));
	CHECK(s.next_after(base + seconds(5)) == base + seconds(20));
	CHECK(s.next_after(base + seconds(20)) == base + seconds(40)); // strictly after
	CHECK(s.next_after(base + seconds(40)) == base + minutes(1));
	CHECK(s.next_after(base - seconds(1)) == base);
}

TEST_CASE("values, ranges, steps and lists in each field") {
	auto day = at(2026y / December / 3); // a Thursday
	CHECK(Schedule::parse("10/15 * * * * *").next_after(day) == day + seconds(10));
	CHECK(Schedule::parse("10/15 * * * * *").next_after(day + seconds(40)) == day + seconds(55));
	CHECK(Schedule::parse("10/15 * * * * *").next_after(day + seconds(55)) == day + minutes(1) + seconds(10));
	Schedule r = Schedule::parse("1-10/3 * * * * *");
	for (int sec = 0; sec < 60; ++sec)
		CHECK(r.matches(day + seconds(sec)) == (sec == 1 || sec == 4 || sec == 7 || sec == 10));
	Schedule l = Schedule::parse("0 5,17,58-59 * * * *");
	CHECK(l.next_after(day) == day + minutes(5));
	CHECK(l.next_after(day + minutes(5)) == day + minutes(17));
	CHECK(l.next_after(day + minutes(17)) == day + minutes(58));
	CHECK(l.next_after(day + minutes(58)) == day + minutes(59));
	CHECK(l.next_after(day + minutes(59)) == day + hours(1) + minutes(5));
	CHECK(Schedule::parse("30 15 9 * * *").next_after(day + hours(10)) == at(2026y / December / 4, 9, 15, 30));
}

TEST_CASE("months and weekdays by name, any case, and 7 as Sunday") {
	CHECK(Schedule::parse("0 0 0 * * 7") == Schedule::parse("0 0 0 * * 0"));
	CHECK(Schedule::parse("0 0 0 * * 7") == Schedule::parse("0 0 0 * * sun"));
	CHECK(Schedule::parse("0 0 0 * jan-Mar *") == Schedule::parse("0 0 0 * 1-3 *"));
	CHECK(Schedule::parse("0 0 0 * * MON-FRI") == Schedule::parse("0 0 0 * * 1-5"));
	CHECK(Schedule::parse("0 0 0 * * 5-7") == Schedule::parse("0 0 0 * * 0,5,6"));
	// From Thursday 2026-12-03: the next weekend day is Saturday the 5th.
	CHECK(Schedule::parse("0 0 12 * * SAT,SUN").next_after(at(2026y / December / 3)) ==
	      at(2026y / December / 5, 12));
	CHECK(Schedule::parse("0 0 0 1 FEB *").next_after(at(2026y / December / 3)) == at(2027y / February / 1));
}

TEST_CASE("day of month OR day of week when both are restricted (Vixie cron), AND otherwise") {
	Schedule either = Schedule::parse("0 0 0 13 * FRI");
	// From Thursday 2026-12-03: Friday the 4th comes before the 13th.
	CHECK(either.next_after(at(2026y / December / 3)) == at(2026y / December / 4));
	CHECK(either.matches(at(2026y / December / 13))); // a Sunday, but the 13th
	Schedule fridays = Schedule::parse("0 0 0 * * FRI");
	CHECK(!fridays.matches(at(2026y / December / 13)));
	Schedule thirteenths = Schedule::parse("0 0 0 13 * ?");
	CHECK(!thirteenths.matches(at(2026y / December / 4)));
	CHECK(thirteenths.next_after(at(2026y / December / 3)) == at(2026y / December / 13));
	// A step in a day field restricts it (only `*` and `?` do not).
	CHECK(Schedule::parse("0 0 0 */2 * MON").matches(at(2026y / December / 7))); // Monday the 7th
	CHECK(Schedule::parse("0 0 0 */2 * MON").matches(at(2026y / December / 3))); // Thursday the 3rd
	CHECK(!Schedule::parse("0 0 0 */2 * MON").matches(at(2026y / December / 4)));
	// Same fields, different rule: not equal.
	CHECK(!(Schedule::parse("0 0 0 1-31 * MON") == Schedule::parse("0 0 0 * * MON")));
}

TEST_CASE("month ends, leap days, year ends and times before 1970") {
	CHECK(Schedule::parse("0 0 0 31 * *").next_after(at(2026y / April / 1)) == at(2026y / May / 31));
	CHECK(Schedule::parse("0 0 0 29 2 *").next_after(at(2025y / January / 1)) == at(2028y / February / 29));
	// 2100 is not a leap year: from 2097 the next February 29 is in 2104.
	CHECK(Schedule::parse("0 0 0 29 FEB *").next_after(at(2097y / January / 1)) == at(2104y / February / 29));
	CHECK(Schedule::parse("0 0 0 1 1 *").next_after(at(2026y / December / 31, 23, 59, 59)) == at(2027y / January / 1));
	CHECK(Schedule::parse("* * * * * *").next_after(at(2026y / December / 31, 23, 59, 59)) == at(2027y / January / 1));
	CHECK(Schedule::parse("0 0 12 * * *").next_after(at(1960y / March / 1, 13)) == at(1960y / March / 2, 12));
	// April only; Mondays or the 31st (which April has not): the first Monday of April 2027.
	CHECK(Schedule::parse("0 0 0 31 4 MON").next_after(at(2026y / December / 3)) == at(2027y / April / 5));
}

TEST_CASE("next_after ends: nothing past the year 9999") {
	CHECK(!Schedule::parse("0 0 0 1 1 *").next_after(at(9999y / June / 1)));
	CHECK(Schedule::parse("0 0 0 1 12 *").next_after(at(9999y / June / 1)) == at(9999y / December / 1));
}

TEST_CASE("the text is kept, blanks normalised, and equality is by times") {
	Schedule s = Schedule::parse("  */20\t*  *\t\t* * *  ");
	CHECK(s.text() == "*/20 * * * * *");
	CHECK(s == Schedule::parse("0,20,40 * * * * *"));
	CHECK(s == Schedule::parse("0-59/20 * * * * *"));
	CHECK(!(s == Schedule::parse("*/10 * * * * *")));
	CHECK(!(Schedule::parse("* * * * * *") == Schedule::parse("*/2 * * * * *")));
}

TEST_CASE("bad schedules are clear errors naming the field and the problem") {
	CHECK(error_of("") == "expected 6 fields (second minute hour day-of-month month day-of-week), got 0");
	CHECK(error_of("* * * * *") == "expected 6 fields (second minute hour day-of-month month day-of-week), got 5");
	CHECK(error_of("* * * * * * *") == "expected 6 fields (second minute hour day-of-month month day-of-week), got 7");
	CHECK(error_of("60 * * * * *") == "field 1 (second) \"60\": 60 is out of range 0-59");
	CHECK(error_of("* 60 * * * *") == "field 2 (minute) \"60\": 60 is out of range 0-59");
	CHECK(error_of("* * 24 * * *") == "field 3 (hour) \"24\": 24 is out of range 0-23");
	CHECK(error_of("* * * 0 * *") == "field 4 (day-of-month) \"0\": 0 is out of range 1-31");
	CHECK(error_of("* * * * 13 *") == "field 5 (month) \"13\": 13 is out of range 1-12");
	CHECK(error_of("* * * * * 8") == "field 6 (day-of-week) \"8\": 8 is out of range 0-7");
	CHECK(error_of("99999999999999999999999 * * * * *") ==
	      "field 1 (second) \"99999999999999999999999\": 99999999999999999999999 is out of range 0-59");
	CHECK(error_of("*/0 * * * * *") == "field 1 (second) \"*/0\": the step 0 is out of range 1-60");
	CHECK(error_of("*/61 * * * * *") == "field 1 (second) \"*/61\": the step 61 is out of range 1-60");
	CHECK(error_of("*/ * * * * *") == "field 1 (second) \"*/\": a step is missing after '/'");
	CHECK(error_of("*/x * * * * *") == "field 1 (second) \"*/x\": the step \"x\" is not a number");
	CHECK(error_of("1/2/3 * * * * *") == "field 1 (second) \"1/2/3\": more than one '/' in \"1/2/3\"");
	CHECK(error_of("5-1 * * * * *") == "field 1 (second) \"5-1\": the range 5-1 is backwards");
	CHECK(error_of("-5 * * * * *") == "field 1 (second) \"-5\": a value is missing");
	CHECK(error_of("1-2-3 * * * * *") == "field 1 (second) \"1-2-3\": \"2-3\" is not a number");
	CHECK(error_of("1,,2 * * * * *") ==
	      "field 1 (second) \"1,,2\": an empty item (two commas, or a comma at an end)");
	CHECK(error_of("1, * * * * *") == "field 1 (second) \"1,\": an empty item (two commas, or a comma at an end)");
	CHECK(error_of("a * * * * *") == "field 1 (second) \"a\": \"a\" is not a number");
	CHECK(error_of("1a * * * * *") == "field 1 (second) \"1a\": \"1a\" is not a number");
	CHECK(error_of("* * * * FOO *") == "field 5 (month) \"FOO\": \"FOO\" is not a number or a name (JAN, FEB...)");
	CHECK(error_of("* * * * * MONDAY") ==
	      "field 6 (day-of-week) \"MONDAY\": \"MONDAY\" is not a number or a name (SUN, MON...)");
	CHECK(error_of("? * * * * *") == "field 1 (second) \"?\": '?' is only for the day fields");
	CHECK(error_of("* * * * * *;") == "unexpected character ';' at column 12");
	CHECK(error_of(std::string("* * * * * *\0", 12)) == "unexpected character 0x00 at column 12");
	CHECK(error_of("* * * * * \xff") == "unexpected character 0xff at column 11");
	CHECK(error_of("* * * * * *\n") == "unexpected character 0x0a at column 12");
	CHECK(error_of(std::string(1025, '*')) == "a schedule is at most 1024 characters (this one has 1025)");
	CHECK(error_of("0 0 0 31 4 *") == "never matches: no month in \"4\" has a day in \"31\"");
	CHECK(error_of("0 0 0 30,31 FEB *") == "never matches: no month in \"FEB\" has a day in \"30,31\"");
	CHECK(error_of("0 0 0 31 4,6,9,11 ?") == "never matches: no month in \"4,6,9,11\" has a day in \"31\"");
	CHECK(error_of("0 0 0 31 4,5 *") == ""); // May has a 31st
	CHECK(error_of("0 0 0 29 2 *") == "");   // leap years
}
