// got_writes.cpp — reading objects' program headers in memory, writing their GOT entries,
// and looking symbols up in the base namespace or in a slot's.
#include "relink.hpp"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

namespace gotcha {

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

} // namespace gotcha
