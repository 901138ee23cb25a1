// turquoise/async/promise.hpp — Promise<T> is defined with Future<T> in future.hpp (they share
// one state type); this header exists so code can include what it uses.
#ifndef TURQUOISE_ASYNC_PROMISE_HPP
#define TURQUOISE_ASYNC_PROMISE_HPP

#include <turquoise/async/future.hpp>

#endif
