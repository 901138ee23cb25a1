// test_mesos_allocation.cpp — the allocation helper: examples, then properties checked on
// random offers and specs (fixed seeds): never over-commits an offer, never exceeds maxcol,
// honours constraints, places as many as fit, is deterministic.
#include <catch2/catch.hpp>

#include <turquoise/mesos/allocation.hpp>
#include <turquoise/mesos/types.hpp>

#include <algorithm>
#include <random>
#include <regex>
#include <set>
#include <stdexcept>

using namespace turquoise::mesos;
namespace v1 = ::mesos::v1;

namespace {

offered offer(std::string id, std::string host, double cpus, double mem, double disk = 0,
              std::vector<std::pair<std::uint64_t, std::uint64_t>> ports = {}) {
	offered o;
	o.id = id;
	o.agent_id = "agent-" + id;
	o.hostname = std::move(host);
	o.cpus = cpus;
	o.mem = mem;
	o.disk = disk;
	o.ports = std::move(ports);
	return o;
}

std::map<std::string, std::size_t> per_host(const allocation &a, const std::vector<offered> &offers,
                                            std::size_t spec) {
	std::map<std::string, std::size_t> n;
	for (const auto &p : a.placements)
		if (p.spec == spec)
			++n[offers[p.offer].hostname];
	return n;
}

} // namespace

TEST_CASE("six instances, no more than two on a host") {
	std::vector<offered> offers = {offer("1", "a", 8, 8192), offer("2", "b", 8, 8192),
	                               offer("3", "c", 8, 8192), offer("4", "d", 8, 8192)};
	task_spec web;
	web.name = "web";
	web.count = 6;
	web.maxcol = 2;
	web.cpus = 0.5;
	web.mem = 64;
	allocation a = allocate(offers, {web});
	REQUIRE(a.placements.size() == 6);
	CHECK(a.unplaced == std::vector<std::size_t>{0});
	for (auto &[host, n] : per_host(a, offers, 0))
		CHECK(n <= 2);
	// Spread: one per host in the first round, then the second round from the first offer.
	std::vector<std::size_t> order;
	for (auto &p : a.placements)
		order.push_back(p.offer);
	CHECK(order == std::vector<std::size_t>{0, 1, 2, 3, 0, 1});
	for (std::size_t i = 0; i < 6; ++i)
		CHECK(a.placements[i].instance == i);
}

TEST_CASE("maxcol counts the instances already running and can key on agents") {
	std::vector<offered> offers = {offer("1", "same", 8, 8192), offer("2", "same", 8, 8192)};
	task_spec t;
	t.count = 5;
	t.maxcol = 2;
	t.cpus = 1;
	SECTION("by hostname: both agents are one host") {
		allocation a = allocate(offers, {t});
		CHECK(a.placements.size() == 2);
		CHECK(a.unplaced[0] == 3);
		t.running["same"] = 1;
		CHECK(allocate(offers, {t}).placements.size() == 1);
	}
	SECTION("by agent id") {
		allocation_options by_agent;
		by_agent.host_key = allocation_options::key::agent_id;
		CHECK(allocate(offers, {t}, by_agent).placements.size() == 4);
		t.running["agent-2"] = 2;
		allocation a = allocate(offers, {t}, by_agent);
		CHECK(a.placements.size() == 2);
		for (auto &p : a.placements)
			CHECK(p.offer == 0);
	}
}

TEST_CASE("scalars are accounted in Mesos's fixed point, not in floating point") {
	// 0.3 - 0.1 - 0.1 < 0.1 in binary floating point: three instances must still fit.
	std::vector<offered> offers = {offer("1", "a", 0.3, 30.3)};
	task_spec t;
	t.count = 10;
	t.cpus = 0.1;
	t.mem = 10.1;
	allocation a = allocate(offers, {t});
	CHECK(a.placements.size() == 3);
	CHECK(a.unplaced[0] == 7);
	CHECK(fixed_point(0.1 + 0.2) == 300);
	CHECK(fixed_point(1.0004) == 1000);
	CHECK(fixed_point(1.0006) == 1001);
}

