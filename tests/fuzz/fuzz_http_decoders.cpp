// fuzz_http_decoders.cpp — a libFuzzer entry point for the HTTP request and response decoders.
// Built only with clang on request (-DINGER_FUZZ=ON, see tests/CMakeLists.txt); run as
// `fuzz_http_decoders -max_total_time=60`. The first byte picks the decoder, the limits and
// how the rest is split into feeds; each input must decode the same whole and split, within
// the memory bound, without a crash (checked by the sanitizers).
#include <turquoise/http/parser.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace http = turquoise::http;

namespace {

template <class Parser>
std::size_t run(Parser &p, std::string_view data, std::size_t piece, std::size_t bound, std::string &bodies) {
	std::size_t messages = 0;
	for (std::size_t pos = 0; pos < data.size() && !p.failed();) {
		std::string_view in = data.substr(pos, piece);
		pos += in.size();
		while (!in.empty() && !p.failed()) {
			in.remove_prefix(p.feed(in));
			if (p.buffered() > bound)
				std::abort(); // the memory bound is broken
			if (!p.ready())
				break;
			bodies += p.take().body;
			bodies += '|';
			++messages;
		}
	}
	return messages;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *bytes, std::size_t size) {
	if (size == 0)
		return 0;
	unsigned mode = bytes[0];
	std::string_view data(reinterpret_cast<const char *>(bytes + 1), size - 1);
	http::parser_limits limits = (mode & 2) ? http::parser_limits{64, 256, 5, 100} : http::parser_limits{};
	std::size_t piece = 1 + (mode >> 2);
	std::size_t bound = 2 * (limits.max_request_line + 2) + 2 * limits.max_header_bytes + limits.max_body + 2048;
	std::string whole_bodies, split_bodies;
	if (mode & 1) {
		http::response_parser whole(limits), split(limits);
		std::size_t a = run(whole, data, data.size(), bound, whole_bodies);
		std::size_t b = run(split, data, piece, bound, split_bodies);
		if (a != b || whole.failed() != split.failed() || whole_bodies != split_bodies)
			std::abort();
	} else {
		http::request_parser whole(limits), split(limits);
		std::size_t a = run(whole, data, data.size(), bound, whole_bodies);
		std::size_t b = run(split, data, piece, bound, split_bodies);
		if (a != b || whole.failed() != split.failed() || whole_bodies != split_bodies)
			std::abort();
	}
	return 0;
}
