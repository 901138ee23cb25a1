// schedule.cpp — parsing cron schedules with seconds, and finding their next time (UTC).
#include "schedule.hpp"

#include <array>
#include <bit>
#include <cctype>
#include <cstdio>
#include <vector>

namespace cron {

using namespace std::chrono;

namespace {

struct field_spec {
	const char *name;
	unsigned min, max;                  // values accepted (day-of-week: 0-7)
	const std::array<const char *, 12> *names; // names[i] is value names_base + i
	unsigned names_base;
	bool question; // `?` accepted (the day fields)
};

const std::array<const char *, 12> month_names{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const std::array<const char *, 12> weekday_names{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT",
                                                  nullptr, nullptr, nullptr, nullptr, nullptr};

const std::array<field_spec, 6> fields{{
    {"second", 0, 59, nullptr, 0, false},
    {"minute", 0, 59, nullptr, 0, false},
    {"hour", 0, 23, nullptr, 0, false},
    {"day-of-month", 1, 31, nullptr, 0, true},
    {"month", 1, 12, &month_names, 1, false},
    {"day-of-week", 0, 7, &weekday_names, 0, true},
}};

// A reason for an error inside one field (the caller says which field).
struct field_error {
	std::string reason;
};

unsigned parse_value(std::string_view token, const field_spec &f) {
	if (token.empty())
		throw field_error{"a value is missing"};
	if (std::isdigit(static_cast<unsigned char>(token[0]))) {
		unsigned v = 0;
		for (char c : token) {
			if (!std::isdigit(static_cast<unsigned char>(c)))
				throw field_error{"\"" + std::string(token) + "\" is not a number"};
			if (v > 1000) // far out of every field's range: no overflow
				break;
			v = v * 10 + static_cast<unsigned>(c - '0');
		}
		if (v < f.min || v > f.max)
			throw field_error{std::string(token) + " is out of range " + std::to_string(f.min) + "-" +
			                  std::to_string(f.max)};
		return v;
	}
	if (f.names && token.size() == 3) {
		for (std::size_t i = 0; i < f.names->size(); ++i) {
			const char *name = (*f.names)[i];
			if (!name)
				break;
			bool same = true;
			for (std::size_t k = 0; k < 3; ++k)
				same = same && std::toupper(static_cast<unsigned char>(token[k])) == name[k];
			if (same)
				return f.names_base + static_cast<unsigned>(i);
		}
	}
	throw field_error{"\"" + std::string(token) + "\" is not a number" +
	                  (f.names ? std::string(" or a name (") + (*f.names)[0] + ", " + (*f.names)[1] + "...)" : "")};
}

// One comma-separated item: `*`, `?`, `n`, `a-b`, each with an optional `/step`.
std::uint64_t parse_item(std::string_view item, const field_spec &f) {
	if (item.empty())
		throw field_error{"an empty item (two commas, or a comma at an end)"};
	std::string_view base = item, step_text;
	bool stepped = false;
	if (auto slash = item.find('/'); slash != std::string_view::npos) {
		base = item.substr(0, slash);
		step_text = item.substr(slash + 1);
		stepped = true;
		if (step_text.find('/') != std::string_view::npos)
			throw field_error{"more than one '/' in \"" + std::string(item) + "\""};
	}
	unsigned first, last;
	if (base == "*" || base == "?") {
		if (base == "?" && !f.question)
			throw field_error{"'?' is only for the day fields"};
		first = f.min;
		last = f.max;
	} else if (auto dash = base.find('-'); dash != std::string_view::npos) {
		first = parse_value(base.substr(0, dash), f);
		last = parse_value(base.substr(dash + 1), f);
		if (first > last)
			throw field_error{"the range " + std::string(base) + " is backwards"};
	} else {
		first = parse_value(base, f);
		last = stepped ? f.max : first; // "a/step": from a to the maximum
	}
	unsigned step = 1;
	if (stepped) {
		const unsigned span = f.max - f.min + 1;
		if (step_text.empty())
			throw field_error{"a step is missing after '/'"};
		unsigned v = 0;
		for (char c : step_text) {
			if (!std::isdigit(static_cast<unsigned char>(c)))
				throw field_error{"the step \"" + std::string(step_text) + "\" is not a number"};
			if (v > 1000)
				break;
			v = v * 10 + static_cast<unsigned>(c - '0');
		}
		if (v < 1 || v > span)
			throw field_error{"the step " + std::string(step_text) + " is out of range 1-" + std::to_string(span)};
		step = v;
	}
	std::uint64_t bits = 0;
	for (unsigned v = first; v <= last; v += step)
		bits |= std::uint64_t{1} << v;
	return bits;
}

std::uint64_t parse_field(std::string_view text, const field_spec &f) {
	std::uint64_t bits = 0;
	std::size_t at = 0;
	for (;;) {
		std::size_t comma = text.find(',', at);
		bits |= parse_item(text.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at), f);
		if (comma == std::string_view::npos)
			return bits;
		at = comma + 1;
	}
}

bool blank(char c) { return c == ' ' || c == '\t'; }

unsigned days_in_month_at_most(unsigned month) {
	static constexpr unsigned days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return days[month];
}

// The lowest set bit at or above `from`, or -1.
int next_bit(std::uint64_t bits, unsigned from) {
	if (from >= 64)
		return -1;
	std::uint64_t above = bits & (~std::uint64_t{0} << from);
	return above ? std::countr_zero(above) : -1;
}

} // namespace

Schedule Schedule::parse(std::string_view text) {
	if (text.size() > max_text)
		throw schedule_error("a schedule is at most " + std::to_string(max_text) + " characters (this one has " +
		                     std::to_string(text.size()) + ")");
	for (std::size_t i = 0; i < text.size(); ++i) {
		unsigned char c = static_cast<unsigned char>(text[i]);
		if (!std::isalnum(c) && !blank(static_cast<char>(c)) && c != '*' && c != '?' && c != ',' && c != '-' && c != '/') {
			char shown[8];
			std::snprintf(shown, sizeof shown, std::isprint(c) ? "'%c'" : "0x%02x", c);
			throw schedule_error(std::string("unexpected character ") + shown + " at column " + std::to_string(i + 1));
		}
	}
	std::vector<std::string_view> parts;
	for (std::size_t at = 0; at < text.size();) {
		while (at < text.size() && blank(text[at]))
			++at;
		std::size_t end = at;
		while (end < text.size() && !blank(text[end]))
			++end;
		if (end > at)
			parts.push_back(text.substr(at, end - at));
		at = end;
	}
	if (parts.size() != fields.size())
		throw schedule_error("expected 6 fields (second minute hour day-of-month month day-of-week), got " +
		                     std::to_string(parts.size()));

	Schedule s;
	std::uint64_t bits[6];
	for (std::size_t i = 0; i < fields.size(); ++i) {
		try {
			bits[i] = parse_field(parts[i], fields[i]);
		} catch (const field_error &e) {
			throw schedule_error("field " + std::to_string(i + 1) + " (" + fields[i].name + ") \"" +
			                     std::string(parts[i]) + "\": " + e.reason);
		}
		if (i > 0)
			s.text_ += ' ';
		s.text_ += parts[i];
	}
	s.seconds_ = bits[0];
	s.minutes_ = bits[1];
	s.hours_ = static_cast<std::uint32_t>(bits[2]);
	s.days_ = static_cast<std::uint32_t>(bits[3]);
	s.months_ = static_cast<std::uint16_t>(bits[4]);
	s.weekdays_ = static_cast<std::uint8_t>((bits[5] | (bits[5] >> 7)) & 0x7f); // 7 is Sunday (0)
	s.days_restricted_ = parts[3] != "*" && parts[3] != "?";
	s.weekdays_restricted_ = parts[5] != "*" && parts[5] != "?";

	// With the day of the week unrestricted, the day of the month alone decides: some month
	// must have one of those days, or the schedule never fires.
	if (s.days_restricted_ && !s.weekdays_restricted_) {
		bool possible = false;
		for (unsigned m = 1; m <= 12 && !possible; ++m)
			if (s.months_ >> m & 1)
				possible = next_bit(s.days_, 1) >= 1 &&
				           static_cast<unsigned>(next_bit(s.days_, 1)) <= days_in_month_at_most(m);
		if (!possible)
			throw schedule_error("never matches: no month in \"" + std::string(parts[4]) + "\" has a day in \"" +
			                     std::string(parts[3]) + "\"");
	}
	return s;
}

bool Schedule::day_matches(unsigned day_of_month, unsigned weekday) const {
	bool by_day = days_ >> day_of_month & 1, by_weekday = weekdays_ >> weekday & 1;
	if (days_restricted_ && weekdays_restricted_)
		return by_day || by_weekday;
	return by_day && by_weekday; // the unrestricted one has every bit set
}

bool Schedule::matches(sys_seconds t) const {
	sys_days d = floor<days>(t);
	year_month_day ymd(d);
	hh_mm_ss<seconds> hms(t - d);
	return (months_ >> unsigned(ymd.month()) & 1) && day_matches(unsigned(ymd.day()), weekday(d).c_encoding()) &&
	       (hours_ >> hms.hours().count() & 1) && (minutes_ >> hms.minutes().count() & 1) &&
	       (seconds_ >> hms.seconds().count() & 1);
}

std::optional<sys_seconds> Schedule::next_after(sys_seconds after) const {
	const sys_seconds limit = sys_days(year(9999) / December / 31) + days(1);
	// Each step moves t forward to the start of the next unit that could match, so the loop
	// ends: at most 12 months, 31 days, 24 hours and 60 minutes a year, until `limit`.
	for (sys_seconds t = after + seconds(1); t < limit;) {
		sys_days d = floor<days>(t);
		year_month_day ymd(d);
		if (!(months_ >> unsigned(ymd.month()) & 1)) {
			t = sys_days(year_month_day(ymd.year() / ymd.month() / 1) + months(1));
			continue;
		}
		if (!day_matches(unsigned(ymd.day()), weekday(d).c_encoding())) {
			t = d + days(1);
			continue;
		}
		hh_mm_ss<seconds> hms(t - d);
		auto hour_start = d + hms.hours();
		if (!(hours_ >> hms.hours().count() & 1)) {
			t = hour_start + hours(1);
			continue;
		}
		auto minute_start = hour_start + hms.minutes();
		if (!(minutes_ >> hms.minutes().count() & 1)) {
			t = minute_start + minutes(1);
			continue;
		}
		int s = next_bit(seconds_, static_cast<unsigned>(hms.seconds().count()));
		if (s < 0) {
			t = minute_start + minutes(1);
			continue;
		}
		return minute_start + seconds(s);
	}
	return std::nullopt;
}

bool Schedule::operator==(const Schedule &o) const {
	// The restriction flags matter only through day_matches's choice of OR or AND.
	bool either = days_restricted_ && weekdays_restricted_, o_either = o.days_restricted_ && o.weekdays_restricted_;
	return seconds_ == o.seconds_ && minutes_ == o.minutes_ && hours_ == o.hours_ && days_ == o.days_ &&
	       months_ == o.months_ && weekdays_ == o.weekdays_ && either == o_either;
}

} // namespace cron
