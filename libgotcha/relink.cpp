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
#include "copy_lifecycle.hpp"
#include "elf_relocs.hpp"
#include "shared_symbols.hpp"
#include "slots.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <map>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

extern "C" {
__attribute__((visibility("hidden"))) std::uint64_t gotcha_dlopen_count = 0;
__attribute__((visibility("hidden"))) void *gotcha_real_dlopen = nullptr;
__attribute__((visibility("hidden"))) void *gotcha_real_dlmopen = nullptr;
void gotcha_dlopen_stub();
void gotcha_dlmopen_stub();
}

namespace gotcha {
namespace {

enum class role { program, copied, kept_shared, registry, runtime, loader, skipped };

struct base_object {
	std::string name;  // as the loader reports it ("" for the executable)
	std::string path;  // the file to read
	ElfW(Addr) bias = 0;
	const ElfW(Phdr) *phdr = nullptr;
	ElfW(Half) phnum = 0;
	std::uintptr_t lo = UINTPTR_MAX, hi = 0; // the mapped range
	role kind = role::skipped;
	std::size_t copy_index = 0; // for role::copied: index in slot_state::handles
};

struct text_range {
	std::uintptr_t lo, hi;
};

std::mutex relink_lock; // start-up and every later relinking
std::vector<base_object> objects;
std::vector<std::size_t> copied; // indices into objects, in load order
std::map<std::string, std::size_t> routes; // "name@version#provider" -> route index
std::vector<void *> route_trampolines;      // by route index
std::size_t route_count = 0;
std::atomic<std::uint64_t> dlopen_seen{0};  // gotcha_dlopen_count when last relinked
gotcha_info info{};
std::string disabled_reason;

// Where preemption is deferred, read by the signal handler: fixed storage, published with
// a release store of the count.
constexpr std::size_t max_ranges = 256;
text_range defer_ranges[max_ranges];
std::atomic<std::size_t> defer_range_count{0};

std::string base_name(const std::string &path) {
	std::size_t slash = path.rfind('/');
	return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool starts_with(const std::string &s, const char *prefix) {
	return s.compare(0, std::strlen(prefix), prefix) == 0;
}

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

const ElfW(Phdr) *find_phdr(const ElfW(Phdr) *phdr, ElfW(Half) phnum, ElfW(Word) type) {
	for (ElfW(Half) i = 0; i < phnum; i++)
		if (phdr[i].p_type == type)
			return &phdr[i];
	return nullptr;
}

// The program headers of an object loaded in another namespace: from its ELF header, which
// the first PT_LOAD maps at the load bias for any shared object.
bool phdrs_in_memory(ElfW(Addr) bias, const ElfW(Phdr) **phdr, ElfW(Half) *phnum) {
	const auto *ehdr = reinterpret_cast<const ElfW(Ehdr) *>(bias);
	if (bias == 0 || std::memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0)
		return false;
	*phdr = reinterpret_cast<const ElfW(Phdr) *>(bias + ehdr->e_phoff);
	*phnum = ehdr->e_phnum;
	return true;
}

std::uintptr_t page_down(std::uintptr_t a) {
	static const std::uintptr_t page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
	return a & ~(page - 1);
}

// Write words into an object's GOT, lifting the RELRO protection around the writes.
bool write_words(ElfW(Addr) bias, const ElfW(Phdr) *phdr, ElfW(Half) phnum,
                 const std::vector<std::pair<std::uintptr_t, std::uintptr_t>> &writes) {
	if (writes.empty())
		return true;
	const ElfW(Phdr) *relro = find_phdr(phdr, phnum, PT_GNU_RELRO);
	std::uintptr_t lo = 0, hi = 0;
	if (relro) {
		lo = page_down(bias + relro->p_vaddr);
		hi = page_down(bias + relro->p_vaddr + relro->p_memsz); // as the loader protects it
	}
	bool unprotect = false;
	for (const auto &w : writes)
		unprotect |= w.first >= lo && w.first < hi;
	if (unprotect && mprotect(reinterpret_cast<void *>(lo), hi - lo, PROT_READ | PROT_WRITE))
		return false;
	for (const auto &w : writes) // one aligned store each: a concurrent call sees old or new
		__atomic_store_n(reinterpret_cast<std::uintptr_t *>(w.first), w.second,
		                 __ATOMIC_RELEASE);
	if (unprotect)
		mprotect(reinterpret_cast<void *>(lo), hi - lo, PROT_READ);
	return true;
}

// The base namespace's definition, as a lookup from the program would find it.
std::uintptr_t base_lookup(const dynamic_reloc &r) {
	void *p = r.version.empty() ? nullptr
	                            : dlvsym(RTLD_DEFAULT, r.name.c_str(), r.version.c_str());
	if (!p)
		p = dlsym(RTLD_DEFAULT, r.name.c_str());
	return reinterpret_cast<std::uintptr_t>(p);
}

// The symbol's definition in a slot's copy of a library.
void *slot_lookup(void *handle, const dynamic_reloc &r) {
	void *p = r.version.empty() ? nullptr : dlvsym(handle, r.name.c_str(), r.version.c_str());
	return p ? p : dlsym(handle, r.name.c_str());
}

base_object *object_at(std::uintptr_t addr) {
	for (base_object &o : objects)
		if (addr >= o.lo && addr < o.hi)
			return &o;
	return nullptr;
}

void add_defer_range(std::uintptr_t lo, std::uintptr_t hi) {
	std::size_t n = defer_range_count.load(std::memory_order_relaxed);
	if (n == max_ranges)
		return;
	defer_ranges[n] = {lo, hi};
	defer_range_count.store(n + 1, std::memory_order_release);
}

void add_text_ranges(const base_object &o) {
	for (ElfW(Half) i = 0; i < o.phnum; i++)
		if (o.phdr[i].p_type == PT_LOAD && (o.phdr[i].p_flags & PF_X))
			add_defer_range(o.bias + o.phdr[i].p_vaddr,
			                o.bias + o.phdr[i].p_vaddr + o.phdr[i].p_memsz);
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

// Relink one object of a slot's namespace: shared calls, the program's data and errno go to
// the base instances, and its destructors never run (copy_lifecycle.cpp).
bool relink_copy(const link_map *lm, std::intptr_t errno_tpoff, std::intptr_t base_errno_tpoff,
                 std::string *error) {
	const ElfW(Phdr) *phdr;
	ElfW(Half) phnum;
	if (!phdrs_in_memory(lm->l_addr, &phdr, &phnum)) {
		*error = std::string("no ELF header in memory for ") + lm->l_name;
		return false;
	}
	// Every slot holds the same files: read each once.
	static std::map<std::string, std::vector<dynamic_reloc>> cache;
	auto cached = cache.find(lm->l_name);
	if (cached == cache.end()) {
		std::vector<dynamic_reloc> relocs;
		if (!read_dynamic_relocs(lm->l_name, &relocs, error))
			return false;
		cached = cache.emplace(lm->l_name, std::move(relocs)).first;
	}
	std::vector<std::pair<std::uintptr_t, std::uintptr_t>> writes;
	for (const dynamic_reloc &r : cached->second) {
		std::uintptr_t got = lm->l_addr + r.offset;
		if (r.type == R_X86_64_TPOFF64) {
			if (*reinterpret_cast<const std::intptr_t *>(got) == errno_tpoff)
				writes.emplace_back(got, static_cast<std::uintptr_t>(base_errno_tpoff));
			continue;
		}
		if (r.name.empty() ||
		    (r.type != R_X86_64_JUMP_SLOT && r.type != R_X86_64_GLOB_DAT &&
		     r.type != R_X86_64_64))
			continue;
		bool function = r.type == R_X86_64_JUMP_SLOT || r.symbol_type == STT_FUNC ||
		                r.symbol_type == STT_GNU_IFUNC;
		if (function) {
			if (!is_shared_symbol(r.name))
				continue;
			if (std::uintptr_t base = base_lookup(r)) {
				writes.emplace_back(got, base + (r.type == R_X86_64_64 ? r.addend : 0));
				info.shared_symbols++;
			}
		} else if (r.symbol_type == STT_OBJECT || r.symbol_type == STT_NOTYPE) {
			// Exported data that the program copied into itself (copy relocation): the
			// program only ever sees the base instance, so every libset must use it too.
			std::uintptr_t base = base_lookup(r);
			const base_object *owner = base ? object_at(base) : nullptr;
			if (owner && owner->kind == role::program)
				writes.emplace_back(got, base + (r.type == R_X86_64_64 ? r.addend : 0));
		}
	}
	add_destructor_skips(lm, &writes);
	if (!write_words(lm->l_addr, phdr, phnum, writes)) {
		*error = std::string("cannot relink ") + lm->l_name + ": " + std::strerror(errno);
		return false;
	}
	return true;
}

// The writable memory of a slot's object (everything a library can change, but RELRO).
void add_regions(slot_state &s, const link_map *lm) {
	const ElfW(Phdr) *phdr;
	ElfW(Half) phnum;
	if (!phdrs_in_memory(lm->l_addr, &phdr, &phnum))
		return;
	const ElfW(Phdr) *relro = find_phdr(phdr, phnum, PT_GNU_RELRO);
	std::uintptr_t relro_end =
	    relro ? page_down(lm->l_addr + relro->p_vaddr + relro->p_memsz) : 0;
	for (ElfW(Half) i = 0; i < phnum; i++) {
		if (phdr[i].p_type != PT_LOAD || !(phdr[i].p_flags & PF_W))
			continue;
		std::uintptr_t lo = lm->l_addr + phdr[i].p_vaddr;
		std::uintptr_t hi = lo + phdr[i].p_memsz;
		lo = std::max(lo, std::min(relro_end, hi));
		if (hi > lo) {
			s.regions.push_back({reinterpret_cast<std::byte *>(lo), hi - lo});
			s.state_bytes += hi - lo;
		}
	}
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

// Load a copy of every copied library into a new namespace. False: no more namespaces.
bool make_slot(std::size_t index, std::string *error) {
	slot_state &s = slots[index];
	Lmid_t lmid = LM_ID_NEWLM;
	// First the heap forwarder, so that the copies' constructors allocate from the base heap.
	void *forwarder = open_namespace_with_heap_forwarder(&lmid);
	for (std::size_t c : copied) {
		void *h = dlmopen(lmid, objects[c].path.c_str(), RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			const char *why = dlerror();
			*error = why ? why : "dlmopen failed";
			for (void *opened : s.handles)
				dlclose(opened);
			s.handles.clear();
			if (forwarder)
				dlclose(forwarder);
			return false;
		}
		if (lmid == LM_ID_NEWLM && dlinfo(h, RTLD_DI_LMID, &lmid) != 0) {
			*error = "dlinfo(RTLD_DI_LMID) failed";
			dlclose(h);
			return false;
		}
		s.handles.push_back(h);
	}
	return true;
}

// Relink the objects of a slot's namespace and record its writable state.
bool finish_slot(std::size_t index, std::uintptr_t loader_bias, std::string *error) {
	slot_state &s = slots[index];
	link_map *lm = nullptr;
	Lmid_t lmid;
	if (dlinfo(s.handles.front(), RTLD_DI_LINKMAP, &lm) != 0 || !lm ||
	    dlinfo(s.handles.front(), RTLD_DI_LMID, &lmid) != 0) {
		*error = "dlinfo() failed on a copy";
		return false;
	}
	while (lm->l_prev)
		lm = lm->l_prev;
	// The copy of libc has a thread-local errno of its own, at a fixed offset from the thread
	// pointer (static TLS). The copies' GOT entries holding that offset are pointed at the
	// base errno's, so that there is one errno per thread whatever libset set it.
	std::intptr_t tp = static_cast<std::intptr_t>(thread_pointer());
	std::intptr_t base_errno_tpoff = reinterpret_cast<std::intptr_t>(&errno) - tp;
	std::intptr_t errno_tpoff = base_errno_tpoff;
	if (void *libc = dlmopen(lmid, "libc.so.6", RTLD_NOLOAD | RTLD_NOW)) {
		if (void *copy_errno = dlsym(libc, "errno"))
			errno_tpoff = reinterpret_cast<std::intptr_t>(copy_errno) - tp;
		dlclose(libc);
	}
	for (; lm; lm = lm->l_next) {
		if (lm->l_addr == loader_bias || !lm->l_name || !*lm->l_name ||
		    base_name(lm->l_name).rfind("ld-linux", 0) == 0)
			continue; // the loader is one for all namespaces
		if (is_heap_forwarder(lm))
			continue; // its table is the same for every libset
		if (!relink_copy(lm, errno_tpoff, base_errno_tpoff, error))
			return false;
		add_regions(s, lm);
	}
	s.pristine = static_cast<std::byte *>(std::malloc(s.state_bytes));
	if (!s.pristine) {
		*error = "out of memory";
		return false;
	}
	copy_out(s, s.pristine);
	return true;
}

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

void refresh_objects() {
	if (__atomic_load_n(&gotcha_dlopen_count, __ATOMIC_RELAXED) !=
	    dlopen_seen.load(std::memory_order_relaxed))
		relink_new_objects();
}

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

extern "C" int gotcha_defers_preemption(uintptr_t pc) {
	std::size_t n = defer_range_count.load(std::memory_order_acquire);
	for (std::size_t i = 0; i < n; i++)
		if (pc >= defer_ranges[i].lo && pc < defer_ranges[i].hi)
			return 1;
	return 0;
}
