// allocation.cpp — allocate(): task instances onto offers (see turquoise/mesos/allocation.hpp).
#include <turquoise/mesos/allocation.hpp>

#include <algorithm>
#include <cmath>
#include <regex>
#include <stdexcept>

namespace turquoise::mesos {

std::int64_t fixed_point(double value) { return std::llround(value * 1000.0); }

namespace {

using ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// Sorted, overlapping and adjacent ranges merged, reversed ones dropped: a port offered twice
// must not be counted twice.
ranges normalized(ranges r) {
	std::erase_if(r, [](auto &x) { return x.first > x.second; });
	std::sort(r.begin(), r.end());
	ranges out;
	for (auto &x : r) {
		if (!out.empty() && (x.first <= out.back().second ||
		                     (out.back().second != UINT64_MAX && x.first == out.back().second + 1)))
			out.back().second = std::max(out.back().second, x.second);
		else
			out.push_back(x);
	}
	return out;
}

// What is left of one offer.
struct room {
	std::int64_t cpus, mem, disk;
	ranges ports;
	std::uint64_t port_count = 0;
};

struct demand {
	std::int64_t cpus, mem, disk;
	std::uint64_t ports;
};

bool fits(const room &r, const demand &d) {
	return r.cpus >= d.cpus && r.mem >= d.mem && r.disk >= d.disk && r.port_count >= d.ports;
}

std::vector<std::uint64_t> take_ports(room &r, std::uint64_t n) {
	std::vector<std::uint64_t> taken;
	while (n > 0) {
		auto &front = r.ports.front();
		taken.push_back(front.first);
		--n;
		--r.port_count;
		if (front.first == front.second)
			r.ports.erase(r.ports.begin());
		else
			++front.first;
	}
	return taken;
}

std::int64_t checked(double value, const char *what, const task_spec &spec) {
	if (!std::isfinite(value) || value < 0)
		throw std::invalid_argument("allocate: task spec '" + spec.name + "': " + what +
		                            " must be a finite non-negative number");
	return fixed_point(value);
}

struct compiled_constraint {
	const constraint *c;
	std::regex pattern; // like/unlike only
};

std::vector<compiled_constraint> compile(const task_spec &spec) {
	std::vector<compiled_constraint> out;
	for (const auto &c : spec.constraints) {
		compiled_constraint cc{&c, {}};
		if (c.operation == constraint::op::like || c.operation == constraint::op::unlike) {
			try {
				cc.pattern = std::regex(c.value, std::regex::ECMAScript);
			} catch (const std::regex_error &e) {
				throw std::invalid_argument("allocate: task spec '" + spec.name + "': constraint on '" +
				                            c.attribute + "': bad regular expression '" + c.value +
				                            "': " + e.what());
			}
		}
		out.push_back(std::move(cc));
	}
	return out;
}

const std::string *attribute_of(const offered &o, const std::string &name) {
	if (name == "hostname")
		return &o.hostname;
	if (name == "agent_id")
		return &o.agent_id;
	auto it = o.attributes.find(name);
	return it == o.attributes.end() ? nullptr : &it->second;
}

bool satisfies(const offered &o, const std::vector<compiled_constraint> &constraints) {
	for (const auto &cc : constraints) {
		const std::string *v = attribute_of(o, cc.c->attribute);
		bool ok = false;
		switch (cc.c->operation) {
		case constraint::op::equals: ok = v && *v == cc.c->value; break;
		case constraint::op::not_equals: ok = !v || *v != cc.c->value; break;
		case constraint::op::like: ok = v && std::regex_match(*v, cc.pattern); break;
		case constraint::op::unlike: ok = !v || !std::regex_match(*v, cc.pattern); break;
		}
		if (!ok)
			return false;
	}
	return true;
}

} // namespace

allocation allocate(const std::vector<offered> &offers, const std::vector<task_spec> &specs,
                    const allocation_options &options) {
	std::vector<room> rooms;
	rooms.reserve(offers.size());
	for (const auto &o : offers) {
		room r{fixed_point(o.cpus), fixed_point(o.mem), fixed_point(o.disk), normalized(o.ports)};
		for (auto &x : r.ports) {
			std::uint64_t n = x.second - x.first; // + 1 below, saturating at the full 64-bit range
			r.port_count = (n == UINT64_MAX || r.port_count > UINT64_MAX - n - 1) ? UINT64_MAX
			                                                                       : r.port_count + n + 1;
		}
		rooms.push_back(std::move(r));
	}
	auto host_of = [&](const offered &o) -> const std::string & {
		return options.host_key == allocation_options::key::agent_id ? o.agent_id : o.hostname;
	};

	allocation result;
	result.unplaced.assign(specs.size(), 0);
	for (std::size_t s = 0; s < specs.size(); ++s) {
		const task_spec &spec = specs[s];
		demand d{checked(spec.cpus, "cpus", spec), checked(spec.mem, "mem", spec),
		         checked(spec.disk, "disk", spec), spec.ports};
		auto constraints = compile(spec);
		std::vector<bool> eligible;
		for (const auto &o : offers)
			eligible.push_back(satisfies(o, constraints));
		std::map<std::string, std::size_t> on_host = spec.running;

		std::size_t placed = 0;
		bool progress = true;
		while (placed < spec.count && progress) {
			progress = false;
			for (std::size_t i = 0; i < offers.size() && placed < spec.count; ++i) {
				std::size_t &here = on_host[host_of(offers[i])];
				if (!eligible[i] || here >= spec.maxcol || !fits(rooms[i], d))
					continue;
				room &r = rooms[i];
				r.cpus -= d.cpus;
				r.mem -= d.mem;
				r.disk -= d.disk;
				result.placements.push_back({i, s, placed, take_ports(r, d.ports)});
				++here;
				++placed;
				progress = true;
			}
		}
		result.unplaced[s] = spec.count - placed;
	}
	return result;
}

} // namespace turquoise::mesos
