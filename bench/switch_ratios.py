#!/usr/bin/env python3
# switch_ratios.py — inger-bench's launch and resume costs as multiples of the bare register
# switch round trip measured in the same run (BM_BareSwitchRoundTrip), from its JSON output.
#   bench/switch_ratios.py build-release/bench.json      (./dev bench runs it)
import json
import sys

YARDSTICK = "BM_BareSwitchRoundTrip"
ROWS = [
    ("launch to completion, unlimited budget", "BM_Launch/unlimited"),
    ("launch to completion, 1 ms budget", "BM_Launch/budget_1000us"),
    ("C++ launch + get(), unlimited budget", "BM_CppLaunch/unlimited"),
    ("C++ launch + get(), 1 ms budget", "BM_CppLaunch/budget_1000us"),
    ("cooperative resume round trip, unlimited", "BM_PauseResume/unlimited"),
    ("cooperative resume round trip, 1 ms budget", "BM_PauseResume/budget_1000us"),
    ("Boost.Context fiber round trip", "BM_BoostFiberRoundTrip"),
]


def cpu_ns(benchmarks, name):
    """CPU time in ns of `name`: its median aggregate if there is one, else its single run."""
    runs = [b for b in benchmarks if b.get("run_name") == name]
    median = [b for b in runs if b.get("aggregate_name") == "median"]
    chosen = median or [b for b in runs if b.get("run_type") == "iteration"]
    if not chosen:
        return None
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[chosen[0].get("time_unit", "ns")]
    return chosen[0]["cpu_time"] * scale


def main():
    with open(sys.argv[1]) as f:
        benchmarks = json.load(f)["benchmarks"]
    floor = cpu_ns(benchmarks, YARDSTICK)
    if not floor:  # filtered out of this run (--benchmark_filter): nothing to compare with
        print(f"switch_ratios.py: no {YARDSTICK} in {sys.argv[1]}: no ratios")
        return
    print(f"Against the bare register-switch round trip ({floor:.1f} ns CPU, same run):")
    for label, name in ROWS:
        ns = cpu_ns(benchmarks, name)
        if ns is not None:
            print(f"  {label:<44} {ns:8.1f} ns  {ns / floor:5.1f}x")


if __name__ == "__main__":
    main()
