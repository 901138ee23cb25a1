// base64.cpp — RFC 4648 base64 (standard alphabet, padded): how Mesos's JSON carries bytes.
#include <turquoise/mesos/json.hpp>

#include <array>

namespace turquoise::mesos {

namespace {
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<signed char, 256> make_values() {
	std::array<signed char, 256> v{};
	for (auto &x : v)
		x = -1;
	for (int i = 0; i < 64; ++i)
		v[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
	return v;
}
constexpr auto values = make_values();
} // namespace

std::string base64_encode(std::string_view data) {
	std::string out;
	out.reserve((data.size() + 2) / 3 * 4);
	std::size_t i = 0;
	for (; i + 3 <= data.size(); i += 3) {
		unsigned n = (unsigned char)data[i] << 16 | (unsigned char)data[i + 1] << 8 | (unsigned char)data[i + 2];
		out += alphabet[n >> 18 & 63];
		out += alphabet[n >> 12 & 63];
		out += alphabet[n >> 6 & 63];
		out += alphabet[n & 63];
	}
	if (std::size_t rest = data.size() - i) {
		unsigned n = (unsigned char)data[i] << 16 | (rest == 2 ? (unsigned char)data[i + 1] << 8 : 0);
		out += alphabet[n >> 18 & 63];
		out += alphabet[n >> 12 & 63];
		out += rest == 2 ? alphabet[n >> 6 & 63] : '=';
		out += '=';
	}
	return out;
}

Try<std::string> base64_decode(std::string_view text) {
	if (text.size() % 4 != 0)
		return Error("invalid base64: length " + std::to_string(text.size()) + " is not a multiple of 4");
	std::string out;
	out.reserve(text.size() / 4 * 3);
	for (std::size_t i = 0; i < text.size(); i += 4) {
		bool last = i + 4 == text.size();
		int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
		if (pad == 1 && text[i + 2] == '=')
			return Error("invalid base64: misplaced '='");
		unsigned n = 0;
		for (int k = 0; k < 4 - pad; ++k) {
			int v = values[static_cast<unsigned char>(text[i + k])];
			if (v < 0)
				return Error("invalid base64: unexpected character at offset " + std::to_string(i + k));
			n |= unsigned(v) << (18 - 6 * k);
		}
		out += char(n >> 16 & 255);
		if (pad < 2)
			out += char(n >> 8 & 255);
		if (pad < 1)
			out += char(n & 255);
	}
	return out;
}

} // namespace turquoise::mesos
