// turquoise/process/event.hpp — which method a dispatch calls (MethodId, matched by filters);
// the messages queued in a process's mailbox are internal (process/detail/event.hpp).
#ifndef TURQUOISE_PROCESS_EVENT_HPP
#define TURQUOISE_PROCESS_EVENT_HPP

#include <array>
#include <cstring>
#include <type_traits>
#include <typeinfo>

namespace turquoise {

// Which member function a dispatch calls (empty for a lambda dispatch): the pointer-to-member
// type and its bytes, so filters can match `&T::method` without knowing T's argument types.
struct MethodId {
	const std::type_info *type = nullptr;
	std::array<unsigned char, 16> bytes{};

	template <class M>
	static MethodId of(M method) {
		static_assert(std::is_member_function_pointer_v<M>);
		static_assert(sizeof(M) <= sizeof(bytes), "pointer to member too large");
		MethodId id;
		id.type = &typeid(M);
		std::memcpy(id.bytes.data(), &method, sizeof(M));
		return id;
	}
	explicit operator bool() const { return type != nullptr; }
	friend bool operator==(const MethodId &a, const MethodId &b) {
		if (a.type == nullptr || b.type == nullptr)
			return a.type == b.type;
		return *a.type == *b.type && a.bytes == b.bytes;
	}
};

} // namespace turquoise

#include <turquoise/process/detail/event.hpp>

#endif
