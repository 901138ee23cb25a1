// copy_lifecycle.cpp — the rule for the copied libraries' constructors and destructors.
//
// Every slot holds a copy of each copied library, and dlmopen() runs that copy's constructors
// when the slot is made. The rule:
//  - A copy's constructors run once, when its slot is made, against the base heap: the
//    namespace's first object is libgotcha-heap.so (heap_forwarder.c), which binds the
//    copies' malloc family to the base definitions before any copy is loaded. What a
//    constructor allocates can be freed or reallocated by the library's later calls, which
//    reach the base heap too.
//  - A copy's destructors never run: the process runs each library's destructors once, the
//    base instance's, as it would without libgotcha. At exit a slot's memory holds whichever
//    libset ran there last (possibly a cancelled function's half-updated state), so running
//    fifteen more destructors against it could crash the exit after the program's work is
//    done and before stdout is flushed; what the copies hold (memory, descriptors) goes with
//    the process.
#include "copy_lifecycle.hpp"

#include <elf.h>
#include <string>

namespace gotcha {
namespace {

// The directory libgotcha.so was loaded from, where libgotcha-heap.so is built and installed.
std::string own_directory() {
	Dl_info self{};
	if (!dladdr(reinterpret_cast<void *>(&open_namespace_with_heap_forwarder), &self) ||
	    !self.dli_fname)
		return {};
	std::string path = self.dli_fname;
	std::size_t slash = path.rfind('/');
	return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// The base namespace's definition, as the program's own lookup finds it (libinger's malloc
// wrappers, say). Through the program's handle, not RTLD_DEFAULT: dlsym() takes the namespace
// to search from its caller, which is the forwarder when this call is compiled as a jump.
void *base_definition(const char *name) {
	static void *const program = dlopen(nullptr, RTLD_LAZY);
	return program ? dlsym(program, name) : nullptr;
}

std::vector<ElfW(Addr)> forwarder_biases; // each namespace's forwarder, by load bias

} // namespace

// Where a copy's DT_FINI_ARRAY entries and DT_FINI point instead of its destructors.
extern "C" __attribute__((visibility("hidden"))) void gotcha_skipped_destructor() {}

void *open_namespace_with_heap_forwarder(Lmid_t *lmid) {
	static const std::string path = own_directory() + "/libgotcha-heap.so";
	void *h = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return nullptr;
	using bind_fn = int (*)(void *(*)(const char *));
	auto bind = reinterpret_cast<bind_fn>(dlsym(h, "gotcha_heap_bind"));
	link_map *lm = nullptr;
	if (!bind || bind(base_definition) != 0 || dlinfo(h, RTLD_DI_LMID, lmid) != 0 ||
	    dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm) {
		dlclose(h);
		return nullptr;
	}
	forwarder_biases.push_back(lm->l_addr);
	return h;
}

bool is_heap_forwarder(const link_map *lm) {
	for (ElfW(Addr) bias : forwarder_biases)
		if (lm->l_addr == bias)
			return true;
	return false;
}

void add_destructor_skips(const link_map *lm,
                          std::vector<std::pair<std::uintptr_t, std::uintptr_t>> *writes) {
	auto skip = reinterpret_cast<std::uintptr_t>(&gotcha_skipped_destructor);
	ElfW(Addr) fini_array = 0;
	std::size_t fini_array_bytes = 0;
	for (const ElfW(Dyn) *d = lm->l_ld; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_FINI_ARRAY)
			fini_array = d->d_un.d_ptr;
		else if (d->d_tag == DT_FINI_ARRAYSZ)
			fini_array_bytes = d->d_un.d_val;
		else if (d->d_tag == DT_FINI) // the loader calls l_addr + d_ptr: make that the no-op
			writes->emplace_back(reinterpret_cast<std::uintptr_t>(&d->d_un.d_ptr),
			                     skip - lm->l_addr);
	}
	// The loader reads the array at l_addr + d_ptr (glibc's _dl_fini), as here.
	if (fini_array)
		for (std::size_t i = 0; i < fini_array_bytes / sizeof(ElfW(Addr)); i++)
			writes->emplace_back(lm->l_addr + fini_array + i * sizeof(ElfW(Addr)), skip);
}

} // namespace gotcha