TEST_CASE("ports are taken lowest first from the offer's ranges") {
	std::vector<offered> offers = {offer("1", "a", 10, 1000, 0, {{31005, 31005}, {31000, 31002}})};
	task_spec t;
	t.count = 3;
	t.ports = 2;
	allocation a = allocate(offers, {t});
	REQUIRE(a.placements.size() == 2);
	CHECK(a.placements[0].ports == std::vector<std::uint64_t>{31000, 31001});
	CHECK(a.placements[1].ports == std::vector<std::uint64_t>{31002, 31005});
	CHECK(a.unplaced[0] == 1);
	// Overlapping ranges offer each port once.
	offers[0].ports = {{10, 12}, {11, 13}, {20, 19}};
	t.ports = 1;
	t.count = 10;
	a = allocate(offers, {t});
	CHECK(a.placements.size() == 4);
}

TEST_CASE("constraints on attributes, hostname and agent id") {
	std::vector<offered> offers = {offer("1", "h1", 4, 400), offer("2", "h2", 4, 400),
	                               offer("3", "h3", 4, 400)};
	offers[0].attributes["rack"] = "r1";
	offers[1].attributes["rack"] = "r2";
	task_spec t;
	t.count = 3;
	t.maxcol = 1;
	t.cpus = 1;
	auto hosts = [&](const allocation &a) {
		std::vector<std::string> h;
		for (auto &p : a.placements)
			h.push_back(offers[p.offer].hostname);
		return h;
	};
	t.constraints = {{"rack", constraint::op::equals, "r2"}};
	CHECK(hosts(allocate(offers, {t})) == std::vector<std::string>{"h2"});
	t.constraints = {{"rack", constraint::op::not_equals, "r2"}};
	CHECK(hosts(allocate(offers, {t})) == std::vector<std::string>{"h1", "h3"});
	t.constraints = {{"rack", constraint::op::like, "r[0-9]"}};
	CHECK(hosts(allocate(offers, {t})) == std::vector<std::string>{"h1", "h2"});
	t.constraints = {{"rack", constraint::op::unlike, "r1"}, {"hostname", constraint::op::unlike, "h3"}};
	CHECK(hosts(allocate(offers, {t})) == std::vector<std::string>{"h2"});
	t.constraints = {{"agent_id", constraint::op::equals, "agent-3"}};
	CHECK(hosts(allocate(offers, {t})) == std::vector<std::string>{"h3"});
}

TEST_CASE("bad specs are rejected with the spec's name") {
	std::vector<offered> offers = {offer("1", "a", 1, 1)};
	task_spec t;
	t.name = "broken";
	t.cpus = -1;
	CHECK_THROWS_WITH(allocate(offers, {t}), Catch::Contains("broken") && Catch::Contains("cpus"));
	t.cpus = 1;
	t.mem = std::numeric_limits<double>::quiet_NaN();
	CHECK_THROWS_AS(allocate(offers, {t}), std::invalid_argument);
	t.mem = 1;
	t.constraints = {{"rack", constraint::op::like, "(("}};
	CHECK_THROWS_WITH(allocate(offers, {t}), Catch::Contains("regular expression"));
}

