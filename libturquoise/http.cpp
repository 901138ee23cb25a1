// http.cpp — strict incremental HTTP/1.1 request parser and response builder (see http.hpp).
#include <turquoise/http.hpp>

#include <algorithm>
#include <charconv>

namespace turquoise::http {
namespace {

bool is_tchar(unsigned char c) noexcept {
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

bool is_token(std::string_view s) noexcept {
	return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
	if (a.size() != b.size())
		return false;
	for (std::size_t i = 0; i < a.size(); ++i)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
	return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim_ows(std::string_view s) noexcept {
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
		s.remove_suffix(1);
	return s;
}

int hex_value(char c) noexcept {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

// Every '%' is followed by two hex digits.
bool valid_escapes(std::string_view s) noexcept {
	for (std::size_t i = 0; i < s.size(); ++i)
		if (s[i] == '%') {
			if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
				return false;
			i += 2;
		}
	return true;
}

// Decode a query component ('+' is a space); the escapes were validated already.
std::string decode_component(std::string_view s) {
	std::string out;
	out.reserve(s.size());
	for (std::size_t i = 0; i < s.size(); ++i) {
		if (s[i] == '+')
			out.push_back(' ');
		else if (s[i] == '%' && i + 2 < s.size()) {
			out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
			i += 2;
		} else
			out.push_back(s[i]);
	}
	return out;
}

} // namespace

std::optional<std::string_view> request::find_header(std::string_view name) const {
	for (const header &h : headers)
		if (iequals(h.name, name))
			return std::string_view(h.value);
	return std::nullopt;
}

std::optional<std::string_view> request::find_query(std::string_view name) const {
	for (const auto &[k, v] : query_params)
		if (k == name)
			return std::string_view(v);
	return std::nullopt;
}

int status_for(parse_error e) noexcept {
	switch (e) {
	case parse_error::none:
		return 200;
	case parse_error::unsupported_version:
		return 505;
	case parse_error::request_line_too_long:
		return 414;
	case parse_error::headers_too_large:
	case parse_error::too_many_headers:
		return 431;
	case parse_error::transfer_encoding:
		return 501;
	case parse_error::body_too_large:
		return 413;
	default:
		return 400;
	}
}

std::string_view to_string(parse_error e) noexcept {
	switch (e) {
	case parse_error::none: return "no error";
	case parse_error::bad_request_line: return "malformed request line";
	case parse_error::bad_target: return "malformed request target";
	case parse_error::bad_version: return "malformed HTTP version";
	case parse_error::unsupported_version: return "HTTP version not supported";
	case parse_error::bad_line_ending: return "bad line ending (bare LF or CR, or NUL)";
	case parse_error::request_line_too_long: return "request line too long";
	case parse_error::header_without_colon: return "header line without colon";
	case parse_error::bad_header_name: return "malformed header name";
	case parse_error::bad_header_value: return "control character in header value";
	case parse_error::obsolete_line_folding: return "obsolete line folding";
	case parse_error::headers_too_large: return "header section too large";
	case parse_error::too_many_headers: return "too many header fields";
	case parse_error::bad_content_length: return "malformed Content-Length";
	case parse_error::conflicting_content_length: return "conflicting Content-Length fields";
	case parse_error::duplicate_host: return "more than one Host field";
	case parse_error::transfer_encoding: return "Transfer-Encoding not implemented";
	case parse_error::body_too_large: return "body too large";
	}
	return "unknown error";
}

request_parser::request_parser(parser_limits limits) : limits_(limits) {}

void request_parser::reset() {
	state_ = state::request_line;
	error_ = parse_error::none;
	line_.clear();
	line_.shrink_to_fit();
	skipped_ = 0;
	header_bytes_ = 0;
	body_remaining_ = 0;
	req_ = request{};
}

void request_parser::fail(parse_error e) {
	state_ = state::failed;
	error_ = e;
	line_.clear();
	line_.shrink_to_fit();
	req_ = request{};
}

std::size_t request_parser::buffered() const noexcept {
	std::size_t n = line_.size() + req_.method.size() + req_.target.size() + req_.body.size();
	for (const header &h : req_.headers)
		n += h.name.size() + h.value.size();
	return n;
}

request request_parser::take() {
	request r = std::move(req_);
	req_ = request{};
	state_ = state::request_line;
	line_.clear();
	skipped_ = 0;
	header_bytes_ = 0;
	body_remaining_ = 0;
	return r;
}

// A request line still in progress: reject garbage early (before its CRLF) when the method
// already is not a token, so a peer sending junk without line breaks is answered at once.
bool request_parser::partial_request_line_ok() const {
	for (std::size_t i = 0; i < line_.size(); ++i) {
		unsigned char c = static_cast<unsigned char>(line_[i]);
		if (c == ' ')
			return i > 0;
		if (c == '\r' && i + 1 == line_.size())
			return true; // maybe the CR of an empty line or of "METHOD\r\n" (rejected then)
		if (!is_tchar(c))
			return false;
	}
	return true;
}

std::size_t request_parser::feed(std::string_view bytes) {
	std::size_t i = 0;
	const std::size_t n = bytes.size();
	while (i < n) {
		if (state_ == state::request_line || state_ == state::headers) {
			std::size_t nl = bytes.find('\n', i);
			std::size_t end = nl == std::string_view::npos ? n : nl + 1;
			std::string_view chunk = bytes.substr(i, end - i);
			if (state_ == state::request_line) {
				// +2: the CRLF is not part of the limit.
				if (skipped_ + line_.size() + chunk.size() > limits_.max_request_line + 2) {
					fail(parse_error::request_line_too_long);
					return end;
				}
			} else if (header_bytes_ + line_.size() + chunk.size() > limits_.max_header_bytes) {
				fail(parse_error::headers_too_large);
				return end;
			}
			line_.append(chunk);
			i = end;
			if (nl == std::string_view::npos) {
				if (state_ == state::request_line && !partial_request_line_ok()) {
					fail(parse_error::bad_request_line);
					return i;
				}
				break;
			}
			if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
				fail(parse_error::bad_line_ending);
				return i;
			}
			std::string_view content(line_.data(), line_.size() - 2);
			if (state_ == state::request_line) {
				if (content.empty()) {
					skipped_ += 2; // an empty line before the request line: ignored
					line_.clear();
					continue;
				}
				on_request_line(content);
			} else {
				header_bytes_ += line_.size();
				if (content.empty())
					on_headers_done();
				else
					on_header_line(content);
			}
			if (state_ != state::failed)
				line_.clear();
		} else if (state_ == state::body) {
			std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(body_remaining_, n - i));
			req_.body.append(bytes.substr(i, take));
			i += take;
			body_remaining_ -= take;
			if (body_remaining_ == 0)
				state_ = state::ready;
		} else {
			break; // ready or failed
		}
		if (state_ == state::ready || state_ == state::failed)
			break;
	}
	return i;
}

void request_parser::on_request_line(std::string_view line) {
	for (char c : line) {
		if (c == '\r' || c == '\0') {
			fail(parse_error::bad_line_ending);
			return;
		}
	}
	std::size_t sp1 = line.find(' ');
	if (sp1 == std::string_view::npos) {
		fail(parse_error::bad_request_line);
		return;
	}
	std::size_t sp2 = line.find(' ', sp1 + 1);
	if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
		fail(parse_error::bad_request_line);
		return;
	}
	std::string_view method = line.substr(0, sp1);
	std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
	std::string_view version = line.substr(sp2 + 1);
	if (!is_token(method) || target.empty()) {
		fail(parse_error::bad_request_line);
		return;
	}

