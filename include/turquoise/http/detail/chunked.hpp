// turquoise/http/detail/chunked.hpp — internal: the chunked transfer-coding decoder and the
// header-line reader shared by request_parser and response_parser (http/parser.hpp).
// parser.hpp includes this file in its middle, where parse_error and parser_limits are
// declared and the parsers are not yet: included first, this file lets parser.hpp do that.
#include <turquoise/http/parser.hpp>

#ifndef TURQUOISE_HTTP_DETAIL_CHUNKED_HPP
#define TURQUOISE_HTTP_DETAIL_CHUNKED_HPP

#include <turquoise/http/message.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace turquoise::http {

namespace detail {

// The chunked transfer coding, decoded incrementally (shared by both parsers).
class chunked_decoder {
public:
	// Consume bytes, appending chunk data to body; returns the bytes consumed. Stops at the
	// end of the trailer section (done()) or at an error (error() != none).
	std::size_t feed(std::string_view in, std::string &body, const parser_limits &limits);
	bool done() const noexcept { return state_ == state::done; }
	parse_error error() const noexcept { return error_; }
	std::size_t buffered() const noexcept { return line_.size(); }
	void reset() { *this = chunked_decoder(); }
	std::uint64_t total() const noexcept { return total_; }

private:
	enum class state { size_line, data, data_crlf, trailer, done, failed };
	std::size_t fail(parse_error e, std::size_t consumed);
	bool on_size_line(std::string_view line);
	state state_ = state::size_line;
	parse_error error_ = parse_error::none;
	std::string line_;
	std::uint64_t remaining_ = 0; // of the current chunk
	std::uint64_t total_ = 0;     // body bytes so far
	std::size_t trailer_bytes_ = 0;
	std::size_t trailers_ = 0;
};

// Header-section bookkeeping common to requests and responses.
struct head_reader {
	// Adds a header line (without CRLF) to `headers`, or returns the error.
	static parse_error header_line(std::string_view line, std::vector<header> &headers, const parser_limits &l);
};

} // namespace detail

} // namespace turquoise::http

#endif
