// turquoise/process/detail/protobuf.hpp — internal: Process<T>::install<M>'s bodies (protobuf
// messages by duck typing: M::ParseFromString, M::GetTypeName; no protobuf header here).
#ifndef TURQUOISE_PROCESS_DETAIL_PROTOBUF_HPP
#define TURQUOISE_PROCESS_DETAIL_PROTOBUF_HPP

#include <turquoise/process/process.hpp>

#include <string>
#include <utility>

namespace turquoise {
namespace abi {
// A message whose body did not parse as its protobuf type: dropped, counted as unhandled.
void count_unparsed_message(const UPID &receiver, const std::string &name);
} // namespace abi

namespace detail {
// Wrap `use(const UPID &from, const M &m)` as a raw MessageHandler that parses the body.
template <class M, class Use>
ProcessBase::MessageHandler protobuf_handler(UPID receiver, Use use) {
	return [receiver = std::move(receiver), use = std::move(use)](const UPID &from, std::string &&body) {
		M m;
		if (!m.ParseFromString(body)) {
			abi::count_unparsed_message(receiver, m.GetTypeName());
			return;
		}
		use(from, m);
	};
}
} // namespace detail

template <class T>
template <class M>
inline void Process<T>::install(void (T::*method)(const M &)) {
	T *t = static_cast<T *>(this);
	install(M().GetTypeName(),
	        detail::protobuf_handler<M>(ProcessBase::self(), [t, method](const UPID &, const M &m) { (t->*method)(m); }));
}

template <class T>
template <class M>
inline void Process<T>::install(void (T::*method)(const UPID &, const M &)) {
	T *t = static_cast<T *>(this);
	install(M().GetTypeName(), detail::protobuf_handler<M>(ProcessBase::self(), [t, method](const UPID &from, const M &m) {
		        (t->*method)(from, m);
	        }));
}

template <class T>
template <class M, class... P, class F1, class... F>
inline void Process<T>::install(void (T::*method)(const UPID &, P...), F1 field, F... fields) {
	T *t = static_cast<T *>(this);
	install(M().GetTypeName(),
	        detail::protobuf_handler<M>(ProcessBase::self(), [t, method, field, fields...](const UPID &from, const M &m) {
		        (t->*method)(from, (m.*field)(), (m.*fields)()...);
	        }));
}

template <class T>
template <class M, class... P, class F1, class... F, class>
inline void Process<T>::install(void (T::*method)(P...), F1 field, F... fields) {
	T *t = static_cast<T *>(this);
	install(M().GetTypeName(),
	        detail::protobuf_handler<M>(ProcessBase::self(), [t, method, field, fields...](const UPID &, const M &m) {
		        (t->*method)((m.*field)(), (m.*fields)()...);
	        }));
}

} // namespace turquoise

#endif
