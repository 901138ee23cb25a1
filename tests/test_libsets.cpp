// libgotcha: each preemptible function runs against its own copy of the libraries.
#include "gotcha_helpers.hpp"

#include <catch2/catch.hpp>

#include <libgotcha.h>
#include <libinger.h>

#include <cerrno>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Tokenize `text` with strtok(), pausing after every token, so that other functions and
// the caller use strtok in between.
struct tokenizer {
	std::string text;
	std::vector<std::string> tokens;
};

void tokenize_with_pauses(void *p) {
	auto *t = static_cast<tokenizer *>(p);
	for (char *tok = std::strtok(t->text.data(), ","); tok; tok = std::strtok(nullptr, ",")) {
		t->tokens.emplace_back(tok);
		linger_pause();
	}
}

std::vector<std::string> expected_tokens(const std::string &prefix, int n) {
	std::vector<std::string> out;
	for (int i = 0; i < n; i++)
		out.push_back(prefix + std::to_string(i));
	return out;
}

// stem + i + separator, built by appending. Not `"j" + std::to_string(i) + "-"`: at -O3
// GCC 12 inlines operator+(const char *, std::string &&) (an insert at the front) and warns
// falsely that the copy may overlap (-Wrestrict), which fails a Release build with -Werror.
std::string numbered(const char *stem, int i, const char *separator) {
	std::string s(stem);
	s += std::to_string(i);
	s += separator;
	return s;
}

std::string joined(const std::vector<std::string> &tokens) {
	std::string s;
	for (const auto &t : tokens)
		s += (s.empty() ? "" : ",") + t;
	return s;
}

} // namespace

TEST_CASE("libsets are made at start-up: one per namespace glibc allows", "[libsets]") {
	if (!th::libsets_available())
		return;
	gotcha_info i = th::libsets_info();
	INFO("slots " << i.slots << ", copied " << i.copied_objects << ", routed " << i.routed_symbols
	              << ", state " << i.state_bytes << " bytes");
	// The tests run with GLIBC_TUNABLES=glibc.rtld.nns=16 (tests/CMakeLists.txt).
	CHECK(i.slots == 15);
	CHECK(i.copied_objects >= 2); // libc and libm at least (libstdc++ needs libm)
	CHECK(i.routed_symbols > 10);  // strtok, strlen, setlocale, qsort... of this program
	CHECK(i.shared_symbols > 0);   // the copies' malloc, stdio... sent back to the base
	CHECK(i.state_bytes > 50000);  // libc's .data and .bss
	CHECK(i.disabled_reason == nullptr);
}

TEST_CASE("strtok state is isolated between two interleaved preemptible functions and the caller", "[libsets][strtok]") {
	if (!th::libsets_available())
		return;
	tokenizer a{joined(expected_tokens("a", 20)), {}};
	tokenizer b{joined(expected_tokens("b", 20)), {}};
	linger_t la = launch(tokenize_with_pauses, LINGER_UNLIMITED, &a);
	linger_t lb = launch(tokenize_with_pauses, LINGER_UNLIMITED, &b);
	// The caller tokenizes its own string in between, with the same static state in the base.
	std::string mine = joined(expected_tokens("c", 40));
	std::vector<std::string> caller_tokens;
	char *tok = std::strtok(mine.data(), ",");
	while (!la.is_complete || !lb.is_complete || tok) {
		if (!la.is_complete)
			resume(&la, LINGER_UNLIMITED);
		if (tok) {
			caller_tokens.emplace_back(tok);
			tok = std::strtok(nullptr, ",");
		}
		if (!lb.is_complete)
			resume(&lb, LINGER_UNLIMITED);
		REQUIRE(la.error == LINGER_OK);
		REQUIRE(lb.error == LINGER_OK);
	}
	CHECK(a.tokens == expected_tokens("a", 20));
	CHECK(b.tokens == expected_tokens("b", 20));
	CHECK(caller_tokens == expected_tokens("c", 40));
}

namespace {

struct spinning_tokenizer {
	std::string text;
	std::vector<std::string> tokens;
	int spin_us;
};

// No pauses: preemption (every 20 us) decides where it stops, between or inside calls.
void tokenize_spinning(void *p) {
	auto *t = static_cast<spinning_tokenizer *>(p);
	for (char *tok = std::strtok(t->text.data(), ","); tok; tok = std::strtok(nullptr, ",")) {
		t->tokens.emplace_back(tok);
		th::spin_us(t->spin_us);
	}
}

} // namespace

TEST_CASE("strtok sequences preempted by the timer stay isolated", "[libsets][strtok][preempt]") {
	if (!th::libsets_available())
		return;
	auto before = th::stats();
	std::vector<spinning_tokenizer> jobs;
	for (int i = 0; i < 4; i++)
		jobs.push_back({joined(expected_tokens(numbered("j", i, "-"), 30)), {}, 50});
	std::vector<linger_t> handles;
	for (auto &j : jobs)
		handles.push_back(launch(tokenize_spinning, 20, &j));
	for (bool busy = true; busy;) {
		busy = false;
		for (auto &l : handles) {
			REQUIRE(l.error == LINGER_OK);
			if (!l.is_complete) {
				resume(&l, 20);
				busy = true;
			}
		}
	}
	for (int i = 0; i < 4; i++)
		CHECK(jobs[i].tokens == expected_tokens(numbered("j", i, "-"), 30));
	CHECK(th::diff(before, th::stats()).preemptions >= 100);
}

