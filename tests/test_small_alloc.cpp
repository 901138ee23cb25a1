// The small-object allocator of tasks and messages (include/turquoise/detail/small_alloc.hpp):
// blocks allocated on some threads and freed on another, as in a fan-in; threads that exit
// with cached blocks; and the memory of freed blocks is used again rather than growing.
#include "helpers.hpp"

#include <turquoise/detail/small_alloc.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace turquoise::detail;

namespace {

// Every byte of a block says who wrote it, so a block handed out twice at once shows up.
void fill(void *p, std::size_t bytes, std::uint8_t tag) { std::memset(p, tag, bytes); }
bool intact(const void *p, std::size_t bytes, std::uint8_t tag) {
	auto *b = static_cast<const std::uint8_t *>(p);
	for (std::size_t i = 0; i < bytes; ++i)
		if (b[i] != tag)
			return false;
	return true;
}

struct handoff {
	std::mutex mutex;
	std::vector<std::pair<void *, std::size_t>> blocks;
	std::vector<std::uint8_t> tags;
};

} // namespace

TEST_CASE("blocks allocated on several threads and freed on another stay intact") {
	constexpr int senders = 4;
	constexpr int per_sender = 20000;
	const std::size_t sizes[] = {8, 64, 65, 200, 256, 512, 1000, 1024, 4000};
	handoff box;
	std::atomic<int> done{0};
	std::vector<std::thread> threads;
	for (int s = 0; s < senders; ++s)
		threads.emplace_back([&, s] {
			for (int i = 0; i < per_sender; ++i) {
				std::size_t n = sizes[(i + s) % std::size(sizes)];
				void *p = allocate_small(n);
				auto tag = static_cast<std::uint8_t>(s * 50 + i % 50);
				fill(p, n, tag);
				std::lock_guard lock(box.mutex);
				box.blocks.emplace_back(p, n);
				box.tags.push_back(tag);
			}
			done++;
		});
	std::size_t freed = 0, bad = 0;
	for (;;) {
		bool last = done.load() == senders;
		std::vector<std::pair<void *, std::size_t>> blocks;
		std::vector<std::uint8_t> tags;
		{
			std::lock_guard lock(box.mutex);
			blocks.swap(box.blocks);
			tags.swap(box.tags);
		}
		for (std::size_t i = 0; i < blocks.size(); ++i) {
			bad += !intact(blocks[i].first, blocks[i].second, tags[i]);
			free_small(blocks[i].first, blocks[i].second);
		}
		freed += blocks.size();
		if (last && blocks.empty())
			break;
	}
	for (auto &t : threads)
		t.join();
	CHECK(bad == 0);
	CHECK(freed == std::size_t{senders} * per_sender);
}

TEST_CASE("freed blocks are used again, also those of threads that exited") {
	if (th::sanitized) {
		WARN("not checked under ASan: there the allocator is operator new/delete");
		return;
	}
	constexpr std::size_t n = 200;
	constexpr int rounds = 50, per_round = 1000;
	std::set<void *> seen;
	for (int round = 0; round < rounds; ++round) {
		// A short-lived thread allocates and frees, then exits with its lists full: they go
		// to the depot, and the next thread's allocations come from there.
		std::vector<void *> got;
		std::thread([&] {
			std::vector<void *> mine;
			for (int i = 0; i < per_round; ++i)
				mine.push_back(allocate_small(n));
			got = mine;
			for (void *p : mine)
				free_small(p, n);
		}).join();
		seen.insert(got.begin(), got.end());
	}
	// Without reuse every round would bring new blocks: rounds * per_round addresses.
	CHECK(seen.size() < std::size_t{4} * per_round);
}
