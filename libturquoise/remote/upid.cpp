// upid.cpp — strict parsing of "id@host:port" (UPID::parse_strict), as a peer's
// Libprocess-From must be written.
#include <turquoise/process/pid.hpp>

#include <cctype>
#include <string>

namespace turquoise {
namespace {

constexpr std::size_t max_id = 255;
constexpr std::size_t max_host = 253; // a DNS name's limit

Error invalid(std::string_view text, const std::string &why) {
	std::string shown(text.substr(0, 80));
	for (char &c : shown)
		if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
			c = '?';
	return Error("invalid UPID '" + shown + (text.size() > 80 ? "...'" : "'") + ": " + why);
}

bool id_char(char c) {
	auto u = static_cast<unsigned char>(c);
	return u > 0x20 && u < 0x7f && c != '@' && c != '/' && c != '%';
}

// Dotted IPv4 ("a.b.c.d", each 0..255 without leading zeros), or a host name of letters,
// digits, '-' and '.' that is not all digits and dots.
bool valid_host(std::string_view h) {
	if (h.empty() || h.size() > max_host || h.front() == '.' || h.back() == '.' || h.front() == '-')
		return false;
	bool digits_and_dots = true;
	for (char c : h) {
		if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
			return false;
		if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.'))
			digits_and_dots = false;
	}
	if (h.find("..") != std::string_view::npos)
		return false;
	if (!digits_and_dots)
		return true;
	int parts = 0;
	std::size_t start = 0;
	while (start <= h.size()) {
		std::size_t dot = h.find('.', start);
		std::string_view part = h.substr(start, dot == std::string_view::npos ? h.size() - start : dot - start);
		if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0'))
			return false;
		if (std::stoi(std::string(part)) > 255)
			return false;
		++parts;
		if (dot == std::string_view::npos)
			break;
		start = dot + 1;
	}
	return parts == 4;
}

} // namespace

Try<UPID> UPID::parse_strict(std::string_view text) {
	std::size_t at = text.find('@');
	if (at == std::string_view::npos)
		return invalid(text, "no '@' (expected id@host:port)");
	std::string_view id = text.substr(0, at);
	if (id.empty())
		return invalid(text, "empty id");
	if (id.size() > max_id)
		return invalid(text, "id longer than " + std::to_string(max_id) + " bytes");
	for (char c : id)
		if (!id_char(c))
			return invalid(text, "id holds a space, control byte, '/', '%', '@' or non-ASCII byte");
	std::string_view rest = text.substr(at + 1);
	std::size_t colon = rest.rfind(':');
	if (colon == std::string_view::npos)
		return invalid(text, "no ':port'");
	std::string_view host = rest.substr(0, colon);
	std::string_view port = rest.substr(colon + 1);
	if (!valid_host(host))
		return invalid(text, "host is not a dotted IPv4 address or a host name");
	if (port.empty() || port.size() > 5 || (port.size() > 1 && port[0] == '0'))
		return invalid(text, "port is not a number from 0 to 65535");
	unsigned long p = 0;
	for (char c : port) {
		if (c < '0' || c > '9')
			return invalid(text, "port is not a number from 0 to 65535");
		p = p * 10 + static_cast<unsigned long>(c - '0');
	}
	if (p > 65535)
		return invalid(text, "port is not a number from 0 to 65535");
	Address a;
	a.host = std::string(host);
	a.port = static_cast<std::uint16_t>(p);
	return UPID(std::string(id), std::move(a));
}

} // namespace turquoise