TEST_CASE("512 paused functions, each inside a strtok sequence, all complete correctly", "[libsets][strtok][scale]") {
	if (!th::libsets_available())
		return;
	constexpr int functions = 512, tokens = 6;
	gotcha_info before = th::libsets_info();
	std::vector<tokenizer> jobs(functions);
	std::vector<linger_t> handles(functions);
	for (int i = 0; i < functions; i++) {
		jobs[i].text = joined(expected_tokens(numbered("f", i, "."), tokens));
		handles[i] = launch(tokenize_with_pauses, LINGER_UNLIMITED, &jobs[i]);
		REQUIRE(handles[i].error == LINGER_OK);
		REQUIRE_FALSE(handles[i].is_complete); // paused after its first token
	}
	CHECK(th::stats().live >= functions);
	// Resume them round-robin, so that every resume finds its slot holding another's state.
	for (int round = 0; round < tokens; round++) {
		for (int i = 0; i < functions; i++) {
			resume(&handles[i], LINGER_UNLIMITED);
			REQUIRE(handles[i].error == LINGER_OK);
		}
	}
	int wrong = 0;
	for (int i = 0; i < functions; i++) {
		CHECK(handles[i].is_complete);
		wrong += jobs[i].tokens != expected_tokens(numbered("f", i, "."), tokens);
	}
	CHECK(wrong == 0);
	gotcha_info after = th::libsets_info();
	INFO("swaps " << after.swaps - before.swaps << ", restores " << after.restores - before.restores);
	CHECK(after.swaps - before.swaps >= functions); // more functions than slots: state paged
	CHECK(after.shared_mode == before.shared_mode);  // every one of them isolated
}

namespace {

struct errno_job {
	int seen_after_strtol = 0;
	int seen_after_pause = 0;
};

void library_sets_errno(void *p) {
	auto *j = static_cast<errno_job *>(p);
	errno = 0;
	(void)std::strtol("99999999999999999999999", nullptr, 10); // the copy's libc sets ERANGE
	j->seen_after_strtol = errno;
	linger_pause();
	j->seen_after_pause = errno;
}

} // namespace

TEST_CASE("errno set by a copied library is the function's own and survives its pauses", "[libsets][errno]") {
	if (!th::libsets_available())
		return;
	errno_job j;
	errno = 0;
	linger_t l = launch(library_sets_errno, LINGER_UNLIMITED, &j);
	CHECK(errno == 0); // the caller's errno is untouched by the function's ERANGE
	errno = EBADF;
	(void)std::strtol("12", nullptr, 10);
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);
	CHECK(errno == EBADF);
	CHECK(j.seen_after_strtol == ERANGE);
	CHECK(j.seen_after_pause == ERANGE);
}

namespace {

void french_locale_then_pause(void *p) {
	auto *out = static_cast<std::string *>(p);
	const char *set = std::setlocale(LC_NUMERIC, "C.UTF-8");
	*out = set ? set : "";
	linger_pause();
	const char *now = std::setlocale(LC_NUMERIC, nullptr);
	*out += std::string("|") + (now ? now : "");
}

} // namespace

TEST_CASE("setlocale in a function does not change the caller's locale", "[libsets][locale]") {
	if (!th::libsets_available())
		return;
	std::string seen;
	std::string caller_before = std::setlocale(LC_NUMERIC, nullptr);
	linger_t l = launch(french_locale_then_pause, LINGER_UNLIMITED, &seen);
	CHECK(std::string(std::setlocale(LC_NUMERIC, nullptr)) == caller_before);
	resume(&l, LINGER_UNLIMITED);
	REQUIRE(l.is_complete);
	CHECK(seen == "C.UTF-8|C.UTF-8");
	CHECK(std::string(std::setlocale(LC_NUMERIC, nullptr)) == caller_before);
}

TEST_CASE("a cancelled function's libset is reset before it is used again", "[libsets][cancel]") {
	if (!th::libsets_available())
		return;
	gotcha_info before = th::libsets_info();
	// Cancel functions that changed their library state and stopped, on every slot.
	for (int i = 0; i < 40; i++) {
		std::string seen;
		linger_t l = launch(french_locale_then_pause, LINGER_UNLIMITED, &seen);
		REQUIRE_FALSE(l.is_complete);
		REQUIRE(seen == "C.UTF-8");
		cancel(&l);
		REQUIRE(l.error == LINGER_OK);
	}
	// New functions start from the start-up state, whichever slot they get.
	int inherited = 0;
	for (int i = 0; i < 40; i++) {
		std::string locale;
		linger_t l = launch([](void *p) { *static_cast<std::string *>(p) = std::setlocale(LC_NUMERIC, nullptr); },
		                    LINGER_UNLIMITED, &locale);
		REQUIRE(l.is_complete);
		inherited += locale != "C";
	}
	CHECK(inherited == 0);
	CHECK(th::libsets_info().restores > before.restores);
	CHECK(th::stats().live == 0);
}
