// shared_symbols.hpp — the functions every libset must reach in the base libraries.
#pragma once

#include <string_view>

namespace gotcha {

// Whether calls to `name` must stay in (or be sent back to) the base libraries.
bool is_shared_symbol(std::string_view name);

} // namespace gotcha
