/* heap_forwarder.c — libgotcha-heap.so: the first object of every slot's namespace, so that
 * the copied libraries allocate from the base heap from their first constructor on.
 *
 * libgotcha points the copies' GOT entries for the malloc family at the base heap, but only
 * after dlmopen() has returned, and dlmopen() runs the copies' constructors: what they
 * allocated came from the copy of libc's own heap, and a later free() or realloc() of it (by
 * the library's next call, or its destructor) reached the base heap with a pointer the base
 * heap never handed out ("free(): invalid next size", "corrupted size vs. prev_size").
 *
 * The first object loaded into a namespace is that namespace's global scope: every object
 * loaded there later looks symbols up in it first, as the base namespace does in the
 * executable and its LD_PRELOADs. This object has no dependencies and defines only the malloc
 * family, as jumps through a table that libgotcha fills (gotcha_heap_bind) with the base
 * definitions before it loads the copies. So each copy, libc included (glibc calls malloc
 * through its PLT, to allow exactly this interposition), binds its allocations to the base
 * heap at load time, and its constructors run against it.
 *
 * Linked with -nostdlib: no libc, no start files, no constructors of its own. */
#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))

typedef void *(*gotcha_heap_lookup)(const char *name);

static void *(*base_malloc)(size_t);
static void (*base_free)(void *);
static void *(*base_calloc)(size_t, size_t);
static void *(*base_realloc)(void *, size_t);
static void *(*base_reallocarray)(void *, size_t, size_t);
static int (*base_posix_memalign)(void **, size_t, size_t);
static void *(*base_aligned_alloc)(size_t, size_t);
static void *(*base_memalign)(size_t, size_t);
static void *(*base_valloc)(size_t);
static void *(*base_pvalloc)(size_t);
static size_t (*base_malloc_usable_size)(void *);

/* Fill the table with `lookup`'s answers (the base namespace's definitions). Returns 0, or -1
 * if one is missing: then libgotcha does not use this namespace's forwarder. */
EXPORT int gotcha_heap_bind(gotcha_heap_lookup lookup) {
#define BIND(name)                                                                             \
	if (!(*(void **)&base_##name = lookup(#name)))                                         \
		return -1;
	BIND(malloc)
	BIND(free)
	BIND(calloc)
	BIND(realloc)
	BIND(reallocarray)
	BIND(posix_memalign)
	BIND(aligned_alloc)
	BIND(memalign)
	BIND(valloc)
	BIND(pvalloc)
	BIND(malloc_usable_size)
#undef BIND
	return 0;
}

EXPORT void *malloc(size_t size) { return base_malloc(size); }
EXPORT void free(void *p) { base_free(p); }
EXPORT void *calloc(size_t n, size_t size) { return base_calloc(n, size); }
EXPORT void *realloc(void *p, size_t size) { return base_realloc(p, size); }
EXPORT void *reallocarray(void *p, size_t n, size_t size) { return base_reallocarray(p, n, size); }
EXPORT int posix_memalign(void **out, size_t alignment, size_t size) {
	return base_posix_memalign(out, alignment, size);
}
EXPORT void *aligned_alloc(size_t alignment, size_t size) { return base_aligned_alloc(alignment, size); }
EXPORT void *memalign(size_t alignment, size_t size) { return base_memalign(alignment, size); }
EXPORT void *valloc(size_t size) { return base_valloc(size); }
EXPORT void *pvalloc(size_t size) { return base_pvalloc(size); }
EXPORT size_t malloc_usable_size(void *p) { return base_malloc_usable_size(p); }
