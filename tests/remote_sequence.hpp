// remote_sequence.hpp — the order check of the remote-process tests (test and remote_peer):
// message bodies "tag n", where n must count 0, 1, 2... per tag.
#pragma once

#include <atomic>
#include <cstdlib>
#include <map>
#include <string>

namespace remote_test {

struct sequence_check {
	std::atomic<long> received{0}, out_of_order{0}; // read from other threads
	std::map<std::string, long> next;               // the next n expected per tag

	void saw(const std::string &body) {
		auto space = body.find(' ');
		std::string tag = body.substr(0, space);
		long n = std::strtol(body.c_str() + space + 1, nullptr, 10);
		if (n != next[tag])
			++out_of_order;
		next[tag] = n + 1;
		++received;
	}
};

} // namespace remote_test
