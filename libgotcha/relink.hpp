// relink.hpp — libgotcha's relinker, split by mechanism: which objects the loader mapped and
// what becomes of each (objects.cpp), rewriting their GOTs (got_writes.cpp), where preemption
// is deferred (defer_ranges.cpp), the program's calls routed through trampolines
// (relink_program.cpp), the copies in each slot (slot_copies.cpp), and start-up (relink.cpp).
#pragma once

#include "elf_relocs.hpp"

#include <libgotcha.h>

#include <atomic>
#include <cstdint>
#include <link.h>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace gotcha {

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

// The relinker's state (relink.cpp), all of it guarded by relink_lock.
extern std::mutex relink_lock; // start-up and every later relinking
extern std::vector<base_object> objects;
extern std::vector<std::size_t> copied; // indices into objects, in load order
extern std::atomic<std::uint64_t> dlopen_seen; // gotcha_dlopen_count when last relinked
extern gotcha_info info;

// objects.cpp
std::string base_name(const std::string &path);
bool starts_with(const std::string &s, const char *prefix);
role classify(const std::string &name, bool first);
int collect(dl_phdr_info *dl, std::size_t, void *data);
base_object *object_at(std::uintptr_t addr);
void mark_needed_by_program();

// got_writes.cpp
const ElfW(Phdr) *find_phdr(const ElfW(Phdr) *phdr, ElfW(Half) phnum, ElfW(Word) type);
bool phdrs_in_memory(ElfW(Addr) bias, const ElfW(Phdr) **phdr, ElfW(Half) *phnum);
std::uintptr_t page_down(std::uintptr_t a);
bool write_words(ElfW(Addr) bias, const ElfW(Phdr) *phdr, ElfW(Half) phnum,
                 const std::vector<std::pair<std::uintptr_t, std::uintptr_t>> &writes);
std::uintptr_t base_lookup(const dynamic_reloc &r);
void *slot_lookup(void *handle, const dynamic_reloc &r);

// defer_ranges.cpp
void add_text_ranges(const base_object &o);

// relink_program.cpp
bool relink_program(base_object &o, std::string *error);

// slot_copies.cpp
bool make_slot(std::size_t index, std::string *error);
bool finish_slot(std::size_t index, std::uintptr_t loader_bias, std::string *error);

} // namespace gotcha
