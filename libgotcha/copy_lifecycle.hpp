// copy_lifecycle.hpp — the copied libraries' constructors and destructors (copy_lifecycle.cpp).
#pragma once

#include <cstdint>
#include <dlfcn.h>
#include <link.h>
#include <utility>
#include <vector>

namespace gotcha {

// Open a new namespace with libgotcha-heap.so as its first object, bound to the base heap,
// so that the libraries loaded there next allocate from the base heap from their first
// constructor on. Returns its handle and sets *lmid to the namespace, or returns nullptr
// (the forwarder is missing or cannot be bound: the caller opens the namespace itself).
void *open_namespace_with_heap_forwarder(Lmid_t *lmid);

// Whether `lm` is a namespace's heap forwarder (neither relinked nor paged).
bool is_heap_forwarder(const link_map *lm);

// The GOT-style writes that keep a copy's destructors (DT_FINI_ARRAY, DT_FINI) from ever
// running: each is pointed at a function that does nothing. Appended to *writes.
void add_destructor_skips(const link_map *lm,
                          std::vector<std::pair<std::uintptr_t, std::uintptr_t>> *writes);

} // namespace gotcha
