// message.cpp — requests and responses as values, error names, and the response writer
// (see turquoise/http/message.hpp).
#include <turquoise/http/message.hpp>
#include <turquoise/http/parser.hpp>

#include "text.hpp"

#include <charconv>

namespace turquoise::http {
namespace {

void append_number(std::string &out, std::uint64_t v) {
	char num[24];
	auto [end, ec] = std::to_chars(num, num + sizeof num, v);
	(void)ec;
	out.append(num, end);
}

void append_hex(std::string &out, std::uint64_t v) {
	char num[24];
	auto [end, ec] = std::to_chars(num, num + sizeof num, v, 16);
	(void)ec;
	out.append(num, end);
}

} // namespace

std::optional<std::string_view> find_header(const std::vector<header> &headers, std::string_view name) {
	for (const header &h : headers)
		if (detail::iequals(h.name, name))
			return std::string_view(h.value);
	return std::nullopt;
}

std::optional<std::string_view> Request::find_query(std::string_view name) const {
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
	case parse_error::transfer_encoding: return "transfer coding not implemented (only chunked is)";
	case parse_error::bad_transfer_encoding: return "malformed or ambiguous Transfer-Encoding";
	case parse_error::bad_chunk: return "malformed chunk";
	case parse_error::bad_status_line: return "malformed status line";
	case parse_error::truncated: return "connection closed inside the message";
	case parse_error::body_too_large: return "body too large";
	}
	return "unknown error";
}

std::string_view reason_phrase(int status) noexcept {
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
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
	case 409: return "Conflict";
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
	int status = (r.status >= 100 && r.status <= 999) ? r.status : 500;
	out += "HTTP/1.1 ";
	append_number(out, static_cast<std::uint64_t>(status));
	out += ' ';
	out += reason_phrase(status);
	out += "\r\n";
	if (!r.content_type.empty()) {
		out += "Content-Type: ";
		out += r.content_type;
		out += "\r\n";
	}
	out += "Content-Length: ";
	append_number(out, r.body.size());
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

void append_response(std::string &out, const Response &r, bool keep_alive, bool head_only) {
	int status = (r.status >= 100 && r.status <= 999) ? r.status : 500;
	out += "HTTP/1.1 ";
	append_number(out, static_cast<std::uint64_t>(status));
	out += ' ';
	out += reason_phrase(status);
	out += "\r\n";
	for (const header &h : r.headers) {
		if (detail::iequals(h.name, "Connection"))
			continue; // written below, from the connection's state
		out += h.name;
		out += ": ";
		out += h.value;
		out += "\r\n";
	}
	if (r.reader) {
		out += "Transfer-Encoding: chunked\r\n";
	} else {
		out += "Content-Length: ";
		append_number(out, r.body.size());
		out += "\r\n";
	}
	out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
	if (!head_only && !r.reader)
		out += r.body;
}

void append_chunk(std::string &out, std::string_view data) {
	if (data.empty()) {
		out += "0\r\n\r\n"; // the last chunk and an empty trailer section
		return;
	}
	append_hex(out, data.size());
	out += "\r\n";
	out += data;
	out += "\r\n";
}

} // namespace turquoise::http
