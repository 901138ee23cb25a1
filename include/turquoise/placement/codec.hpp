// turquoise/placement/codec.hpp — how a placed value travels between peers: the customization
// point codec<T>.
//
//   template <> struct turquoise::placement::codec<Point> {
//     static void encode(std::string &out, const Point &p);       // append p's bytes
//     static Point decode(std::string_view &in);                  // consume them
//   };
//
// Provided: trivially copyable types (their bytes: both peers run the same program on the same
// architecture), std::string, std::vector<T>, std::pair, std::tuple, std::map, Nothing, and
// protobuf-like types (SerializeAsString / ParseFromString, length-prefixed). decode throws
// decode_error on a payload that is short, too long or otherwise malformed; it never reads past
// the payload.
#ifndef TURQUOISE_PLACEMENT_CODEC_HPP
#define TURQUOISE_PLACEMENT_CODEC_HPP

#include <turquoise/async/nothing.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace turquoise::placement {

struct decode_error : std::runtime_error {
	using std::runtime_error::runtime_error;
};

template <class T, class = void>
struct codec; // no codec: "incomplete type codec<T>" names T

namespace detail {
inline void need(std::string_view in, std::size_t n, const char *what) {
	if (in.size() < n)
		throw decode_error(std::string("malformed payload: ") + what + " needs " + std::to_string(n) +
		                   " bytes, " + std::to_string(in.size()) + " left");
}
inline void put_size(std::string &out, std::uint64_t n) { out.append(reinterpret_cast<const char *>(&n), sizeof n); }
inline std::uint64_t take_size(std::string_view &in, const char *what) {
	std::uint64_t n;
	need(in, sizeof n, what);
	std::memcpy(&n, in.data(), sizeof n);
	in.remove_prefix(sizeof n);
	if (n > in.size() * 8 + 64) // an element takes at least one byte, except empty ones
		throw decode_error(std::string("malformed payload: ") + what + " length " + std::to_string(n) +
		                   " beyond the payload");
	return n;
}
template <class T>
concept protobuf_like = requires(T t, const T ct, const std::string &s) {
	{ ct.SerializeAsString() } -> std::convertible_to<std::string>;
	{ t.ParseFromString(s) } -> std::convertible_to<bool>;
};
} // namespace detail

template <class T>
struct codec<T, std::enable_if_t<std::is_trivially_copyable_v<T> && !detail::protobuf_like<T>>> {
	static void encode(std::string &out, const T &v) { out.append(reinterpret_cast<const char *>(&v), sizeof v); }
	static T decode(std::string_view &in) {
		detail::need(in, sizeof(T), "a fixed-size value");
		T v;
		std::memcpy(static_cast<void *>(&v), in.data(), sizeof v);
		in.remove_prefix(sizeof v);
		return v;
	}
};

template <>
struct codec<std::string> {
	static void encode(std::string &out, const std::string &s) {
		detail::put_size(out, s.size());
		out += s;
	}
	static std::string decode(std::string_view &in) {
		auto n = detail::take_size(in, "a string");
		detail::need(in, n, "a string");
		std::string s(in.substr(0, n));
		in.remove_prefix(n);
		return s;
	}
};

template <>
struct codec<Nothing> {
	static void encode(std::string &, const Nothing &) {}
	static Nothing decode(std::string_view &) { return Nothing(); }
};

template <class T>
struct codec<T, std::enable_if_t<detail::protobuf_like<T>>> {
	static void encode(std::string &out, const T &m) { codec<std::string>::encode(out, m.SerializeAsString()); }
	static T decode(std::string_view &in) {
		T m;
		if (!m.ParseFromString(codec<std::string>::decode(in)))
			throw decode_error("malformed payload: the message does not parse");
		return m;
	}
};

template <class T>
struct codec<std::vector<T>> {
	static void encode(std::string &out, const std::vector<T> &v) {
		detail::put_size(out, v.size());
		for (const T &e : v)
			codec<T>::encode(out, e);
	}
	static std::vector<T> decode(std::string_view &in) {
		auto n = detail::take_size(in, "a vector");
		std::vector<T> v;
		for (std::uint64_t i = 0; i < n; ++i)
			v.push_back(codec<T>::decode(in));
		return v;
	}
};

template <class... T>
struct codec<std::tuple<T...>> {
	static void encode(std::string &out, const std::tuple<T...> &t) {
		std::apply([&](const T &...e) { (codec<T>::encode(out, e), ...); }, t);
	}
	static std::tuple<T...> decode(std::string_view &in) {
		return std::tuple<T...>{codec<T>::decode(in)...}; // braces: left to right
	}
};

template <class A, class B>
struct codec<std::pair<A, B>> {
	static void encode(std::string &out, const std::pair<A, B> &p) {
		codec<A>::encode(out, p.first);
		codec<B>::encode(out, p.second);
	}
	static std::pair<A, B> decode(std::string_view &in) {
		A a = codec<A>::decode(in);
		B b = codec<B>::decode(in);
		return {std::move(a), std::move(b)};
	}
};

template <class K, class V>
struct codec<std::map<K, V>> {
	static void encode(std::string &out, const std::map<K, V> &m) {
		detail::put_size(out, m.size());
		for (const auto &[k, v] : m) {
			codec<K>::encode(out, k);
			codec<V>::encode(out, v);
		}
	}
	static std::map<K, V> decode(std::string_view &in) {
		auto n = detail::take_size(in, "a map");
		std::map<K, V> m;
		for (std::uint64_t i = 0; i < n; ++i) {
			K k = codec<K>::decode(in);
			m.emplace(std::move(k), codec<V>::decode(in));
		}
		return m;
	}
};

// The bytes of v, and v back from exactly those bytes (decode_error on leftovers).
template <class T>
std::string encode(const T &v) {
	std::string out;
	codec<T>::encode(out, v);
	return out;
}
template <class T>
T decode(std::string_view in) {
	T v = codec<T>::decode(in);
	if (!in.empty())
		throw decode_error("malformed payload: " + std::to_string(in.size()) + " bytes left over");
	return v;
}

} // namespace turquoise::placement

#endif
