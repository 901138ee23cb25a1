// jobs.cpp — parsing the cron example's job list (jobs.hpp), line by line.
#include "jobs.hpp"

#include <cctype>
#include <cstdio>

namespace cron {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

std::string_view next_word(std::string_view line, std::size_t &at) {
	while (at < line.size() && blank(line[at]))
		++at;
	std::size_t start = at;
	while (at < line.size() && !blank(line[at]))
		++at;
	return line.substr(start, at - start);
}

void check_name(std::string_view name) {
	if (name.size() > 64)
		throw config_error("the job name \"" + std::string(name.substr(0, 64)) + "...\" is longer than 64 characters");
	for (std::size_t i = 0; i < name.size(); ++i) {
		unsigned char c = static_cast<unsigned char>(name[i]);
		bool ok = std::isalnum(c) || (i > 0 && (c == '_' || c == '.' || c == '-'));
		if (!ok)
			throw config_error("the job name \"" + std::string(name) + "\" has '" + std::string(1, name[i]) +
			                   "': names are [A-Za-z0-9_.-], starting with a letter or digit");
	}
}

} // namespace

jobs parse_jobs(std::string_view text) {
	if (text.size() > max_config_bytes)
		throw config_error("the configuration is larger than " + std::to_string(max_config_bytes) + " bytes");
	jobs out;
	std::map<std::string, std::size_t> defined_on;
	std::size_t number = 0;
	for (std::size_t at = 0; at < text.size();) {
		std::size_t end = text.find('\n', at);
		std::string_view line = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
		at = end == std::string_view::npos ? text.size() : end + 1;
		++number;
		if (!line.empty() && line.back() == '\r')
			line.remove_suffix(1);
		try {
			for (char c : line) {
				unsigned char u = static_cast<unsigned char>(c);
				if (u < 0x20 && c != '\t') {
					char shown[8];
					std::snprintf(shown, sizeof shown, "0x%02x", u);
					throw config_error(std::string("control character ") + shown);
				}
			}
			std::size_t pos = 0;
			std::string_view name = next_word(line, pos);
			if (name.empty() || name[0] == '#')
				continue;
			check_name(name);
			std::size_t schedule_start = pos;
			for (int field = 0; field < 6; ++field)
				if (next_word(line, pos).empty())
					throw config_error("job \"" + std::string(name) +
					                   "\": expected 6 schedule fields and a command");
			std::string_view schedule_text = line.substr(schedule_start, pos - schedule_start);
			while (pos < line.size() && blank(line[pos]))
				++pos;
			std::string_view command = line.substr(pos);
			while (!command.empty() && blank(command.back()))
				command.remove_suffix(1);
			if (command.empty())
				throw config_error("job \"" + std::string(name) + "\" has no command");
			job j{std::string(name), Schedule::parse(schedule_text), std::string(command)};
			auto [it, fresh] = defined_on.emplace(j.name, number);
			if (!fresh)
				throw config_error("job \"" + j.name + "\" is already defined on line " + std::to_string(it->second));
			out.emplace(j.name, std::move(j));
		} catch (const schedule_error &e) {
			throw config_error("line " + std::to_string(number) + ": schedule: " + e.what());
		} catch (const config_error &e) {
			throw config_error("line " + std::to_string(number) + ": " + e.what());
		}
	}
	return out;
}

} // namespace cron
