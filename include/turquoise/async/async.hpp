// turquoise/async/async.hpp — the whole Future/Promise layer (not the test macros).
#ifndef TURQUOISE_ASYNC_ASYNC_HPP
#define TURQUOISE_ASYNC_ASYNC_HPP

#include <turquoise/async/after.hpp>
#include <turquoise/async/clock.hpp>
#include <turquoise/async/collect.hpp>
#include <turquoise/async/coroutine.hpp>
#include <turquoise/async/failure.hpp>
#include <turquoise/async/future.hpp>
#include <turquoise/async/loop.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/async/option.hpp>
#include <turquoise/async/promise.hpp>
#include <turquoise/async/try.hpp>
#include <turquoise/async/undiscardable.hpp>

#endif
