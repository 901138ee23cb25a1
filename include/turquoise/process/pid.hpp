// turquoise/process/pid.hpp — process identities: UPID (untyped) and PID<T> (typed), and
// ID::generate() for unique process ids.
//
// A UPID names a process by its id string plus the address of the runtime it lives in: the
// runtime's advertised address once it listens (runtime::listen(), network.hpp), else the
// placeholder 127.0.0.1:0 ("this program"). Its textual form is "id@host:port", as on
// libprocess's wire. A UPID obtained from a spawned process (self(), spawn()) also
// carries a direct reference to the process's runtime record, so that dispatching through
// it needs no registry lookup, and it never reaches a later process of the same id; a UPID
// made from a string is resolved through the registry.
// Equality, ordering and hashing use the id and the address only.
#ifndef TURQUOISE_PROCESS_PID_HPP
#define TURQUOISE_PROCESS_PID_HPP

#include <turquoise/async/try.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace turquoise {

class ProcessBase;

namespace detail {
struct record; // the runtime's bookkeeping for one spawned process (libturquoise/process)
struct access; // the runtime's access to ProcessBase's private parts
} // namespace detail

namespace ID {
// "prefix(N)" with N unique in this program (N counts up from 1 per prefix).
std::string generate(const std::string &prefix = "");
} // namespace ID

struct Address {
	std::string host = "127.0.0.1";
	std::uint16_t port = 0;

	friend bool operator==(const Address &a, const Address &b) {
		return a.port == b.port && a.host == b.host;
	}
	// The placeholder of a runtime that does not listen (yet): "this program".
	bool unspecified() const { return port == 0 && host == "127.0.0.1"; }
	std::string str() const { return host + ':' + std::to_string(port); }
	friend bool operator<(const Address &a, const Address &b) {
		return a.host < b.host || (a.host == b.host && a.port < b.port);
	}
	friend std::ostream &operator<<(std::ostream &os, const Address &a) {
		return os << a.host << ':' << a.port;
	}
};

class UPID {
public:
	UPID() = default;
	UPID(std::string id_, Address address_ = {}) : id(std::move(id_)), address(std::move(address_)) {}
	UPID(const char *id_) : UPID(std::string(id_)) {}

	// "id@host:port" (or just "id"); an unparsable string gives an empty UPID.
	static UPID parse(const std::string &text);
	// Strict "id@host:port", as a peer's Libprocess-From must be: an id of printable ASCII
	// without '@', '/', '%' or spaces (1..255 bytes), '@', a host (dotted IPv4, or a name of
	// letters, digits, '-' and '.'), ':', a decimal port 0..65535 without sign or leading
	// zeros. An Error says what is wrong ("invalid UPID 'x': ...").
	static Try<UPID> parse_strict(std::string_view text);

	explicit operator bool() const { return !id.empty(); }
	std::string str() const;

	friend bool operator==(const UPID &a, const UPID &b) { return a.id == b.id && a.address == b.address; }
	friend bool operator!=(const UPID &a, const UPID &b) { return !(a == b); }
	friend bool operator<(const UPID &a, const UPID &b) {
		return a.id < b.id || (a.id == b.id && a.address < b.address);
	}
	friend std::ostream &operator<<(std::ostream &os, const UPID &pid) {
		return os << pid.id << '@' << pid.address;
	}

	std::string id;
	Address address;

	// Internal: the spawned process this UPID came from (empty if unknown or made from text).
	// A strong reference: sending through it touches no reference count (a weak_ptr would
	// have to be locked per message, a contended atomic operation in a fan-in). It keeps the
	// process's small runtime record alive, not the process: once the process terminated,
	// the record refuses messages.
	std::shared_ptr<detail::record> reference;
};

namespace abi { // see small_alloc.hpp
UPID self_of(const ProcessBase &process); // process.self()
}
namespace detail {
using abi::self_of;
}

// A UPID known to name a T (or something derived from T).
template <class T>
class PID : public UPID {
public:
	PID() = default;
	explicit PID(const UPID &pid) : UPID(pid) {}
	// The pid of a (spawned or not yet spawned) process.
	PID(const T &t) : UPID(detail::self_of(t)) {}
	PID(const T *t) : UPID(detail::self_of(*t)) {}

	// PID<Derived> converts to PID<Base>.
	template <class U, class = std::enable_if_t<std::is_base_of_v<T, U> && !std::is_same_v<T, U>>>
	PID(const PID<U> &other) : UPID(static_cast<const UPID &>(other)) {}
};

} // namespace turquoise

template <>
struct std::hash<turquoise::UPID> {
	std::size_t operator()(const turquoise::UPID &pid) const noexcept {
		std::size_t h = std::hash<std::string>()(pid.id);
		h ^= std::hash<std::string>()(pid.address.host) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
		return h ^ (static_cast<std::size_t>(pid.address.port) << 1);
	}
};
template <class T>
struct std::hash<turquoise::PID<T>> : std::hash<turquoise::UPID> {};

#endif
