// trampolines.cpp — stamp out trampolines from the template in trampoline_x86_64.S.
#include "trampolines.hpp"

#include <cstring>
#include <sys/mman.h>

extern "C" const unsigned char gotcha_trampoline_template[], gotcha_trampoline_tls[],
    gotcha_trampoline_index[], gotcha_trampoline_end[];

namespace gotcha {

void *tables[max_slots + 1][max_routes];
__thread void *const *current_table = tables[0];

namespace {

constexpr std::size_t trampoline_size = 16; // the template (16 bytes) rounded to a fetch line
// Trampolines are written into a writable chunk, which is made executable (and read-only)
// before any GOT entry points into it: when it is full and the next one is started, or by
// trampolines_seal() at the end of a batch, after which the next batch starts a new chunk.
// So no page is ever writable and executable at once, and every trampoline handed out is
// executable by the time its GOT entry is written.
constexpr std::size_t chunk_size = 16 * 1024; // 1 024 trampolines
constexpr std::size_t max_chunks = 512;       // 8 MiB of trampolines at most

unsigned char *chunk = nullptr;     // the chunk being filled
std::size_t chunk_used = chunk_size;
std::size_t chunk_count = 0;
bool seal_failed = false; // a chunk of this batch could not be made executable

// Make the chunk being filled executable; the next trampoline starts a new chunk.
void seal_chunk() {
	if (!chunk)
		return;
	if (mprotect(chunk, chunk_size, PROT_READ | PROT_EXEC) != 0)
		seal_failed = true;
	chunk = nullptr;
	chunk_used = chunk_size;
}

std::int32_t tls_displacement() {
	return static_cast<std::int32_t>(reinterpret_cast<std::uintptr_t>(&current_table) -
	                                 thread_pointer());
}

} // namespace

void *trampoline_make(std::size_t index) {
	std::size_t size = gotcha_trampoline_end - gotcha_trampoline_template;
	static_assert(trampoline_size >= 16);
	if (index >= max_routes || size > trampoline_size)
		return nullptr;
	if (chunk_used + trampoline_size > chunk_size) {
		seal_chunk();
		if (chunk_count == max_chunks)
			return nullptr;
		void *map = mmap(nullptr, chunk_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED)
			return nullptr;
		chunk = static_cast<unsigned char *>(map);
		chunk_used = 0;
		chunk_count++;
	}
	unsigned char *code = chunk + chunk_used;
	chunk_used += trampoline_size;
	std::memcpy(code, gotcha_trampoline_template, size);
	std::memset(code + size, 0xcc, trampoline_size - size); // int3: never reached
	std::int32_t tls = tls_displacement();
	std::int32_t slot = static_cast<std::int32_t>(index * sizeof(void *));
	std::memcpy(code + (gotcha_trampoline_tls - gotcha_trampoline_template) - 4, &tls, 4);
	std::memcpy(code + (gotcha_trampoline_index - gotcha_trampoline_template) - 4, &slot, 4);
	return code;
}

bool trampolines_seal() {
	seal_chunk();
	bool ok = !seal_failed;
	seal_failed = false;
	return ok;
}

} // namespace gotcha
