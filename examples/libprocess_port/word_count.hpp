// word_count.hpp — a word-count service written as a libprocess user writes one: a process
// that owns the state, and a plain class that spawns it, forwards calls with dispatch() and
// terminates it in its destructor. Ported from libprocess by changing the includes and adding
// the `namespace process = turquoise;` alias (durations are std::chrono, not stout's).
#ifndef WORD_COUNT_HPP
#define WORD_COUNT_HPP

#include <turquoise/async/async.hpp>
#include <turquoise/metrics/metrics.hpp>
#include <turquoise/process/dispatch.hpp>
#include <turquoise/process/process.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace process = turquoise;

using process::Future;
using process::Nothing;
using process::PID;

class WordCountProcess : public process::Process<WordCountProcess> {
public:
	explicit WordCountProcess(std::chrono::nanoseconds flushInterval)
	    : ProcessBase(process::ID::generate("word-count")), flushInterval(flushInterval),
	      words("word_count/words") {}

	// Counts the words of `line` in the pending batch (visible to count() after a flush).
	Nothing add(const std::string &line) {
		std::size_t start = 0;
		while (start < line.size()) {
			std::size_t end = line.find(' ', start);
			if (end == std::string::npos)
				end = line.size();
			if (end > start) {
				++pending[line.substr(start, end - start)];
				++words;
			}
			start = end + 1;
		}
		return Nothing();
	}

	std::size_t count(const std::string &word) const {
		auto it = counts.find(word);
		return it == counts.end() ? 0 : it->second;
	}

	std::size_t flushes() const { return flushed; }

protected:
	void initialize() override {
		process::metrics::add(words);
		process::delay(flushInterval, self(), &WordCountProcess::flush);
	}

	void finalize() override { process::metrics::remove(words); }

private:
	// Folds the pending batch into the counts, one word per iteration of an asynchronous loop
	// run in this process's context, then schedules the next flush.
	void flush() {
		std::vector<std::pair<std::string, std::size_t>> batch(pending.begin(), pending.end());
		pending.clear();
		auto index = std::make_shared<std::size_t>(0);
		process::loop(
		    self(), [index] { return (*index)++; },
		    [this, batch](std::size_t i) -> process::ControlFlow<Nothing> {
			    if (i >= batch.size())
				    return process::Break();
			    counts[batch[i].first] += batch[i].second;
			    return process::Continue();
		    })
		    .onReady(process::defer(self(), [this](const Nothing &) {
			    ++flushed;
			    process::delay(flushInterval, self(), &WordCountProcess::flush);
		    }));
	}

	const std::chrono::nanoseconds flushInterval;
	std::map<std::string, std::size_t> pending;
	std::map<std::string, std::size_t> counts;
	std::size_t flushed = 0;
	process::metrics::Counter words;
};

class WordCount {
public:
	explicit WordCount(std::chrono::nanoseconds flushInterval)
	    : process(new WordCountProcess(flushInterval)) {
		process::spawn(process);
	}
	~WordCount() {
		process::terminate(process);
		process::wait(process);
		delete process;
	}
	WordCount(const WordCount &) = delete;
	WordCount &operator=(const WordCount &) = delete;

	Future<Nothing> add(const std::string &line) {
		return process::dispatch(process, &WordCountProcess::add, line);
	}
	Future<std::size_t> count(const std::string &word) {
		return process::dispatch(process, &WordCountProcess::count, word);
	}
	Future<std::size_t> flushes() { return process::dispatch(process, &WordCountProcess::flushes); }

private:
	WordCountProcess *process;
};

#endif
