// deferred_code.cpp — code in which the timer handler defers preemption on libinger's own
// account: libinger's tail of an earlier handler, and the sanitizer runtimes.
//
// (The base libraries' ranges are libgotcha's: gotcha_defers_preemption.)
#include "signals.hpp"

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <link.h>

namespace inger::detail {
namespace {

struct code_range {
	std::uintptr_t lo = 0, hi = 0;
	bool holds(std::uintptr_t pc) const { return pc >= lo && pc < hi; }
};

// libinger's own executable segment.
code_range own_code;

// The sanitizer runtimes' executable segments. AddressSanitizer's malloc replaces the malloc
// family ahead of libinger's critical-section wrappers (shared_calls.cpp), and its allocator
// keeps per-thread caches and size-class locks: a function preempted inside it would leave
// them half-updated ("nested bug in the same thread") or locked (the next allocation on the
// thread waits forever). Its interceptors (memcpy, strlen...) and reports are deferred too.
constexpr std::size_t max_sanitizer_ranges = 8;
code_range sanitizer_code[max_sanitizer_ranges];
std::size_t sanitizer_ranges = 0;
// How far above the interrupted stack pointer to look for a return address.
constexpr std::uintptr_t scan_bytes = 4096;

// Executable segments of the program and its libraries other than the sanitizers' and the C
// and C++ runtimes they call: a return address into one of these ends the search.
constexpr std::size_t max_caller_ranges = 64;
code_range caller_code[max_caller_ranges];
std::size_t caller_ranges = 0;

bool is_c_runtime(const char *path) {
	const char *base = std::strrchr(path, '/');
	base = base ? base + 1 : path;
	for (const char *name : {"libc.so", "libm.so", "libgcc_s.so", "libstdc++.so", "ld-linux", "linux-vdso"})
		if (std::strncmp(base, name, std::strlen(name)) == 0)
			return true;
	return false;
}

bool is_sanitizer_runtime(const char *path) {
	const char *base = std::strrchr(path, '/');
	base = base ? base + 1 : path;
	for (const char *name : {"libasan.so", "libubsan.so", "liblsan.so", "libtsan.so", "libhwasan.so"})
		if (std::strncmp(base, name, std::strlen(name)) == 0)
			return true;
	return false;
}

int find_ranges(dl_phdr_info *info, std::size_t, void *) {
	auto self = reinterpret_cast<std::uintptr_t>(&find_ranges);
	bool sanitizer = info->dlpi_name && is_sanitizer_runtime(info->dlpi_name);
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) &ph = info->dlpi_phdr[i];
		if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		code_range r{info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz};
		if (r.holds(self))
			own_code = r;
		if (sanitizer && sanitizer_ranges < max_sanitizer_ranges)
			sanitizer_code[sanitizer_ranges++] = r;
		else if (!sanitizer && !(info->dlpi_name && is_c_runtime(info->dlpi_name)) && caller_ranges < max_caller_ranges)
			caller_code[caller_ranges++] = r;
	}
	return 0;
}

} // namespace

void deferred_code_find() { dl_iterate_phdr(find_ranges, nullptr); }

bool in_own_code(std::uintptr_t pc) { return own_code.holds(pc); }

// The search reads the interrupted function's live frames, which AddressSanitizer poisons in
// part (its redzones): not instrumented.
__attribute__((no_sanitize("address"))) bool in_sanitizer_runtime(std::uintptr_t pc, std::uintptr_t sp,
                                                                 std::uintptr_t stack_lo, std::uintptr_t stack_hi) {
	if (sanitizer_ranges == 0)
		return false;
	auto in = [](const code_range *ranges, std::size_t n, std::uintptr_t address) {
		for (std::size_t i = 0; i < n; i++)
			if (ranges[i].holds(address))
				return true;
		return false;
	};
	if (in(sanitizer_code, sanitizer_ranges, pc))
		return true;
	if (in(caller_code, caller_ranges, pc) || sp < stack_lo || sp >= stack_hi)
		return false; // in the program's own code, or on another stack (a handler's)
	// Stopped in the C runtime: the allocator keeps its locks while it calls out (libc's
	// memset, mmap), and neither it nor libc keeps frame pointers. Read the stack upwards for
	// the first return address: into the sanitizer (inside it), or into the program's code
	// (called from there). A stale word in a frame's padding can only defer this preemption.
	std::uintptr_t end = stack_hi - sp < scan_bytes ? stack_hi : sp + scan_bytes;
	for (std::uintptr_t at = sp & ~std::uintptr_t{7}; at + sizeof(std::uintptr_t) <= end; at += sizeof(std::uintptr_t)) {
		std::uintptr_t word = *reinterpret_cast<const std::uintptr_t *>(at);
		if (in(sanitizer_code, sanitizer_ranges, word))
			return true;
		if (in(caller_code, caller_ranges, word))
			return false;
	}
	return false;
}

} // namespace inger::detail