namespace {

struct instance {
	std::vector<offered> offers;
	std::vector<task_spec> specs;
};

instance random_instance(std::mt19937 &rng, std::size_t max_specs) {
	auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
	auto decimal = [&](int hi_thousandths) { return uniform(0, hi_thousandths) / 1000.0; };
	instance in;
	int offers = uniform(0, 8);
	for (int i = 0; i < offers; ++i) {
		offered o = offer(std::to_string(i), "host" + std::to_string(uniform(0, 3)), decimal(4000),
		                  decimal(4'000'000), decimal(100'000));
		int ranges = uniform(0, 3);
		for (int r = 0; r < ranges; ++r) {
			std::uint64_t b = 31000 + uniform(0, 40);
			o.ports.push_back({b, b + uniform(-1, 6)}); // -1: a reversed (empty) range
		}
		if (uniform(0, 2))
			o.attributes["rack"] = "r" + std::to_string(uniform(1, 2));
		in.offers.push_back(std::move(o));
	}
	int specs = uniform(1, static_cast<int>(max_specs));
	for (int s = 0; s < specs; ++s) {
		task_spec t;
		t.name = "spec" + std::to_string(s);
		t.count = uniform(0, 25);
		t.maxcol = uniform(0, 4) == 0 ? std::numeric_limits<std::size_t>::max() : uniform(0, 5);
		t.cpus = uniform(0, 3) == 0 ? 0 : decimal(1500);
		t.mem = decimal(600'000);
		t.disk = uniform(0, 1) ? 0 : decimal(20'000);
		t.ports = uniform(0, 3);
		if (uniform(0, 3) == 0)
			t.constraints.push_back({"rack", constraint::op::equals, "r1"});
		if (uniform(0, 3) == 0)
			t.running["host" + std::to_string(uniform(0, 3))] = uniform(0, 2);
		in.specs.push_back(std::move(t));
	}
	return in;
}

// What is left of each offer after `a`, recomputed here independently; fails the test case on
// an over-commit or a port that the offer does not hold or that two instances share.
struct leftover {
	std::int64_t cpus, mem, disk;
	std::set<std::uint64_t> ports;
};

std::vector<leftover> check_no_overcommit(const instance &in, const allocation &a) {
	std::vector<leftover> left;
	for (const auto &o : in.offers) {
		leftover l{fixed_point(o.cpus), fixed_point(o.mem), fixed_point(o.disk), {}};
		for (auto [b, e] : o.ports)
			for (auto p = b; p <= e; ++p)
				l.ports.insert(p);
		left.push_back(std::move(l));
	}
	for (const auto &p : a.placements) {
		const task_spec &t = in.specs[p.spec];
		leftover &l = left[p.offer];
		l.cpus -= fixed_point(t.cpus);
		l.mem -= fixed_point(t.mem);
		l.disk -= fixed_point(t.disk);
		REQUIRE(p.ports.size() == t.ports);
		for (auto port : p.ports)
			REQUIRE(l.ports.erase(port) == 1);
	}
	for (const auto &l : left) {
		REQUIRE(l.cpus >= 0);
		REQUIRE(l.mem >= 0);
		REQUIRE(l.disk >= 0);
	}
	return left;
}

bool satisfies(const offered &o, const task_spec &t) {
	for (const auto &c : t.constraints) {
		auto it = o.attributes.find(c.attribute);
		bool has = it != o.attributes.end();
		if (c.operation == constraint::op::equals && !(has && it->second == c.value))
			return false;
	}
	return true;
}

bool room_for(const leftover &l, const task_spec &t) {
	return l.cpus >= fixed_point(t.cpus) && l.mem >= fixed_point(t.mem) &&
	       l.disk >= fixed_point(t.disk) && l.ports.size() >= t.ports;
}

} // namespace

TEST_CASE("properties on random offers and specs") {
	for (unsigned seed = 1; seed <= 2000; ++seed) {
		CAPTURE(seed);
		std::mt19937 rng(seed);
		instance in = random_instance(rng, 3);
		allocation a = allocate(in.offers, in.specs);

		// Deterministic.
		allocation again = allocate(in.offers, in.specs);
		REQUIRE(again.placements.size() == a.placements.size());
		for (std::size_t i = 0; i < a.placements.size(); ++i) {
			REQUIRE(again.placements[i].offer == a.placements[i].offer);
			REQUIRE(again.placements[i].spec == a.placements[i].spec);
			REQUIRE(again.placements[i].ports == a.placements[i].ports);
		}

		// Never over-commits an offer (resources and ports).
		std::vector<leftover> left = check_no_overcommit(in, a);

		REQUIRE(a.unplaced.size() == in.specs.size());
		for (std::size_t s = 0; s < in.specs.size(); ++s) {
			const task_spec &t = in.specs[s];
			CAPTURE(s);
			std::size_t placed = 0;
			std::map<std::string, std::size_t> on_host = t.running;
			for (const auto &p : a.placements)
				if (p.spec == s) {
					REQUIRE(p.instance == placed);
					++placed;
					++on_host[in.offers[p.offer].hostname];
					REQUIRE(satisfies(in.offers[p.offer], t)); // constraints honoured
				}
			REQUIRE(placed + a.unplaced[s] == t.count);
			// Never exceeds maxcol (the instances already running count).
			for (const auto &o : in.offers) {
				std::size_t before = t.running.count(o.hostname) ? t.running.at(o.hostname) : 0;
				REQUIRE(on_host[o.hostname] - before <= (before >= t.maxcol ? 0 : t.maxcol - before));
			}
			// Places as many as fit: an instance left over fits on no offer at the end.
			if (a.unplaced[s] > 0)
				for (std::size_t i = 0; i < in.offers.size(); ++i) {
					const offered &o = in.offers[i];
					bool blocked = !satisfies(o, t) || on_host[o.hostname] >= t.maxcol ||
					               !room_for(left[i], t);
					REQUIRE(blocked);
				}
		}
	}
}

TEST_CASE("one spec: as many instances as the hosts can hold, computed independently") {
	for (unsigned seed = 1; seed <= 2000; ++seed) {
		CAPTURE(seed);
		std::mt19937 rng(seed * 7919);
		instance in = random_instance(rng, 1);
		const task_spec &t = in.specs[0];
		allocation a = allocate(in.offers, in.specs);
		// Per offer: how many instances its resources hold on their own; per host: at most
		// maxcol minus those running; the optimum is min(count, sum over hosts).
		std::map<std::string, std::size_t> host_fit;
		for (const auto &o : in.offers) {
			if (!satisfies(o, t))
				continue;
			std::set<std::uint64_t> ports;
			for (auto [b, e] : o.ports)
				for (auto p = b; p <= e; ++p)
					ports.insert(p);
			std::size_t fit = 1000; // count <= 25
			auto bound = [&](double have, double need) {
				if (fixed_point(need) > 0)
					fit = std::min<std::size_t>(fit, fixed_point(have) / fixed_point(need));
			};
			bound(o.cpus, t.cpus);
			bound(o.mem, t.mem);
			bound(o.disk, t.disk);
			if (t.ports > 0)
				fit = std::min(fit, ports.size() / t.ports);
			host_fit[o.hostname] += fit;
		}
		std::size_t best = 0;
		for (auto &[host, fit] : host_fit) {
			std::size_t running = t.running.count(host) ? t.running.at(host) : 0;
			std::size_t allowed = running >= t.maxcol ? 0 : t.maxcol - running;
			best += std::min(fit, allowed);
		}
		best = std::min(best, t.count);
		REQUIRE(a.placements.size() == best);
	}
}

TEST_CASE("on Mesos's types: offers in, tasks with the placement's resources out") {
	v1::Offer o;
	o.mutable_id()->set_value("O1");
	o.mutable_framework_id()->set_value("F");
	o.mutable_agent_id()->set_value("S1");
	o.set_hostname("h1");
	o.mutable_allocation_info()->set_role("web");
	auto scalar = [&](const char *name, double v) {
		auto *r = o.add_resources();
		r->set_name(name);
		r->set_type(v1::Value::SCALAR);
		r->mutable_scalar()->set_value(v);
	};
	scalar("cpus", 1.5);
	scalar("cpus", 0.5); // another role's share of the same name adds up
	scalar("mem", 1024);
	scalar("gpus", 4);   // not accounted
	auto *ports = o.add_resources();
	ports->set_name("ports");
	ports->set_type(v1::Value::RANGES);
	auto *range = ports->mutable_ranges()->add_range();
	range->set_begin(31000);
	range->set_end(31009);
	auto *rack = o.add_attributes();
	rack->set_name("rack");
	rack->set_type(v1::Value::TEXT);
	rack->mutable_text()->set_value("r1");
	auto *zone = o.add_attributes();
	zone->set_name("zone");
	zone->set_type(v1::Value::SCALAR);
	zone->mutable_scalar()->set_value(3);

	std::vector<offered> in = offered_from({o});
	REQUIRE(in.size() == 1);
	CHECK(in[0].cpus == Approx(2));
	CHECK(in[0].mem == Approx(1024));
	CHECK(in[0].ports == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{31000, 31009}});
	CHECK(in[0].attributes["rack"] == "r1");
	CHECK(in[0].attributes["zone"] == "3");

	task_spec t;
	t.name = "web";
	t.count = 3;
	t.cpus = 0.5;
	t.mem = 100;
	t.ports = 3;
	t.constraints = {{"rack", constraint::op::equals, "r1"}};
	allocation a = allocate(in, {t});
	REQUIRE(a.placements.size() == 3);
	v1::TaskInfo proto;
	proto.mutable_command()->set_value("serve");
	v1::TaskInfo task = task_for(a.placements[1], t, o, "web-1", proto);
	CHECK(task.task_id().value() == "web-1");
	CHECK(task.name() == "web");
	CHECK(task.agent_id().value() == "S1");
	CHECK(task.command().value() == "serve");
	REQUIRE(task.resources_size() == 3); // cpus, mem, ports (no disk asked for)
	CHECK(task.resources(0).name() == "cpus");
	CHECK(task.resources(0).scalar().value() == Approx(0.5));
	CHECK(task.resources(0).allocation_info().role() == "web");
	CHECK(task.resources(2).name() == "ports");
	REQUIRE(task.resources(2).ranges().range_size() == 1); // 31003-31005 as one range
	CHECK(task.resources(2).ranges().range(0).begin() == 31003);
	CHECK(task.resources(2).ranges().range(0).end() == 31005);
}