	// Version: "HTTP/" DIGIT "." DIGIT.
	auto digit = [](char c) { return c >= '0' && c <= '9'; };
	if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !digit(version[5]) || version[6] != '.' ||
	    !digit(version[7])) {
		fail(parse_error::bad_version);
		return;
	}
	int major = version[5] - '0', minor = version[7] - '0';
	if (major != 1 || minor > 1) {
		fail(parse_error::unsupported_version);
		return;
	}

	// Target: visible ASCII, no fragment.
	for (char c : target) {
		unsigned char u = static_cast<unsigned char>(c);
		if (u <= 0x20 || u >= 0x7f || c == '#') {
			fail(parse_error::bad_target);
			return;
		}
	}
	std::string_view path_and_query;
	if (target == "*") {
		if (method != "OPTIONS") {
			fail(parse_error::bad_target);
			return;
		}
		path_and_query = target;
	} else if (target.front() == '/') {
		path_and_query = target;
	} else {
		std::string_view rest;
		if (istarts_with(target, "http://"))
			rest = target.substr(7);
		else if (istarts_with(target, "https://"))
			rest = target.substr(8);
		else {
			fail(parse_error::bad_target);
			return;
		}
		std::size_t auth_end = std::min(rest.find('/'), rest.find('?'));
		std::string_view authority = rest.substr(0, std::min(auth_end, rest.size()));
		if (authority.empty() || authority.find('@') != std::string_view::npos) {
			fail(parse_error::bad_target);
			return;
		}
		path_and_query = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
	}
	std::size_t q = path_and_query.find('?');
	std::string_view path = path_and_query.substr(0, q);
	std::string_view query = q == std::string_view::npos ? std::string_view() : path_and_query.substr(q + 1);
	if (!valid_escapes(path) || !valid_escapes(query)) {
		fail(parse_error::bad_target);
		return;
	}

