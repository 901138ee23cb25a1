/* libgotcha.h — selective relinking: each preemptible function gets its own libraries.
 *
 * A function preempted half-way through strtok(), setlocale() or qsort() leaves that
 * library's state half-updated; if its caller then used the same library, it would see (or
 * corrupt) that state. libgotcha gives every preemptible function its own copy of the
 * libraries the program loaded — a *libset* — and rewrites the program's GOT so that each call
 * the program makes into a library goes to the copy of the calling thread's current libset.
 * libinger uses it for every function it launches; most programs never call this header.
 *
 * How it works (details in libgotcha/README.md):
 *  - Copies are dlmopen() namespaces ("slots"). glibc allows 15 besides the base one, and on
 *    a stock glibc only about 10 unless the program starts with
 *    GLIBC_TUNABLES=glibc.rtld.nns=16 (inger-run sets it). libinger numbers its functions'
 *    libsets beyond that: a paused function's library state is saved from its slot when
 *    another libset needs the slot and put back when it runs again, at the same addresses.
 *  - Calls that must reach the one shared instance (the malloc family, stdio, threads,
 *    dlopen, environment, exit handlers: the list is libgotcha/shared_symbols.cpp) stay in the
 *    base libraries. Preemption is deferred while a preemptible function executes the base
 *    libraries' code, and taken right after.
 *  - Exported data the program reaches directly (stdout, environ: copy relocations) is the
 *    base one for every libset; each copy's libraries are relinked to use it too, and errno is
 *    one per thread. See "exported globals" in libgotcha/README.md for why.
 *  - The copies' constructors run once per slot when it is made, allocating from the base heap
 *    (each namespace starts with libgotcha-heap.so, installed beside this library); the
 *    copies' destructors never run: each library's destructors run once, the base instance's.
 *
 * Environment: INGER_LIBSETS=0 disables libgotcha (functions then share the base libraries,
 * with preemption deferred inside them); INGER_LIBSETS=N uses at most N slots.
 * Under AddressSanitizer libgotcha stays disabled (its interceptors do not survive copies).
 */
#ifndef LIBGOTCHA_H
#define LIBGOTCHA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What libgotcha did at start-up, and what it has done since. */
struct gotcha_info {
	size_t slots;            /* namespaces holding copies (0: disabled, see reason) */
	size_t copied_objects;   /* libraries copied into each slot */
	size_t program_objects;  /* objects whose GOT is rewritten (the program, later dlopens) */
	size_t routed_symbols;   /* GOT entries sent through a trampoline */
	size_t shared_symbols;   /* GOT entries of copies sent back to the base libraries */
	size_t state_bytes;      /* writable library state of one slot, saved and restored */
	uint64_t swaps;          /* a paused libset's state saved to let another use its slot */
	uint64_t restores;       /* a slot reset to its start-up state (after a cancel) */
	uint64_t shared_mode;    /* libsets handed out without a slot (every slot busy) */
	const char *disabled_reason; /* why slots == 0, or NULL */
};

/* Set up the libsets: copy the loaded libraries into namespaces and rewrite the GOTs.
 * Idempotent and thread-safe; libinger calls it on the first launch. Returns 0, or -1 with
 * errno set when libsets are unavailable (ENOTSUP: disabled by INGER_LIBSETS=0 or a
 * sanitizer; ENOMEM: no namespace could be created; ENOEXEC: the program's ELF image could
 * not be read). The program keeps working without them; gotcha_info() says why. */
int gotcha_init(void);

/* Fill *info (which must not be NULL). */
void gotcha_get_info(struct gotcha_info *info);

/* ---- Runtime interface, for libinger. -------------------------------------------------- */

/* A libset: the library state one preemptible function runs against. */
typedef struct gotcha_libset gotcha_libset_t;

/* A new libset with a fresh copy of the libraries, or NULL if libgotcha is disabled or out
 * of memory: then the function runs against the base libraries (with preemption deferred
 * inside them). Not async-signal-safe. */
gotcha_libset_t *gotcha_libset_acquire(void);

/* Give a libset back. `completed`: its function returned, so the library state is consistent
 * and may be reused as is; otherwise (cancelled) the slot is reset before reuse. */
void gotcha_libset_release(gotcha_libset_t *libset, int completed);

/* The calling thread stops running code of `from` and starts running code of `to` (either
 * may be NULL: the base libraries). Async-signal-safe; may wait while another thread runs
 * code of a libset that shares `to`'s slot. */
void gotcha_libset_switch(gotcha_libset_t *from, gotcha_libset_t *to);

/* Whether a preemptible function interrupted at `pc` must not be preempted there: it is
 * executing code of the base libraries (a shared call, or a shared-mode libset), of the
 * dynamic linker, or of libgotcha. Async-signal-safe. */
int gotcha_defers_preemption(uintptr_t pc);

#ifdef __cplusplus
}
#endif

#endif /* LIBGOTCHA_H */
