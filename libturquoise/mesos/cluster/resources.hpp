// resources.hpp — an agent's resources as the local cluster accounts them: cpus, mem and disk
// in Mesos's fixed point (thousandths) and ports as ranges, with conversions from and to the
// v1 Resource messages. (Internal to the local cluster.)
#ifndef TURQUOISE_MESOS_CLUSTER_RESOURCES_HPP
#define TURQUOISE_MESOS_CLUSTER_RESOURCES_HPP

#include <turquoise/async/try.hpp>
#include <turquoise/mesos/types.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace turquoise::mesos::local {

struct resource_set {
	std::int64_t cpus = 0, mem = 0, disk = 0; // thousandths
	std::vector<std::pair<std::uint64_t, std::uint64_t>> ports; // sorted, disjoint, inclusive

	bool empty() const { return cpus <= 0 && mem <= 0 && disk <= 0 && ports.empty(); }
	bool contains(const resource_set &other) const;
	resource_set &operator+=(const resource_set &other);
	resource_set &operator-=(const resource_set &other); // other must be contained
	std::string to_string() const; // "cpus:0.5; mem:64; disk:0; ports:[31000-31001]"
};

// The sum of `resources` (any role). An Error for what an agent here does not have: a resource
// other than cpus, mem, disk (SCALAR) and ports (RANGES), a wrong type, a negative or
// non-finite scalar, a reversed range.
Try<resource_set> from_protobuf(const google::protobuf::RepeatedPtrField<v1::Resource> &resources);

// As offered to a framework in `role`: unreserved ("*") resources allocated to that role.
google::protobuf::RepeatedPtrField<v1::Resource> to_protobuf(const resource_set &r, const std::string &role);

} // namespace turquoise::mesos::local

#endif