	req_.method.assign(method);
	req_.target.assign(target);
	req_.path = path.empty() ? std::string("/") : std::string(path);
	req_.query.assign(query);
	while (!query.empty()) {
		std::size_t amp = query.find('&');
		std::string_view pair = query.substr(0, amp);
		query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
		if (pair.empty())
			continue;
		std::size_t eq = pair.find('=');
		std::string_view key = pair.substr(0, eq);
		std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
		req_.query_params.emplace_back(decode_component(key), decode_component(value));
	}
	req_.version_major = major;
	req_.version_minor = minor;
	state_ = state::headers;
}

void request_parser::on_header_line(std::string_view line) {
	if (line.front() == ' ' || line.front() == '\t') {
		fail(parse_error::obsolete_line_folding);
		return;
	}
	if (req_.headers.size() >= limits_.max_headers) {
		fail(parse_error::too_many_headers);
		return;
	}
	std::size_t colon = line.find(':');
	if (colon == std::string_view::npos) {
		for (char c : line)
			if (c == '\r' || c == '\0') {
				fail(parse_error::bad_line_ending);
				return;
			}
		fail(parse_error::header_without_colon);
		return;
	}
	std::string_view name = line.substr(0, colon);
	if (!is_token(name)) {
		fail(parse_error::bad_header_name);
		return;
	}
	std::string_view value = trim_ows(line.substr(colon + 1));
	for (char c : value) {
		unsigned char u = static_cast<unsigned char>(c);
		if (c == '\r' || c == '\0') {
			fail(parse_error::bad_line_ending);
			return;
		}
		if ((u < 0x20 && c != '\t') || u == 0x7f) {
			fail(parse_error::bad_header_value);
			return;
		}
	}
	req_.headers.push_back(header{std::string(name), std::string(value)});
}

void request_parser::on_headers_done() {
	std::optional<std::uint64_t> length;
	bool close = false, keep_alive = false;
	int hosts = 0;
	for (const header &h : req_.headers) {
		if (iequals(h.name, "transfer-encoding")) {
			fail(parse_error::transfer_encoding);
			return;
		}
	}
	for (const header &h : req_.headers) {
		if (iequals(h.name, "content-length")) {
			std::string_view v = h.value;
			if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
				fail(parse_error::bad_content_length);
				return;
			}
			while (v.size() > 1 && v.front() == '0')
				v.remove_prefix(1);
			std::uint64_t value = 0;
			if (v.size() > 18) {
				value = UINT64_MAX; // numeric, but far beyond any body limit
			} else {
				std::from_chars(v.data(), v.data() + v.size(), value);
			}
			if (length && *length != value) {
				fail(parse_error::conflicting_content_length);
				return;
			}
			length = value;
		} else if (iequals(h.name, "host")) {
			++hosts;
		} else if (iequals(h.name, "connection")) {
			std::string_view list = h.value;
			while (!list.empty()) {
				std::size_t comma = list.find(',');
				std::string_view token = trim_ows(list.substr(0, comma));
				list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
				if (iequals(token, "close"))
					close = true;
				else if (iequals(token, "keep-alive"))
					keep_alive = true;
			}
		}
	}
	if (hosts > 1) {
		fail(parse_error::duplicate_host);
		return;
	}
	if (length && *length > limits_.max_body) {
		fail(parse_error::body_too_large);
		return;
	}
	req_.keep_alive = req_.version_minor >= 1 ? !close : (keep_alive && !close);
	body_remaining_ = length.value_or(0);
	if (body_remaining_ == 0) {
		state_ = state::ready;
	} else {
		req_.body.reserve(static_cast<std::size_t>(body_remaining_));
		state_ = state::body;
	}
}

std::string_view reason_phrase(int status) noexcept {
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

void append_response(std::string &out, const response &r) {
	char num[24];
	auto append_number = [&](std::uint64_t v) {
		auto [end, ec] = std::to_chars(num, num + sizeof num, v);
		(void)ec;
		out.append(num, end);
	};
	int status = (r.status >= 100 && r.status <= 999) ? r.status : 500;
	out += "HTTP/1.1 ";
	append_number(static_cast<std::uint64_t>(status));
	out += ' ';
	out += reason_phrase(status);
	out += "\r\n";
	if (!r.content_type.empty()) {
		out += "Content-Type: ";
		out += r.content_type;
		out += "\r\n";
	}
	out += "Content-Length: ";
	append_number(r.body.size());
	out += "\r\nConnection: ";
	out += r.keep_alive ? "keep-alive" : "close";
	out += "\r\n";
	for (const auto &[name, value] : r.extra_headers) {
		out += name;
		out += ": ";
		out += value;
		out += "\r\n";
	}
	out += "\r\n";
	out += r.body;
}

std::string make_response(const response &r) {
	std::string out;
	append_response(out, r);
	return out;
}

} // namespace turquoise::http
