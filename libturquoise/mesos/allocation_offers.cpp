// allocation_offers.cpp — the allocation helper on Mesos's types: offers in, tasks out (see
// turquoise/mesos/allocation.hpp).
#include <turquoise/mesos/allocation.hpp>

#include <sstream>

namespace turquoise::mesos {

namespace {

std::string scalar_text(double v) {
	std::ostringstream s;
	s << v;
	return s.str();
}

std::string attribute_text(const v1::Attribute &a) {
	switch (a.type()) {
	case v1::Value::SCALAR:
		return scalar_text(a.scalar().value());
	case v1::Value::RANGES: {
		std::string s = "[";
		for (int i = 0; i < a.ranges().range_size(); ++i)
			s += (i ? ", " : "") + std::to_string(a.ranges().range(i).begin()) + "-" +
			     std::to_string(a.ranges().range(i).end());
		return s + "]";
	}
	case v1::Value::SET: {
		std::string s = "{";
		for (int i = 0; i < a.set().item_size(); ++i)
			s += (i ? "," : "") + a.set().item(i);
		return s + "}";
	}
	case v1::Value::TEXT:
		return a.text().value();
	}
	return {};
}

} // namespace

std::vector<offered> offered_from(const std::vector<v1::Offer> &offers) {
	std::vector<offered> out;
	for (const auto &o : offers) {
		offered x;
		x.id = o.id().value();
		x.agent_id = o.agent_id().value();
		x.hostname = o.hostname();
		for (const auto &r : o.resources()) {
			if (r.type() == v1::Value::SCALAR && r.has_scalar()) {
				if (r.name() == "cpus")
					x.cpus += r.scalar().value();
				else if (r.name() == "mem")
					x.mem += r.scalar().value();
				else if (r.name() == "disk")
					x.disk += r.scalar().value();
			} else if (r.name() == "ports" && r.type() == v1::Value::RANGES) {
				for (const auto &range : r.ranges().range())
					x.ports.push_back({range.begin(), range.end()});
			}
		}
		for (const auto &a : o.attributes())
			x.attributes[a.name()] = attribute_text(a);
		out.push_back(std::move(x));
	}
	return out;
}

v1::TaskInfo task_for(const placement &p, const task_spec &spec, const v1::Offer &offer,
                      const std::string &task_id, v1::TaskInfo prototype) {
	v1::TaskInfo t = std::move(prototype);
	t.mutable_task_id()->set_value(task_id);
	if (t.name().empty())
		t.set_name(spec.name.empty() ? task_id : spec.name);
	*t.mutable_agent_id() = offer.agent_id();
	t.clear_resources();
	std::string role = offer.has_allocation_info() ? offer.allocation_info().role() : "";
	auto add = [&](const char *name, v1::Value::Type type) {
		v1::Resource *r = t.add_resources();
		r->set_name(name);
		r->set_type(type);
		if (!role.empty())
			r->mutable_allocation_info()->set_role(role);
		return r;
	};
	for (auto [name, value] : {std::pair{"cpus", spec.cpus}, std::pair{"mem", spec.mem}, std::pair{"disk", spec.disk}})
		if (fixed_point(value) > 0)
			add(name, v1::Value::SCALAR)->mutable_scalar()->set_value(static_cast<double>(fixed_point(value)) / 1000.0);
	if (!p.ports.empty()) {
		v1::Value::Ranges *ranges = add("ports", v1::Value::RANGES)->mutable_ranges();
		for (std::uint64_t port : p.ports) { // ascending: consecutive ports make one range
			int n = ranges->range_size();
			if (n > 0 && ranges->range(n - 1).end() + 1 == port)
				ranges->mutable_range(n - 1)->set_end(port);
			else {
				auto *range = ranges->add_range();
				range->set_begin(port);
				range->set_end(port);
			}
		}
	}
	return t;
}

} // namespace turquoise::mesos
