// test_placement_codec.cpp — codec<T>: round trips of the provided codecs, protobuf-like types,
// a user codec, and malformed payloads (short, long, garbage) refused without reading past them.
#include <turquoise/placement/codec.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace turquoise;
using namespace turquoise::placement;

namespace {
struct Point {
	int x;
	double y;
	friend bool operator==(const Point &, const Point &) = default;
};

// Shaped like a generated protobuf message: SerializeAsString / ParseFromString.
struct FakeProto {
	std::string text;
	std::string SerializeAsString() const { return "P" + text; }
	bool ParseFromString(const std::string &s) {
		if (s.empty() || s[0] != 'P')
			return false;
		text = s.substr(1);
		return true;
	}
};

struct Celsius {
	long tenths;
};
} // namespace

template <>
struct turquoise::placement::codec<Celsius> {
	static void encode(std::string &out, const Celsius &c) { out += std::to_string(c.tenths) + ";"; }
	static Celsius decode(std::string_view &in) {
		auto end = in.find(';');
		if (end == std::string_view::npos)
			throw decode_error("no ';'");
		Celsius c{std::stol(std::string(in.substr(0, end)))};
		in.remove_prefix(end + 1);
		return c;
	}
};

TEST_CASE("provided codecs round-trip") {
	CHECK(decode<int>(encode(-42)) == -42);
	CHECK(decode<Point>(encode(Point{3, 2.5})) == Point{3, 2.5});
	CHECK(decode<std::string>(encode(std::string("hé\0llo", 7))) == std::string("hé\0llo", 7));
	std::vector<std::string> v{"a", "", "ccc"};
	CHECK(decode<std::vector<std::string>>(encode(v)) == v);
	std::map<std::string, std::vector<int>> m{{"x", {1, 2}}, {"y", {}}};
	CHECK(decode<std::map<std::string, std::vector<int>>>(encode(m)) == m);
	auto t = std::make_tuple(std::uint64_t(7), std::string("s"), true);
	CHECK(decode<decltype(t)>(encode(t)) == t);
	auto p = std::make_pair(std::string("k"), 1.5);
	CHECK(decode<decltype(p)>(encode(p)) == p);
	CHECK(encode(Nothing()).empty());
}

TEST_CASE("protobuf-like types and user codecs are used") {
	FakeProto in{"hello"};
	CHECK(decode<FakeProto>(encode(in)).text == "hello");
	CHECK_THROWS_AS(decode<FakeProto>(encode(std::string("not a proto"))), decode_error);
	CHECK(decode<Celsius>(encode(Celsius{215})).tenths == 215);
	CHECK(decode<std::vector<Celsius>>(encode(std::vector<Celsius>{{1}, {2}})).size() == 2);
}

TEST_CASE("malformed payloads are refused with decode_error") {
	CHECK_THROWS_AS(decode<int>("ab"), decode_error);
	CHECK_THROWS_AS(decode<int>(encode(1) + "x"), decode_error); // left over
	std::string s = encode(std::string("hello"));
	CHECK_THROWS_AS(decode<std::string>(s.substr(0, s.size() - 1)), decode_error);
	// A length far beyond the payload is refused before anything is allocated.
	std::string huge = encode(std::uint64_t(1) << 60);
	CHECK_THROWS_AS(decode<std::string>(huge), decode_error);
	CHECK_THROWS_AS(decode<std::vector<std::string>>(huge), decode_error);
	try {
		decode<std::string>(s.substr(0, 3));
		FAIL("decoded");
	} catch (const decode_error &e) {
		CHECK(std::string(e.what()).find("malformed payload") != std::string::npos);
	}
}

TEST_CASE("random and mutated payloads never decode past their end") {
	std::mt19937 rng(12);
	using Msg = std::tuple<std::uint64_t, std::string, std::vector<std::string>, std::map<std::string, int>>;
	std::string good = encode(Msg{5, "abc", {"x", "yz"}, {{"k", 1}}});
	int refused = 0, decoded = 0;
	for (int i = 0; i < 20000; ++i) {
		std::string bytes;
		if (i % 2) {
			bytes.resize(rng() % 64);
			for (auto &c : bytes)
				c = static_cast<char>(rng());
		} else {
			bytes = good;
			for (int k = 0; k < 3; ++k)
				bytes[rng() % bytes.size()] = static_cast<char>(rng());
			bytes.resize(rng() % (bytes.size() + 1));
		}
		try {
			(void)decode<Msg>(bytes);
			++decoded;
		} catch (const decode_error &) {
			++refused;
		}
	}
	CHECK(refused > 0);
	CHECK(refused + decoded == 20000);
}
