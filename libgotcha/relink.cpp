// relink.cpp — start-up: copy the libraries into namespaces and rewrite the GOTs.
//
// The objects the loader mapped in the base namespace fall into:
//  - program objects: the executable, and objects dlopen()ed later. Their GOT entries for
//    functions of copied libraries are pointed at trampolines (trampolines.hpp), so their
//    calls reach the current libset's copy;
//  - copied libraries: libc, libm and whatever else the program loaded, dlmopen()ed once per
//    slot. Each copy is relinked so that the shared calls (shared_symbols.cpp), the program's
//    exported data (copy relocations: stdout, environ) and errno go to the base instances;
//  - libraries kept shared: libstdc++ and libgcc_s (one exception-handling runtime, one set of
//    iostreams), the runtime itself (libgotcha, libinger, libturquoise*) and the loader;
//  - registries kept shared: libraries whose state the program fills at start-up and then
//    looks up (libprotobuf: the generated code registers its descriptors with the instance it
//    was loaded with, so a copy's registry would be empty), plus any the user names in
//    INGER_SHARED_LIBRARIES. Their code runs with preemption deferred, as the base libraries'
//    does: a function paused inside one could hold its locks for every other function.
#include "relink.hpp"

#include "slots.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

extern "C" __attribute__((visibility("hidden"))) std::uint64_t gotcha_dlopen_count;

namespace gotcha {

std::mutex relink_lock;
std::vector<base_object> objects;
std::vector<std::size_t> copied;
std::atomic<std::uint64_t> dlopen_seen{0};
gotcha_info info{};

namespace {

std::string disabled_reason;

// How many slots to make: INGER_LIBSETS caps it (a larger number means as many as glibc
// allows), 0 disables libgotcha. Anything but a whole number is reported on stderr (it is a
// mistake the user should hear of, not a reason to fail the launch) and caps nothing.
std::size_t slot_limit() {
	const char *env = std::getenv("INGER_LIBSETS");
	if (!env || !*env)
		return max_slots;
	if (std::all_of(env, env + std::strlen(env), [](char c) { return c >= '0' && c <= '9'; })) {
		errno = 0;
		unsigned long n = std::strtoul(env, nullptr, 10);
		return errno ? max_slots : std::min<std::size_t>(n, max_slots);
	}
	std::fprintf(stderr,
	             "libgotcha: INGER_LIBSETS=\"%s\" is not a whole number (0 turns libgotcha off); "
	             "using %zu libsets\n",
	             env, max_slots);
	return max_slots;
}

int disable(const std::string &why, int error) {
	disabled_reason = why;
	info.disabled_reason = disabled_reason.c_str();
	errno = error;
	return -1;
}

int initialize() {
	std::lock_guard<std::mutex> guard(relink_lock);
	dl_iterate_phdr(collect, &objects);
	std::uintptr_t loader_bias = 0;
	for (std::size_t i = 0; i < objects.size(); i++) {
		base_object &o = objects[i];
		o.kind = classify(o.name, i == 0);
		o.path = i == 0 ? "/proc/self/exe" : o.name;
			if (o.kind == role::loader)
			loader_bias = o.bias;
	}
	mark_needed_by_program();
	for (std::size_t i = 0; i < objects.size(); i++) {
		if (objects[i].kind == role::copied) {
			objects[i].copy_index = copied.size();
			copied.push_back(i);
		}
	}
	// Preemption is deferred in the base libraries' code (shared calls, shared mode), in the
	// loader's and in ours (relinking holds a lock).
	for (const base_object &o : objects)
		if (o.kind == role::copied || o.kind == role::loader || o.kind == role::registry)
			add_text_ranges(o);
	if (const base_object *self = object_at(reinterpret_cast<std::uintptr_t>(&initialize)))
		add_text_ranges(*self);
	// Without libsets, the ranges above still keep every function out of the middle of the
	// shared libraries: "shared mode" for all.
	std::size_t limit = slot_limit();
	if (limit == 0)
		return disable("disabled by INGER_LIBSETS=0", ENOTSUP);
	if (dlsym(RTLD_DEFAULT, "__asan_init") || dlsym(RTLD_DEFAULT, "__tsan_init"))
		return disable("disabled under a sanitizer runtime", ENOTSUP);
	if (copied.empty())
		return disable("no library to copy", ENOTSUP);

	std::string error;
	while (slot_count < limit && make_slot(slot_count + 1, &error))
		slot_count++;
	if (slot_count == 0)
		return disable("cannot copy the libraries: " + error, ENOMEM);
	for (std::size_t s = 1; s <= slot_count; s++) {
		if (!finish_slot(s, loader_bias, &error)) {
			slot_count = s - 1; // the complete ones remain usable
			break;
		}
	}
	if (slot_count == 0)
		return disable("cannot relink the copies: " + error, ENOEXEC);
	if (!relink_program(objects.front(), &error)) {
		slot_count = 0;
		return disable(error, ENOEXEC);
	}
	dlopen_seen = __atomic_load_n(&gotcha_dlopen_count, __ATOMIC_ACQUIRE);
	info.slots = slot_count;
	info.copied_objects = copied.size();
	info.state_bytes = slots[1].state_bytes;
	return 0;
}

} // namespace
} // namespace gotcha

using namespace gotcha;

extern "C" int gotcha_init(void) {
	static std::once_flag once;
	static int result, error;
	std::call_once(once, [] {
		result = initialize();
		error = errno;
	});
	if (result)
		errno = error;
	return result;
}

extern "C" void gotcha_get_info(struct gotcha_info *out) {
	std::lock_guard<std::mutex> guard(relink_lock);
	*out = info;
	out->swaps = swap_count.load(std::memory_order_relaxed);
	out->restores = restore_count.load(std::memory_order_relaxed);
	out->shared_mode = shared_mode_count.load(std::memory_order_relaxed);
}
