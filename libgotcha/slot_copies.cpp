// slot_copies.cpp — a slot: a namespace holding a copy of every copied library, relinked so
// that shared calls, the program's data and errno go to the base instances, and its writable
// state recorded for paging (libset.cpp).
#include "relink.hpp"

#include "copy_lifecycle.hpp"
#include "shared_symbols.hpp"
#include "slots.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <map>

namespace gotcha {
namespace {

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

} // namespace

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

} // namespace gotcha
