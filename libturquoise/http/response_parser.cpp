// response_parser.cpp — the strict incremental response decoder (see turquoise/http/parser.hpp).
#include <turquoise/http/parser.hpp>

#include "text.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace turquoise::http {

response_parser::response_parser(parser_limits limits) : limits_(limits) {}

void response_parser::reset() {
	bool head = head_request_, streaming = streaming_;
	parser_limits limits = limits_;
	*this = response_parser(limits);
	head_request_ = head;
	streaming_ = streaming;
}

void response_parser::fail(parse_error e) {
	state_ = state::failed;
	error_ = e;
	line_.clear();
	line_.shrink_to_fit();
}

std::size_t response_parser::buffered() const noexcept {
	std::size_t n = line_.size() + chunks_.buffered() + resp_.body.size();
	for (const header &h : resp_.headers)
		n += h.name.size() + h.value.size();
	return n;
}

std::string response_parser::take_body() {
	std::string out;
	out.swap(resp_.body);
	return out;
}

Response response_parser::take() {
	Response r = std::move(resp_);
	bool head = head_request_, streaming = streaming_;
	*this = response_parser(limits_);
	head_request_ = head;
	streaming_ = streaming;
	return r;
}

bool response_parser::finish() {
	if (state_ == state::until_close)
		state_ = state::ready;
	else if (state_ != state::ready && state_ != state::failed && !idle())
		fail(parse_error::truncated);
	return ready();
}

std::size_t response_parser::feed(std::string_view bytes) {
	parser_limits body_limits = limits_;
	if (streaming_)
		body_limits.max_body = std::numeric_limits<std::size_t>::max();
	std::size_t i = 0;
	const std::size_t n = bytes.size();
	while (i < n && state_ != state::ready && state_ != state::failed) {
		if (state_ == state::status_line || state_ == state::headers) {
			std::size_t nl = bytes.find('\n', i);
			std::size_t end = nl == std::string_view::npos ? n : nl + 1;
			std::size_t limit = state_ == state::status_line ? limits_.max_request_line + 2
			                                                  : limits_.max_header_bytes - header_bytes_;
			if (line_.size() + (end - i) > limit) {
				fail(state_ == state::status_line ? parse_error::bad_status_line : parse_error::headers_too_large);
				return end;
			}
			line_.append(bytes.substr(i, end - i));
			i = end;
			if (nl == std::string_view::npos) {
				// Reject a peer that is not speaking HTTP at once, not after 8 KiB of garbage.
				std::string_view want = "HTTP/1.";
				std::size_t k = std::min(want.size(), line_.size());
				if (state_ == state::status_line && line_.compare(0, k, want.substr(0, k)) != 0)
					fail(parse_error::bad_status_line);
				break;
			}
			if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
				fail(parse_error::bad_line_ending);
				return i;
			}
			std::string_view content(line_.data(), line_.size() - 2);
			if (state_ == state::status_line) {
				on_status_line(content);
			} else {
				header_bytes_ += line_.size();
				if (content.empty())
					on_headers_done();
				else if (parse_error e = detail::head_reader::header_line(content, resp_.headers, limits_);
				         e != parse_error::none)
					fail(e);
			}
			if (state_ != state::failed)
				line_.clear();
		} else if (state_ == state::chunked) {
			i += chunks_.feed(bytes.substr(i), resp_.body, body_limits);
			if (chunks_.error() != parse_error::none)
				fail(chunks_.error());
			else if (chunks_.done())
				state_ = state::ready;
		} else if (state_ == state::body || state_ == state::until_close) {
			std::size_t take = n - i;
			if (state_ == state::body)
				take = static_cast<std::size_t>(std::min<std::uint64_t>(body_remaining_, take));
			else if (body_total_ + take > body_limits.max_body) {
				fail(parse_error::body_too_large);
				return i;
			}
			resp_.body.append(bytes.substr(i, take));
			i += take;
			body_total_ += take;
			if (state_ == state::body) {
				body_remaining_ -= take;
				if (body_remaining_ == 0)
					state_ = state::ready;
			}
		}
	}
	return i;
}

// "HTTP/1." DIGIT SP 3DIGIT SP reason-phrase (the reason may be empty; RFC 9112 §4).
void response_parser::on_status_line(std::string_view line) {
	if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ' || !detail::all_digits(line.substr(9, 3)) || (line.size() > 12 && line[12] != ' ')) {
		fail(parse_error::bad_status_line);
		return;
	}
	for (char c : line.substr(12)) {
		unsigned char u = static_cast<unsigned char>(c);
		if ((u < 0x20 && c != '\t') || u == 0x7f) {
			fail(c == '\r' || c == '\0' ? parse_error::bad_line_ending : parse_error::bad_status_line);
			return;
		}
	}
	minor_ = line[7] - '0';
	int status = 0;
	std::from_chars(line.data() + 9, line.data() + 12, status);
	if (status < 100) {
		fail(parse_error::bad_status_line);
		return;
	}
	resp_.status = status;
	state_ = state::headers;
}

void response_parser::on_headers_done() {
	std::optional<std::uint64_t> length;
	bool close = false, keep_alive = false, coded = false, chunked_last = false;
	for (const header &h : resp_.headers) {
		if (detail::iequals(h.name, "content-length")) {
			if (!detail::all_digits(h.value) || h.value.size() > 18) {
				fail(parse_error::bad_content_length);
				return;
			}
			std::uint64_t v = 0;
			std::from_chars(h.value.data(), h.value.data() + h.value.size(), v);
			if (length && *length != v) {
				fail(parse_error::conflicting_content_length);
				return;
			}
			length = v;
		} else if (detail::iequals(h.name, "transfer-encoding")) {
			coded = true;
			detail::for_each_list_element(h.value, [&](std::string_view c) { chunked_last = detail::iequals(c, "chunked"); });
		} else if (detail::iequals(h.name, "connection")) {
			detail::for_each_list_element(h.value, [&](std::string_view t) {
				close |= detail::iequals(t, "close");
				keep_alive |= detail::iequals(t, "keep-alive");
			});
		}
	}
	keep_alive_ = minor_ >= 1 ? !close : (keep_alive && !close);
	int s = resp_.status;
	if (head_request_ || (s >= 100 && s < 200) || s == 204 || s == 304) {
		state_ = state::ready; // no body, whatever the headers say
		return;
	}
	if (coded) {
		// RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; chunked last frames the
		// body (other codings, e.g. gzip, are left in it: we do not undo them); otherwise the
		// body runs to the close.
		if (chunked_last) {
			state_ = state::chunked;
		} else {
			keep_alive_ = false;
			state_ = state::until_close;
		}
		return;
	}
	if (length) {
		if (!streaming_ && *length > limits_.max_body) {
			fail(parse_error::body_too_large);
			return;
		}
		body_remaining_ = *length;
		state_ = *length == 0 ? state::ready : state::body;
		if (!streaming_ && *length)
			resp_.body.reserve(static_cast<std::size_t>(*length));
		return;
	}
	keep_alive_ = false;
	state_ = state::until_close;
}

} // namespace turquoise::http
