// turquoise/mesos/allocation.hpp — the allocation helper: which task instances go on which
// offers ("6 instances, no more than 2 on a host"), as a pure, deterministic function.
//
//   std::vector<mesos::offered> offers = mesos::offered_from(offers_from_master);
//   mesos::task_spec web{.name = "web", .count = 6, .maxcol = 2, .cpus = 0.5, .mem = 64};
//   mesos::allocation a = mesos::allocate(offers, {web});
//   for (auto &p : a.placements) ...      // offer index, spec index, instance, ports
//
// Accounting is in Mesos's fixed point: scalars (cpus, mem, disk) are rounded to three decimal
// places, as the master does, and added and subtracted as integers, so no offer is
// over-committed by a floating-point error. Ports are counted one by one from the offer's
// ranges; an instance gets the lowest free ones.
//
// The algorithm: the specs in the order given (earlier specs have priority); for one spec,
// rounds over the offers in the order given, each round placing one instance on every offer
// that still has room (resources, the host's maxcol, constraints), until `count` instances are
// placed or a round places none. Instances of one spec are therefore spread over the hosts, and
// for a single spec as many are placed as can be (the sum over hosts of min(maxcol left, what
// the host's offers hold)); with several specs, an unplaced instance of a spec fits on no offer
// once the function returns. Same input, same output.
//
// "A host" is the offer's hostname (Mesos's unit, and Mesomatic's), or its agent id
// (allocation_options::host_key): several agents of an embedded cluster share one hostname.
#ifndef TURQUOISE_MESOS_ALLOCATION_HPP
#define TURQUOISE_MESOS_ALLOCATION_HPP

#include <turquoise/mesos/types.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace turquoise::mesos {

// One offer as the allocation sees it: its resources summed by name (all roles), its ports,
// and its attributes rendered as text (TEXT as is, SCALAR as printed by Mesos, RANGES as
// "[a-b, c-d]", SET as "{x,y}").
struct offered {
	std::string id;
	std::string agent_id;
	std::string hostname;
	double cpus = 0;
	double mem = 0;  // MB
	double disk = 0; // MB
	std::vector<std::pair<std::uint64_t, std::uint64_t>> ports; // inclusive ranges
	std::map<std::string, std::string> attributes;
};

// A constraint on an offer's attribute (the pseudo-attributes "hostname" and "agent_id" are
// the offer's own fields). like/unlike take an ECMAScript regular expression matched against
// the whole value; a missing attribute satisfies only not_equals and unlike.
struct constraint {
	enum class op { equals, not_equals, like, unlike };
	std::string attribute;
	op operation = op::equals;
	std::string value;
};

struct task_spec {
	std::string name;
	std::size_t count = 1; // instances wanted now
	std::size_t maxcol = std::numeric_limits<std::size_t>::max(); // at most this many per host
	double cpus = 0;
	double mem = 0;
	double disk = 0;
	std::size_t ports = 0; // ports each instance needs
	std::vector<constraint> constraints;
	// Instances of this spec already running, per host key: they count against maxcol.
	std::map<std::string, std::size_t> running;
};

struct placement {
	std::size_t offer;    // index into the offers given
	std::size_t spec;     // index into the specs given
	std::size_t instance; // 0.. per spec, in placement order
	std::vector<std::uint64_t> ports; // the ports taken, ascending
};

struct allocation {
	std::vector<placement> placements;  // in placement order
	std::vector<std::size_t> unplaced;  // per spec: instances that found no room
};

struct allocation_options {
	enum class key { hostname, agent_id };
	key host_key = key::hostname;
};

// Throws std::invalid_argument for a spec with a negative or non-finite resource, or with a
// constraint whose like/unlike expression does not compile (naming the spec).
allocation allocate(const std::vector<offered> &offers, const std::vector<task_spec> &specs,
                    const allocation_options &options = {});

// Mesos's fixed point: value in thousandths, rounded to the nearest.
std::int64_t fixed_point(double value);

// From the master's offers: resources summed by name over all roles (unknown names ignored),
// attributes as text (see `offered`).
std::vector<offered> offered_from(const std::vector<v1::Offer> &offers);

// The task of one placement: `prototype` (command, kill policy, labels...) with task_id
// `task_id`, name (the prototype's, else the spec's), the offer's agent_id, and the spec's
// resources (cpus, mem, disk when non-zero; the placement's ports), allocated to the offer's
// role. Group the tasks by offer and launch them with the offer ids they came from.
v1::TaskInfo task_for(const placement &p, const task_spec &spec, const v1::Offer &offer,
                      const std::string &task_id, v1::TaskInfo prototype = {});

} // namespace turquoise::mesos

#endif
