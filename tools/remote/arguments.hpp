// arguments.hpp — the command-line checks inger-ping and inger-pong share: decimal numbers in
// a range, dotted IPv4 addresses and process ids, each refused with a message naming the flag.
#ifndef INGER_TOOLS_REMOTE_ARGUMENTS_HPP
#define INGER_TOOLS_REMOTE_ARGUMENTS_HPP

#include <arpa/inet.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace remote_tools {

// A decimal number in [min, max], or nothing (then `why` says what is wrong).
inline std::optional<std::uint64_t> number(std::string_view flag, std::string_view text,
                                           std::uint64_t min, std::uint64_t max, std::string &why) {
	std::uint64_t value = 0;
	auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
	if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min ||
	    value > max) {
		why = std::string(flag) + ": '" + std::string(text) + "' is not a number from " +
		      std::to_string(min) + " to " + std::to_string(max);
		return std::nullopt;
	}
	return value;
}

inline bool ipv4(std::string_view text) {
	in_addr address{};
	return inet_pton(AF_INET, std::string(text).c_str(), &address) == 1;
}

// A process id as libprocess peers accept it in a URL path and a UPID: 1..255 printable ASCII
// characters without '@', '/', '%', ':' or spaces.
inline bool process_id(std::string_view text) {
	if (text.empty() || text.size() > 255)
		return false;
	for (char c : text)
		if (c <= ' ' || c > '~' || c == '@' || c == '/' || c == '%' || c == ':')
			return false;
	return true;
}

} // namespace remote_tools

#endif
