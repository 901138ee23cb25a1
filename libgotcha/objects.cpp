// objects.cpp — the objects of the base namespace, and what the relinker makes of each.
#include "relink.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace gotcha {

std::string base_name(const std::string &path) {
	std::size_t slash = path.rfind('/');
	return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool starts_with(const std::string &s, const char *prefix) {
	return s.compare(0, std::strlen(prefix), prefix) == 0;
}

namespace {

// INGER_SHARED_LIBRARIES: a colon-separated list of library names (or name prefixes, such as
// "libfoo.so") to keep shared like libprotobuf. Read once, at start-up.
bool user_registry(const std::string &base) {
	static const std::vector<std::string> names = [] {
		std::vector<std::string> list;
		const char *env = std::getenv("INGER_SHARED_LIBRARIES");
		for (const char *p = env ? env : ""; *p;) {
			const char *end = std::strchr(p, ':');
			std::size_t n = end ? static_cast<std::size_t>(end - p) : std::strlen(p);
			if (n)
				list.emplace_back(p, n);
			p += n + (end ? 1 : 0);
		}
		return list;
	}();
	return std::any_of(names.begin(), names.end(),
	                   [&](const std::string &n) { return starts_with(base, n.c_str()); });
}

} // namespace

role classify(const std::string &name, bool first) {
	if (first)
		return role::program;
	std::string base = base_name(name);
	if (name.empty() || starts_with(base, "linux-vdso") || starts_with(base, "linux-gate"))
		return role::skipped;
	if (starts_with(base, "ld-linux"))
		return role::loader;
	if (starts_with(base, "libgotcha.so") || starts_with(base, "libinger.so") ||
	    starts_with(base, "libturquoise") || starts_with(base, "libinger-run.so"))
		return role::runtime;
	if (starts_with(base, "libprotobuf") || user_registry(base))
		return role::registry;
	if (starts_with(base, "libstdc++.so") || starts_with(base, "libgcc_s.so"))
		return role::kept_shared;
	// Sanitizer runtimes and the like must not be duplicated either.
	if (starts_with(base, "libasan") || starts_with(base, "libubsan") ||
	    starts_with(base, "libtsan") || starts_with(base, "liblsan"))
		return role::kept_shared;
	return role::copied;
}

base_object *object_at(std::uintptr_t addr) {
	for (base_object &o : objects)
		if (addr >= o.lo && addr < o.hi)
			return &o;
	return nullptr;
}

// The objects of the base namespace the loader knows now (only those not seen before).
int collect(dl_phdr_info *dl, std::size_t, void *data) {
	auto *found = static_cast<std::vector<base_object> *>(data);
	base_object o;
	o.name = dl->dlpi_name ? dl->dlpi_name : "";
	o.bias = dl->dlpi_addr;
	o.phdr = dl->dlpi_phdr;
	o.phnum = dl->dlpi_phnum;
	for (ElfW(Half) i = 0; i < o.phnum; i++) {
		if (o.phdr[i].p_type != PT_LOAD)
			continue;
		o.lo = std::min<std::uintptr_t>(o.lo, o.bias + o.phdr[i].p_vaddr);
		o.hi = std::max<std::uintptr_t>(o.hi, o.bias + o.phdr[i].p_vaddr + o.phdr[i].p_memsz);
	}
	found->push_back(std::move(o));
	return 0;
}

// Only the libraries the program needs (its DT_NEEDED closure, not through the runtime's
// or the kept-shared libraries) are copied: libinger's own dependencies (libelf, libz)
// would cost start-up time and static TLS in every slot for nothing.
void mark_needed_by_program() {
	std::vector<bool> needed(objects.size(), false);
	std::vector<std::size_t> todo{0};
	needed[0] = true;
	while (!todo.empty()) {
		const base_object &o = objects[todo.back()];
		todo.pop_back();
		std::vector<std::string> names;
		read_needed(o.path, &names);
		for (const std::string &soname : names) {
			for (std::size_t i = 1; i < objects.size(); i++) {
				if (needed[i] || base_name(objects[i].name) != soname)
					continue;
				needed[i] = true;
				if (objects[i].kind == role::copied)
					todo.push_back(i);
			}
		}
	}
	for (std::size_t i = 1; i < objects.size(); i++)
		if (objects[i].kind == role::copied && !needed[i])
			objects[i].kind = role::skipped;
}

} // namespace gotcha
