// libgotcha: a library dlopen()ed after start-up is relinked like the program.
#include "gotcha_helpers.hpp"

#include <catch2/catch.hpp>

#include <libgotcha.h>
#include <libinger.h>

#include <dlfcn.h>
#include <string>
#include <vector>

namespace {

using token_fn = char *(*)(char *);

struct plugin_job {
	token_fn token;
	std::string text;
	std::vector<std::string> tokens;
};

void tokenize_through_plugin(void *p) {
	auto *j = static_cast<plugin_job *>(p);
	for (char *t = j->token(j->text.data()); t; t = j->token(nullptr)) {
		j->tokens.emplace_back(t);
		linger_pause();
	}
}


} // namespace

TEST_CASE("a library dlopen()ed after start-up calls the current libset's libc", "[relink][dlopen]") {
	if (!th::libsets_available())
		return;
	gotcha_info before{};
	gotcha_get_info(&before);
	void *plugin = dlopen(INGER_TEST_PLUGIN, RTLD_NOW | RTLD_LOCAL);
	REQUIRE(plugin);
	auto token = reinterpret_cast<token_fn>(dlsym(plugin, "plugin_token"));
	REQUIRE(token);

	plugin_job a{token, "a0,a1,a2,a3,a4", {}};
	linger_t l = launch(tokenize_through_plugin, LINGER_UNLIMITED, &a);
	gotcha_info after{};
	gotcha_get_info(&after);
	CHECK(after.program_objects == before.program_objects + 1);

	// The caller uses the same plugin function (and so strtok's state in the base libc).
	std::string mine = "c0,c1,c2,c3,c4,c5,c6";
	std::vector<std::string> caller_tokens;
	for (char *t = token(mine.data()); t; t = token(nullptr)) {
		caller_tokens.emplace_back(t);
		if (!l.is_complete)
			resume(&l, LINGER_UNLIMITED);
	}
	while (!l.is_complete)
		resume(&l, LINGER_UNLIMITED);
	CHECK(a.tokens == std::vector<std::string>{"a0", "a1", "a2", "a3", "a4"});
	CHECK(caller_tokens == std::vector<std::string>{"c0", "c1", "c2", "c3", "c4", "c5", "c6"});
	dlclose(plugin);
}

TEST_CASE("a library dlopen()ed inside a preemptible function works there and after", "[relink][dlopen]") {
	void *plugin = nullptr;
	linger_t l = launch([](void *p) { *static_cast<void **>(p) = dlopen(INGER_TEST_PLUGIN, RTLD_NOW); },
	                    LINGER_UNLIMITED, &plugin);
	REQUIRE(l.is_complete);
	REQUIRE(plugin);
	auto token = reinterpret_cast<token_fn>(dlsym(plugin, "plugin_token"));
	REQUIRE(token);
	plugin_job j{token, "x,y", {}};
	linger_t m = launch(tokenize_through_plugin, LINGER_UNLIMITED, &j);
	while (!m.is_complete)
		resume(&m, LINGER_UNLIMITED);
	CHECK(j.tokens == std::vector<std::string>{"x", "y"});
	CHECK(dlclose(plugin) == 0);
}
