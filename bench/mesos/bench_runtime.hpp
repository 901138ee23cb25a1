// bench_runtime.hpp — mesos-bench's one runtime, installed for the whole run. One only: the
// embedded cluster's processes take their Clock timers (heartbeats, allocation ticks) from the
// innermost runtime_scope, so a second runtime's scope, once destroyed, took them along (seen:
// the cluster went silent after the events benchmarks, each with its own runtime, had run).
#pragma once

#include <turquoise/runtime.hpp>

inline turquoise::runtime &bench_runtime() {
	static turquoise::runtime rt;
	static turquoise::runtime_scope scope(rt);
	return rt;
}
