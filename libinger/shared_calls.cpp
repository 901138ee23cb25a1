// shared_calls.cpp — library calls that must not be preempted half-way.
//
// A function preempted inside malloc() holds the thread's malloc arena lock; the next
// preemptible function (or the caller) on the same thread that allocates would wait for that
// lock forever. So the malloc family is interposed here (libinger.so precedes libc in the
// global symbol search order of any program linked with it) and each call runs as a critical
// section: a preemption that falls due inside is taken as soon as the call returns.
//
// This is the only list of such calls; libgotcha's selective relinking will take it over.
// Sanitizer runtimes interpose malloc themselves, ahead of us; then these are unused.
#include <inger/inger.hpp>

#include <cerrno>
#include <cstddef>

extern "C" {
void *__libc_malloc(std::size_t);
void __libc_free(void *);
void *__libc_calloc(std::size_t, std::size_t);
void *__libc_realloc(void *, std::size_t);
void *__libc_memalign(std::size_t, std::size_t);
void *__libc_valloc(std::size_t);
void *__libc_pvalloc(std::size_t);
}

// Preemption is deferred for the guard's lifetime in the running preemptible function, if any:
// the same state and slow path as every other critical section.
using shared_call = inger::critical_section;

#define INGER_EXPORT extern "C" __attribute__((visibility("default")))

INGER_EXPORT void *malloc(std::size_t size) {
	shared_call guard;
	return __libc_malloc(size);
}

INGER_EXPORT void free(void *p) {
	if (!p)
		return;
	shared_call guard;
	__libc_free(p);
}

INGER_EXPORT void *calloc(std::size_t n, std::size_t size) {
	shared_call guard;
	return __libc_calloc(n, size);
}

INGER_EXPORT void *realloc(void *p, std::size_t size) {
	shared_call guard;
	return __libc_realloc(p, size);
}

INGER_EXPORT void *memalign(std::size_t alignment, std::size_t size) {
	shared_call guard;
	return __libc_memalign(alignment, size);
}

INGER_EXPORT void *aligned_alloc(std::size_t alignment, std::size_t size) {
	shared_call guard;
	return __libc_memalign(alignment, size);
}

INGER_EXPORT int posix_memalign(void **out, std::size_t alignment, std::size_t size) {
	if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0)
		return EINVAL;
	int saved = errno;
	void *p;
	{
		shared_call guard;
		p = __libc_memalign(alignment, size);
		// posix_memalign reports through its result, not errno. (Restored before the guard
		// ends: a preemption taken there may resume on another thread, see migrate.cpp.)
		errno = saved;
	}
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

INGER_EXPORT void *valloc(std::size_t size) {
	shared_call guard;
	return __libc_valloc(size);
}

INGER_EXPORT void *pvalloc(std::size_t size) {
	shared_call guard;
	return __libc_pvalloc(size);
}
