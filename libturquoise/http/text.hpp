// text.hpp — character classes and small string helpers shared by the HTTP decoders (internal).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace turquoise::http::detail {

inline bool is_tchar(unsigned char c) noexcept {
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

inline bool is_token(std::string_view s) noexcept {
	return !s.empty() &&
	       std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

inline char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) noexcept {
	if (a.size() != b.size())
		return false;
	for (std::size_t i = 0; i < a.size(); ++i)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

inline bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
	return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline std::string_view trim_ows(std::string_view s) noexcept {
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
		s.remove_suffix(1);
	return s;
}

inline int hex_value(char c) noexcept {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

inline bool all_digits(std::string_view s) noexcept {
	return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Calls f(token) for each element of a comma-separated list (elements trimmed, empty ones
// skipped, as RFC 9110 §5.6.1 asks of recipients).
template <class F>
void for_each_list_element(std::string_view list, F &&f) {
	while (!list.empty()) {
		std::size_t comma = list.find(',');
		std::string_view token = trim_ows(list.substr(0, comma));
		list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
		if (!token.empty())
			f(token);
	}
}

// Every '%' is followed by two hex digits.
inline bool valid_escapes(std::string_view s) noexcept {
	for (std::size_t i = 0; i < s.size(); ++i)
		if (s[i] == '%') {
			if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
				return false;
			i += 2;
		}
	return true;
}

// Decode a query component ('+' is a space; in a path segment, plus_is_space = false, it is
// not); the escapes were validated already.
inline std::string decode_component(std::string_view s, bool plus_is_space = true) {
	std::string out;
	out.reserve(s.size());
	for (std::size_t i = 0; i < s.size(); ++i) {
		if (s[i] == '+' && plus_is_space)
			out.push_back(' ');
		else if (s[i] == '%' && i + 2 < s.size()) {
			out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
			i += 2;
		} else
			out.push_back(s[i]);
	}
	return out;
}

} // namespace turquoise::http::detail
