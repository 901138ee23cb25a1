// schedule.hpp — cron schedules with seconds: "*/20 * * * * *" (the cron example's library piece).
//
//   cron::Schedule s = cron::Schedule::parse("*/20 * * * * *");   // throws cron::schedule_error
//   std::optional<sys_seconds> next = s.next_after(now);          // the first match after now
//
// Six fields separated by blanks, seconds first, all in UTC:
//   second 0-59, minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
//   day-of-week 0-7 or SUN-SAT (0 and 7 are Sunday).
// A field is a comma-separated list of items; an item is `*`, a value `n`, a range `a-b`
// (a <= b), each optionally followed by `/step` (every step-th value of the item, from its
// first; `a/step` means a to the field's maximum). `?` means `*` in the two day fields. Names
// are case-insensitive.
// Days, as Vixie cron: when both day fields are restricted (neither is `*` or `?`), a day
// matches if EITHER matches; otherwise the restricted one decides.
// A schedule that can never match (e.g. "0 0 0 31 4 *": April has 30 days) is rejected when
// parsed, so next_after always finds a time (within 8 years: February 29 included).
//
// Errors say where and what, e.g.
//   field 3 (hour) "25": 25 is out of range 0-23
//   expected 6 fields (second minute hour day-of-month month day-of-week), got 5
#ifndef INGER_EXAMPLES_MESOS_CRON_SCHEDULE_HPP
#define INGER_EXAMPLES_MESOS_CRON_SCHEDULE_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cron {

using sys_seconds = std::chrono::sys_seconds;

struct schedule_error : std::invalid_argument {
	using std::invalid_argument::invalid_argument;
};

class Schedule {
public:
	// At most max_text characters; throws schedule_error (what(): the reason).
	static Schedule parse(std::string_view text);
	static constexpr std::size_t max_text = 1024;

	// Whether the second t matches.
	bool matches(sys_seconds t) const;
	// The first matching second strictly after t (nullopt only past the year 9999).
	std::optional<sys_seconds> next_after(sys_seconds t) const;

	// The text as given, blanks between fields normalised to one space.
	const std::string &text() const { return text_; }

	// Same values in every field (not the same text): "*/20 * * * * *" == "0,20,40 * * * * *".
	bool operator==(const Schedule &other) const;

private:
	bool day_matches(unsigned day_of_month, unsigned weekday) const; // weekday: Sunday 0

	std::string text_;
	std::uint64_t seconds_ = 0, minutes_ = 0; // bit n: value n
	std::uint32_t hours_ = 0, days_ = 0;      // days_: bit 1..31
	std::uint16_t months_ = 0;                // bit 1..12
	std::uint8_t weekdays_ = 0;               // bit 0..6, Sunday 0
	bool days_restricted_ = false, weekdays_restricted_ = false;
};

} // namespace cron

#endif
