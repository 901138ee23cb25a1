// test_mesos_recordio.cpp — RecordIO framing ("<length>\n<record>"): encoder, the incremental
// decoder on every split of a stream, and malformed or hostile input (fuzzed, bounded size).
#include <turquoise/mesos/recordio.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace turquoise;
using namespace turquoise::mesos;

TEST_CASE("encode writes the decimal byte length, a newline, then the record") {
	CHECK(recordio::encode("{\"type\":\"HEARTBEAT\"}") == "20\n{\"type\":\"HEARTBEAT\"}");
	CHECK(recordio::encode("") == "0\n");
	CHECK(recordio::encode(std::string(1000, 'x')).substr(0, 5) == "1000\n");
}

TEST_CASE("records come out whole however the stream is split into chunks") {
	std::vector<std::string> records = {"{\"type\":\"SUBSCRIBED\"}", "", std::string("a\nb\0c", 5),
	                                    std::string(70000, 'z'), "12\n"};
	std::string stream;
	for (auto &r : records)
		stream += recordio::encode(r);
	// Every two-way split point, then random multi-way splits.
	for (std::size_t cut = 0; cut <= stream.size(); cut += (cut < 64 || cut > stream.size() - 64) ? 1 : 997) {
		recordio::Decoder d;
		auto a = d.decode(std::string_view(stream).substr(0, cut));
		auto b = d.decode(std::string_view(stream).substr(cut));
		REQUIRE(a.isSome());
		REQUIRE(b.isSome());
		std::vector<std::string> all = a.get();
		all.insert(all.end(), b.get().begin(), b.get().end());
		REQUIRE(all == records);
		CHECK(d.buffered() == 0);
	}
	std::mt19937 rng(7);
	for (int round = 0; round < 200; ++round) {
		recordio::Decoder d;
		std::vector<std::string> all;
		for (std::size_t at = 0; at < stream.size();) {
			std::size_t n = 1 + rng() % (round % 2 ? 7 : 5000);
			auto got = d.decode(std::string_view(stream).substr(at, n));
			REQUIRE(got.isSome());
			all.insert(all.end(), got.get().begin(), got.get().end());
			at += n;
		}
		REQUIRE(all == records);
	}
}

TEST_CASE("malformed framing is an error, and the decoder stays failed") {
	auto fails = [](std::string_view stream, const char *why) {
		recordio::Decoder d(1024);
		auto r = d.decode(stream);
		REQUIRE(r.isError());
		CHECK_THAT(r.error(), Catch::Contains(why));
		CHECK(d.failed());
		CHECK(d.decode("3\nabc").isError()); // no resynchronisation
	};
	fails("12x\nabc", "not a decimal");
	fails("-1\n", "not a decimal");
	fails(" 5\nhello", "not a decimal");
	fails("\nabc", "empty record length");
	fails("1025\n", "exceeds the limit");
	fails("99999999999999999999\n", "exceeds the limit");   // 20 digits: beyond 2^64 - 1
	fails("184467440737095516160\n", "too many digits");   // 21 digits, no newline needed
	fails("000000000000000000000", "too many digits");
	// A length that never ends keeps at most 20 bytes.
	recordio::Decoder d(1024);
	REQUIRE(d.decode("1234").isSome());
	CHECK(d.buffered() == 4);
}

TEST_CASE("random and mutated streams: no crash, bounded buffering, valid prefixes decoded (fuzz)") {
	std::mt19937 rng(20261203);
	constexpr std::size_t limit = 4096;
	for (int round = 0; round < 3000; ++round) {
		std::string stream;
		std::vector<std::string> sent;
		for (int k = 0, n = static_cast<int>(rng() % 6); k < n; ++k) {
			sent.emplace_back(rng() % 300, static_cast<char>('a' + rng() % 26));
			stream += recordio::encode(sent.back());
		}
		bool mutated = round % 3 != 0;
		if (mutated && !stream.empty()) {
			for (int e = 0, edits = 1 + static_cast<int>(rng() % 3); e < edits; ++e) {
				std::size_t at = rng() % stream.size();
				if (rng() % 2)
					stream[at] = static_cast<char>(rng());
				else
					stream.insert(at, std::to_string(rng()));
			}
		}
		recordio::Decoder d(limit);
		std::vector<std::string> got;
		bool failed = false;
		for (std::size_t at = 0; at < stream.size() && !failed;) {
			std::size_t n = 1 + rng() % 64;
			auto r = d.decode(std::string_view(stream).substr(at, n));
			if (r.isError())
				failed = true;
			else
				got.insert(got.end(), r.get().begin(), r.get().end());
			CHECK(d.buffered() <= limit + 20);
			at += n;
		}
		for (auto &r : got)
			CHECK(r.size() <= limit);
		if (!mutated) {
			CHECK_FALSE(failed);
			CHECK(got == sent);
		}
	}
}
