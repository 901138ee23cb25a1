// resources.cpp — resource_set arithmetic and conversions (see resources.hpp).
#include "resources.hpp"

#include <turquoise/mesos/allocation.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace turquoise::mesos::local {

namespace {

using ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

ranges merged(ranges r) {
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

bool covers(const ranges &have, std::pair<std::uint64_t, std::uint64_t> want) {
	for (auto &h : have)
		if (h.first <= want.first && want.second <= h.second)
			return true;
	return false;
}

ranges minus(const ranges &have, const ranges &take) {
	ranges out = have;
	for (auto t : take) {
		ranges next;
		for (auto h : out) {
			if (t.second < h.first || t.first > h.second) {
				next.push_back(h);
				continue;
			}
			if (h.first < t.first)
				next.push_back({h.first, t.first - 1});
			if (t.second < h.second)
				next.push_back({t.second + 1, h.second});
		}
		out = std::move(next);
	}
	return out;
}

std::string decimal(std::int64_t thousandths) {
	std::ostringstream s;
	s << static_cast<double>(thousandths) / 1000.0;
	return s.str();
}

} // namespace

bool resource_set::contains(const resource_set &o) const {
	if (o.cpus > cpus || o.mem > mem || o.disk > disk)
		return false;
	for (auto &p : o.ports)
		if (!covers(ports, p))
			return false;
	return true;
}

resource_set &resource_set::operator+=(const resource_set &o) {
	cpus += o.cpus;
	mem += o.mem;
	disk += o.disk;
	ranges all = ports;
	all.insert(all.end(), o.ports.begin(), o.ports.end());
	ports = merged(std::move(all));
	return *this;
}

resource_set &resource_set::operator-=(const resource_set &o) {
	cpus -= o.cpus;
	mem -= o.mem;
	disk -= o.disk;
	ports = minus(ports, o.ports);
	return *this;
}

std::string resource_set::to_string() const {
	std::string s = "cpus:" + decimal(cpus) + "; mem:" + decimal(mem) + "; disk:" + decimal(disk);
	if (!ports.empty()) {
		s += "; ports:[";
		for (std::size_t i = 0; i < ports.size(); ++i)
			s += (i ? ", " : "") + std::to_string(ports[i].first) + "-" + std::to_string(ports[i].second);
		s += "]";
	}
	return s;
}

Try<resource_set> from_protobuf(const google::protobuf::RepeatedPtrField<v1::Resource> &resources) {
	resource_set r;
	ranges ports;
	for (const auto &res : resources) {
		const std::string &name = res.name();
		if (name == "cpus" || name == "mem" || name == "disk") {
			if (res.type() != v1::Value::SCALAR || !res.has_scalar())
				return Error("resource '" + name + "' must be a SCALAR");
			double v = res.scalar().value();
			if (!std::isfinite(v) || v < 0)
				return Error("resource '" + name + "' has an invalid value");
			std::int64_t fixed = fixed_point(v);
			(name == "cpus" ? r.cpus : name == "mem" ? r.mem : r.disk) += fixed;
		} else if (name == "ports") {
			if (res.type() != v1::Value::RANGES || !res.has_ranges())
				return Error("resource 'ports' must be RANGES");
			for (const auto &range : res.ranges().range()) {
				if (range.begin() > range.end())
					return Error("resource 'ports' has a reversed range");
				ports.push_back({range.begin(), range.end()});
			}
		} else {
			return Error("resource '" + name + "' is not offered by this cluster");
		}
	}
	r.ports = merged(std::move(ports));
	return r;
}

google::protobuf::RepeatedPtrField<v1::Resource> to_protobuf(const resource_set &r, const std::string &role) {
	google::protobuf::RepeatedPtrField<v1::Resource> out;
	auto scalar = [&](const char *name, std::int64_t v) {
		v1::Resource *res = out.Add();
		res->set_name(name);
		res->set_type(v1::Value::SCALAR);
		res->mutable_scalar()->set_value(static_cast<double>(v) / 1000.0);
		res->mutable_allocation_info()->set_role(role);
	};
	if (r.cpus > 0)
		scalar("cpus", r.cpus);
	if (r.mem > 0)
		scalar("mem", r.mem);
	if (r.disk > 0)
		scalar("disk", r.disk);
	if (!r.ports.empty()) {
		v1::Resource *res = out.Add();
		res->set_name("ports");
		res->set_type(v1::Value::RANGES);
		for (auto &p : r.ports) {
			auto *range = res->mutable_ranges()->add_range();
			range->set_begin(p.first);
			range->set_end(p.second);
		}
		res->mutable_allocation_info()->set_role(role);
	}
	return out;
}

} // namespace turquoise::mesos::local
