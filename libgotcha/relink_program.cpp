// relink_program.cpp — the program's calls into copied libraries, routed through trampolines
// to the current libset's copy; objects dlopen()ed later are relinked the same way.
#include "relink.hpp"

#include "shared_symbols.hpp"
#include "slots.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <map>

extern "C" {
__attribute__((visibility("hidden"))) std::uint64_t gotcha_dlopen_count = 0;
__attribute__((visibility("hidden"))) void *gotcha_real_dlopen = nullptr;
__attribute__((visibility("hidden"))) void *gotcha_real_dlmopen = nullptr;
void gotcha_dlopen_stub();
void gotcha_dlmopen_stub();
}

namespace gotcha {
namespace {

std::map<std::string, std::size_t> routes; // "name@version#provider" -> route index
std::vector<void *> route_trampolines;      // by route index
std::size_t route_count = 0;

// Route a program object's call of `r` (whose base definition is `target`, in library
// `provider`) through a trampoline; returns the trampoline, or 0.
std::uintptr_t route(const dynamic_reloc &r, std::uintptr_t target, const base_object &provider) {
	std::string key = r.name + '@' + r.version + '#' + provider.name;
	auto it = routes.find(key);
	if (it != routes.end())
		return reinterpret_cast<std::uintptr_t>(tables[0][it->second]) == target
		           ? reinterpret_cast<std::uintptr_t>(route_trampolines[it->second])
		           : 0;
	if (route_count == max_routes)
		return 0;
	std::size_t index = route_count;
	void *trampoline = trampoline_make(index);
	if (!trampoline)
		return 0;
	tables[0][index] = reinterpret_cast<void *>(target);
	for (std::size_t s = 1; s <= slot_count; s++) {
		void *p = slot_lookup(slots[s].handles[provider.copy_index], r);
		tables[s][index] = p ? p : reinterpret_cast<void *>(target);
	}
	route_count++;
	routes.emplace(std::move(key), index);
	route_trampolines.push_back(trampoline);
	return reinterpret_cast<std::uintptr_t>(trampoline);
}

// Objects loaded since the last look, relinked as program objects; those unloaded, forgotten.
void relink_new_objects() {
	std::lock_guard<std::mutex> guard(relink_lock);
	std::uint64_t count = __atomic_load_n(&gotcha_dlopen_count, __ATOMIC_ACQUIRE);
	if (count == dlopen_seen.load(std::memory_order_relaxed))
		return;
	dlopen_seen.store(count, std::memory_order_relaxed);
	std::vector<base_object> now;
	dl_iterate_phdr(collect, &now);
	auto same = [](const base_object &a, const base_object &b) {
		return a.bias == b.bias && a.name == b.name;
	};
	std::erase_if(objects, [&](const base_object &o) {
		return o.kind == role::program && &o != &objects.front() &&
		       std::none_of(now.begin(), now.end(), [&](auto &n) { return same(n, o); });
	});
	for (base_object &n : now) {
		if (std::any_of(objects.begin(), objects.end(), [&](auto &o) { return same(n, o); }))
			continue;
		n.path = n.name;
		n.kind = classify(n.name, false);
		std::string base = base_name(n.name);
		// Libraries the base libc loads for itself (name services, the unwinder) stay base.
		if (n.kind == role::copied &&
		    (starts_with(base, "libnss_") || starts_with(base, "libresolv")))
			n.kind = role::skipped;
		else if (n.kind == role::copied)
			n.kind = role::program;
		else if (n.kind == role::registry)
			add_text_ranges(n);
		objects.push_back(n);
		if (n.kind != role::program || slot_count == 0)
			continue;
		// Waits for a dlopen() still in progress on another thread to finish relocating it.
		void *h = dlopen(n.name.c_str(), RTLD_NOLOAD | RTLD_NOW);
		std::string error;
		relink_program(objects.back(), &error);
		if (h)
			dlclose(h);
	}
}

} // namespace

// Point a program object's GOT entries for copied functions at trampolines.
bool relink_program(base_object &o, std::string *error) {
	std::vector<dynamic_reloc> relocs;
	if (!read_dynamic_relocs(o.path, &relocs, error))
		return false;
	std::vector<std::pair<std::uintptr_t, std::uintptr_t>> writes;
	for (const dynamic_reloc &r : relocs) {
		bool call = r.type == R_X86_64_JUMP_SLOT;
		bool function_pointer = r.type == R_X86_64_GLOB_DAT &&
		                        (r.symbol_type == STT_FUNC || r.symbol_type == STT_GNU_IFUNC);
		if (!(call || function_pointer) || r.name.empty() || r.defined_here)
			continue;
		std::uintptr_t got = o.bias + r.offset;
		if (call && (r.name == "dlopen" || r.name == "dlmopen")) {
			void *&real = r.name == "dlopen" ? gotcha_real_dlopen : gotcha_real_dlmopen;
			if (!real)
				real = reinterpret_cast<void *>(base_lookup(r));
			if (real)
				writes.emplace_back(got, reinterpret_cast<std::uintptr_t>(
				                             r.name == "dlopen" ? gotcha_dlopen_stub
				                                                : gotcha_dlmopen_stub));
			continue;
		}
		if (is_shared_symbol(r.name))
			continue;
		std::uintptr_t target = *reinterpret_cast<const std::uintptr_t *>(got);
		if (target >= o.lo && target < o.hi) // lazy binding: still the object's own PLT
			target = base_lookup(r);
		const base_object *provider = target ? object_at(target) : nullptr;
		if (!provider || provider->kind != role::copied)
			continue;
		if (std::uintptr_t trampoline = route(r, target, *provider)) {
			writes.emplace_back(got, trampoline);
			info.routed_symbols++;
		}
	}
	// The trampolines must be executable before any GOT entry points at them.
	if (!trampolines_seal() || !write_words(o.bias, o.phdr, o.phnum, writes)) {
		*error = "cannot rewrite the GOT of " + (o.name.empty() ? o.path : o.name) + ": " +
		         std::strerror(errno);
		return false;
	}
	info.program_objects++;
	return true;
}

void refresh_objects() {
	if (__atomic_load_n(&gotcha_dlopen_count, __ATOMIC_RELAXED) !=
	    dlopen_seen.load(std::memory_order_relaxed))
		relink_new_objects();
}

} // namespace gotcha
