// chunked.cpp — the chunked transfer coding's decoder and the header-line rules shared by the
// request and response decoders (see turquoise/http/parser.hpp).
#include <turquoise/http/parser.hpp>

#include "text.hpp"

#include <algorithm>

namespace turquoise::http::detail {
namespace {
// A chunk-size line: up to 15 hex digits, then extensions we ignore; 1 KiB is plenty for them.
constexpr std::size_t max_size_line = 1024;
constexpr std::uint64_t reserve_ahead = 1u << 20; // body room reserved ahead of the data at most
constexpr std::size_t max_hex_digits = 15; // < 2^60: no overflow when summing
} // namespace

parse_error head_reader::header_line(std::string_view line, std::vector<header> &headers, const parser_limits &l) {
	if (line.front() == ' ' || line.front() == '\t')
		return parse_error::obsolete_line_folding;
	if (headers.size() >= l.max_headers)
		return parse_error::too_many_headers;
	std::size_t colon = line.find(':');
	if (colon == std::string_view::npos) {
		for (char c : line)
			if (c == '\r' || c == '\0')
				return parse_error::bad_line_ending;
		return parse_error::header_without_colon;
	}
	std::string_view name = line.substr(0, colon);
	if (!is_token(name))
		return parse_error::bad_header_name;
	std::string_view value = trim_ows(line.substr(colon + 1));
	for (char c : value) {
		unsigned char u = static_cast<unsigned char>(c);
		if (c == '\r' || c == '\0')
			return parse_error::bad_line_ending;
		if ((u < 0x20 && c != '\t') || u == 0x7f)
			return parse_error::bad_header_value;
	}
	headers.push_back(header{std::string(name), std::string(value)});
	return parse_error::none;
}

std::size_t chunked_decoder::fail(parse_error e, std::size_t consumed) {
	state_ = state::failed;
	error_ = e;
	line_.clear();
	line_.shrink_to_fit();
	return consumed;
}

// chunk-size [ chunk-ext ] ; chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )
bool chunked_decoder::on_size_line(std::string_view line) {
	std::size_t digits = 0;
	std::uint64_t size = 0;
	while (digits < line.size() && hex_value(line[digits]) >= 0) {
		size = size * 16 + static_cast<std::uint64_t>(hex_value(line[digits]));
		++digits;
	}
	if (digits == 0 || digits > max_hex_digits)
		return false;
	std::string_view ext = line.substr(digits);
	std::string_view rest = trim_ows(ext);
	if (!rest.empty() && rest.front() != ';')
		return false;
	for (char c : ext) {
		unsigned char u = static_cast<unsigned char>(c);
		if ((u < 0x20 && c != '\t') || u == 0x7f)
			return false;
	}
	remaining_ = size;
	return true;
}

std::size_t chunked_decoder::feed(std::string_view in, std::string &body, const parser_limits &limits) {
	std::size_t i = 0;
	while (i < in.size() && state_ != state::done && state_ != state::failed) {
		if (state_ == state::data) {
			std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - i));
			body.append(in.substr(i, take));
			i += take;
			remaining_ -= take;
			if (remaining_ == 0)
				state_ = state::data_crlf;
			continue;
		}
		if (state_ == state::data_crlf) {
			// Exactly CRLF after the data (possibly split between feeds).
			char want = line_.empty() ? '\r' : '\n';
			if (in[i] != want)
				return fail(parse_error::bad_chunk, i + 1);
			++i;
			if (want == '\r') {
				line_.push_back('\r');
			} else {
				line_.clear();
				state_ = state::size_line;
			}
			continue;
		}
		// size_line or trailer: one CRLF-terminated line.
		std::size_t nl = in.find('\n', i);
		std::size_t end = nl == std::string_view::npos ? in.size() : nl + 1;
		std::size_t limit = state_ == state::size_line ? max_size_line + 2 : limits.max_header_bytes - trailer_bytes_;
		if (line_.size() + (end - i) > limit)
			return fail(state_ == state::size_line ? parse_error::bad_chunk : parse_error::headers_too_large, end);
		line_.append(in.substr(i, end - i));
		i = end;
		if (nl == std::string_view::npos)
			break;
		if (line_.size() < 2 || line_[line_.size() - 2] != '\r')
			return fail(parse_error::bad_line_ending, i);
		std::string_view content(line_.data(), line_.size() - 2);
		if (content.find('\r') != std::string_view::npos || content.find('\0') != std::string_view::npos)
			return fail(parse_error::bad_line_ending, i);
		if (state_ == state::size_line) {
			if (!on_size_line(content))
				return fail(parse_error::bad_chunk, i);
			if (total_ + remaining_ > limits.max_body)
				return fail(parse_error::body_too_large, i);
			total_ += remaining_;
			// Room for the announced chunk at once (not by doubling), but only as much as a
			// peer that announces and does not send can make us hold without sending it.
			if (remaining_ && body.capacity() < total_)
				body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(total_, body.size() + reserve_ahead)));
			state_ = remaining_ == 0 ? state::trailer : state::data;
		} else {
			trailer_bytes_ += line_.size();
			if (content.empty()) {
				state_ = state::done;
			} else {
				// Trailer fields are checked like header fields, then dropped: nothing we serve
				// depends on them, and merging them into the headers invites smuggling.
				std::vector<header> sink;
				parser_limits one = limits;
				one.max_headers = limits.max_headers > trailers_ ? limits.max_headers - trailers_ : 0;
				if (parse_error e = head_reader::header_line(content, sink, one); e != parse_error::none)
					return fail(e, i);
				++trailers_;
			}
		}
		line_.clear();
	}
	return i;
}

} // namespace turquoise::http::detail
