// request_parser.cpp — the strict incremental request decoder (see turquoise/http/parser.hpp).
#include <turquoise/http/parser.hpp>

#include "text.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace turquoise::http {
request_parser::request_parser(parser_limits limits) : limits_(limits) {}

void request_parser::reset() {
	state_ = state::request_line;
	error_ = parse_error::none;
	line_.clear();
	line_.shrink_to_fit();
	skipped_ = 0;
	header_bytes_ = 0;
	body_remaining_ = 0;
	chunks_.reset();
	req_ = Request{};
}

void request_parser::fail(parse_error e) {
	state_ = state::failed;
	error_ = e;
	line_.clear();
	line_.shrink_to_fit();
	req_ = Request{};
}

std::size_t request_parser::buffered() const noexcept {
	std::size_t n = line_.size() + chunks_.buffered() + req_.method.size() + req_.target.size() + req_.body.size();
	for (const header &h : req_.headers)
		n += h.name.size() + h.value.size();
	return n;
}

Request request_parser::take() {
	Request r = std::move(req_);
	req_ = Request{};
	state_ = state::request_line;
	line_.clear();
	skipped_ = 0;
	header_bytes_ = 0;
	body_remaining_ = 0;
	chunks_.reset();
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
		if (!detail::is_tchar(c))
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
			i = end;
			// A line whole in `bytes` (the usual case) is parsed where it is; only a line
			// split across feeds is gathered in line_.
			std::string_view line = chunk;
			if (nl == std::string_view::npos || !line_.empty()) {
				line_.append(chunk);
				line = line_;
			}
			if (nl == std::string_view::npos) {
				if (state_ == state::request_line && !partial_request_line_ok()) {
					fail(parse_error::bad_request_line);
					return i;
				}
				break;
			}
			if (line.size() < 2 || line[line.size() - 2] != '\r') {
				fail(parse_error::bad_line_ending);
				return i;
			}
			std::string_view content(line.data(), line.size() - 2);
			if (state_ == state::request_line) {
				if (content.empty()) {
					skipped_ += 2; // an empty line before the request line: ignored
					line_.clear();
					continue;
				}
				on_request_line(content);
			} else {
				header_bytes_ += line.size();
				if (content.empty())
					on_headers_done();
				else if (parse_error e = detail::head_reader::header_line(content, req_.headers, limits_);
				         e != parse_error::none)
					fail(e);
			}
			if (state_ != state::failed)
				line_.clear();
		} else if (state_ == state::chunked) {
			i += chunks_.feed(bytes.substr(i), req_.body, limits_);
			if (chunks_.error() != parse_error::none)
				fail(chunks_.error());
			else if (chunks_.done())
				state_ = state::ready;
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
	if (!detail::is_token(method) || target.empty()) {
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
		if (detail::istarts_with(target, "http://"))
			rest = target.substr(7);
		else if (detail::istarts_with(target, "https://"))
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
	if (!detail::valid_escapes(path) || !detail::valid_escapes(query)) {
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
		req_.query_params.emplace_back(detail::decode_component(key), detail::decode_component(value));
	}
	req_.version_major = major;
	req_.version_minor = minor;
	req_.headers.reserve(8); // a libprocess message has 5: one allocation, not four
	state_ = state::headers;
}

void request_parser::on_headers_done() {
	std::optional<std::uint64_t> length;
	bool close = false, keep_alive = false;
	int hosts = 0;
	std::vector<std::string_view> codings; // Transfer-Encoding, every field's list in order
	for (const header &h : req_.headers) {
		if (detail::iequals(h.name, "content-length")) {
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
		} else if (detail::iequals(h.name, "host")) {
			++hosts;
		} else if (detail::iequals(h.name, "connection")) {
			detail::for_each_list_element(h.value, [&](std::string_view token) {
				if (detail::iequals(token, "close"))
					close = true;
				else if (detail::iequals(token, "keep-alive"))
					keep_alive = true;
			});
		} else if (detail::iequals(h.name, "transfer-encoding")) {
			detail::for_each_list_element(h.value, [&](std::string_view coding) {
				codings.push_back(coding);
			});
			if (h.value.empty() || detail::trim_ows(h.value).empty())
				codings.push_back({}); // an empty coding: not chunked
		}
	}
	if (hosts > 1) {
		fail(parse_error::duplicate_host);
		return;
	}
	req_.keep_alive = req_.version_minor >= 1 ? !close : (keep_alive && !close);
	if (!codings.empty()) {
		// RFC 9112 §6.1: chunked must be the final coding; with Content-Length as well the
		// framing is ambiguous (a smuggling vector), and HTTP/1.0 has no chunked coding.
		if (!detail::iequals(codings.back(), "chunked") || length || req_.version_minor == 0) {
			fail(parse_error::bad_transfer_encoding);
			return;
		}
		if (codings.size() > 1) {
			fail(parse_error::transfer_encoding); // gzip & co.: not implemented
			return;
		}
		req_.chunked = true;
		state_ = state::chunked;
		return;
	}
	if (length && *length > limits_.max_body) {
		fail(parse_error::body_too_large);
		return;
	}
	body_remaining_ = length.value_or(0);
	if (body_remaining_ == 0) {
		state_ = state::ready;
	} else {
		req_.body.reserve(static_cast<std::size_t>(body_remaining_));
		state_ = state::body;
	}
}

} // namespace turquoise::http
