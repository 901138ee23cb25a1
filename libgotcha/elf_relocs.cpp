// elf_relocs.cpp — read the dynamic relocations of an object file with libelf.
//
// The loaded image lacks the section headers, so the file on disk is read; it is the same
// file the loader mapped (libgotcha runs after start-up, before anything could replace it).
#include "elf_relocs.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <map>

namespace gotcha {
namespace {

struct elf_file {
	int fd = -1;
	Elf *elf = nullptr;
	~elf_file() {
		if (elf)
			elf_end(elf);
		if (fd >= 0)
			close(fd);
	}
};

// Version index -> name, from SHT_GNU_verneed (references) and SHT_GNU_verdef (definitions).
std::map<unsigned, std::string> version_names(Elf *elf) {
	std::map<unsigned, std::string> names;
	Elf_Scn *scn = nullptr;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr))
			continue;
		Elf_Data *data = elf_getdata(scn, nullptr);
		if (!data)
			continue;
		if (shdr.sh_type == SHT_GNU_verneed) {
			int offset = 0;
			for (unsigned i = 0; i < shdr.sh_info; i++) {
				GElf_Verneed need;
				if (!gelf_getverneed(data, offset, &need))
					break;
				int aux_offset = offset + static_cast<int>(need.vn_aux);
				for (unsigned j = 0; j < need.vn_cnt; j++) {
					GElf_Vernaux aux;
					if (!gelf_getvernaux(data, aux_offset, &aux))
						break;
					const char *name = elf_strptr(elf, shdr.sh_link, aux.vna_name);
					if (name)
						names[aux.vna_other & 0x7fff] = name;
					aux_offset += static_cast<int>(aux.vna_next);
				}
				offset += static_cast<int>(need.vn_next);
			}
		} else if (shdr.sh_type == SHT_GNU_verdef) {
			int offset = 0;
			for (unsigned i = 0; i < shdr.sh_info; i++) {
				GElf_Verdef def;
				if (!gelf_getverdef(data, offset, &def))
					break;
				GElf_Verdaux aux;
				if (!(def.vd_flags & VER_FLG_BASE) &&
				    gelf_getverdaux(data, offset + static_cast<int>(def.vd_aux), &aux)) {
					const char *name = elf_strptr(elf, shdr.sh_link, aux.vda_name);
					if (name)
						names[def.vd_ndx & 0x7fff] = name;
				}
				offset += static_cast<int>(def.vd_next);
			}
		}
	}
	return names;
}

} // namespace

bool read_dynamic_relocs(const std::string &path, std::vector<dynamic_reloc> *relocs,
                         std::string *error) {
	if (elf_version(EV_CURRENT) == EV_NONE) {
		*error = "libelf: " + std::string(elf_errmsg(-1));
		return false;
	}
	elf_file file;
	file.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (file.fd < 0) {
		*error = "cannot open " + path;
		return false;
	}
	file.elf = elf_begin(file.fd, ELF_C_READ_MMAP, nullptr);
	if (!file.elf || elf_kind(file.elf) != ELF_K_ELF) {
		*error = path + ": not an ELF file (" + elf_errmsg(-1) + ")";
		return false;
	}
	std::map<unsigned, std::string> versions = version_names(file.elf);

	// The dynamic symbol table and its version table.
	Elf_Data *versym = nullptr;
	Elf_Scn *scn = nullptr;
	while ((scn = elf_nextscn(file.elf, scn))) {
		GElf_Shdr shdr;
		if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_GNU_versym)
			versym = elf_getdata(scn, nullptr);
	}

	scn = nullptr;
	while ((scn = elf_nextscn(file.elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_RELA)
			continue;
		Elf_Scn *symscn = elf_getscn(file.elf, shdr.sh_link);
		GElf_Shdr symshdr;
		if (!symscn || !gelf_getshdr(symscn, &symshdr) || symshdr.sh_type != SHT_DYNSYM)
			continue; // not a dynamic relocation section
		Elf_Data *rela = elf_getdata(scn, nullptr);
		Elf_Data *syms = elf_getdata(symscn, nullptr);
		if (!rela || !syms)
			continue;
		std::size_t count = shdr.sh_entsize ? shdr.sh_size / shdr.sh_entsize : 0;
		for (std::size_t i = 0; i < count; i++) {
			GElf_Rela r;
			if (!gelf_getrela(rela, static_cast<int>(i), &r))
				break;
			dynamic_reloc out;
			out.offset = r.r_offset;
			out.type = static_cast<std::uint32_t>(GELF_R_TYPE(r.r_info));
			out.addend = r.r_addend;
			std::size_t symndx = GELF_R_SYM(r.r_info);
			GElf_Sym sym;
			if (symndx && gelf_getsym(syms, static_cast<int>(symndx), &sym)) {
				const char *name = elf_strptr(file.elf, symshdr.sh_link, sym.st_name);
				out.name = name ? name : "";
				out.symbol_type = static_cast<unsigned char>(GELF_ST_TYPE(sym.st_info));
				out.defined_here = sym.st_shndx != SHN_UNDEF;
				out.symbol_value = sym.st_value;
				GElf_Versym ver;
				if (versym && gelf_getversym(versym, static_cast<int>(symndx), &ver)) {
					auto it = versions.find(ver & 0x7fff);
					if ((ver & 0x7fff) > 1 && it != versions.end())
						out.version = it->second;
				}
			}
			relocs->push_back(std::move(out));
		}
	}
	return true;
}

bool read_needed(const std::string &path, std::vector<std::string> *needed) {
	if (elf_version(EV_CURRENT) == EV_NONE)
		return false;
	elf_file file;
	file.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (file.fd < 0)
		return false;
	file.elf = elf_begin(file.fd, ELF_C_READ_MMAP, nullptr);
	if (!file.elf || elf_kind(file.elf) != ELF_K_ELF)
		return false;
	Elf_Scn *scn = nullptr;
	while ((scn = elf_nextscn(file.elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNAMIC)
			continue;
		Elf_Data *data = elf_getdata(scn, nullptr);
		std::size_t count = shdr.sh_entsize ? shdr.sh_size / shdr.sh_entsize : 0;
		for (std::size_t i = 0; data && i < count; i++) {
			GElf_Dyn dyn;
			if (!gelf_getdyn(data, static_cast<int>(i), &dyn))
				break;
			if (dyn.d_tag == DT_NEEDED)
				if (const char *name = elf_strptr(file.elf, shdr.sh_link, dyn.d_un.d_val))
					needed->push_back(name);
		}
	}
	return true;
}

} // namespace gotcha
