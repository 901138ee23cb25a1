// elf_relocs.hpp — the dynamic relocations of an ELF object file, read with libelf.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gotcha {

// One entry of .rela.dyn or .rela.plt, with its symbol resolved to a name and version.
struct dynamic_reloc {
	std::uint64_t offset = 0;   // r_offset: where the loader wrote (add the load bias)
	std::uint32_t type = 0;     // R_X86_64_*
	std::int64_t addend = 0;
	std::string name;           // empty for relocations without a symbol
	std::string version;        // the version required (verneed) or defined, or empty
	unsigned char symbol_type = 0; // STT_* of the object's own symbol table entry
	bool defined_here = false;  // the symbol is defined by this object
	std::uint64_t symbol_value = 0; // st_value when defined here
};

// Read every dynamic relocation of the object file at `path`. On failure returns false with
// a message in *error.
bool read_dynamic_relocs(const std::string &path, std::vector<dynamic_reloc> *relocs,
                         std::string *error);

// The DT_NEEDED names (sonames) of the object file at `path`; false if unreadable.
bool read_needed(const std::string &path, std::vector<std::string> *needed);

} // namespace gotcha
