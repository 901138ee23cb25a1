// turquoise/mesos/json.hpp — Mesos's JSON mapping of protobuf messages, both ways.
//
// As Mesos's own writer and parser (stout's protobuf/JSON) do it, not protobuf's JSON mapping:
//   - object keys are the proto field names (snake_case, not lowerCamel);
//   - enums are written by name; read by name (or by number);
//   - bytes are base64 (RFC 4648, with padding);
//   - int64/uint64 are JSON numbers (protobuf's mapping writes strings, which clients reading
//     e.g. port ranges reject); numbers in strings are accepted when reading;
//   - written: the fields that are set, and unset optional fields that have an explicit
//     default and are not deprecated (Filters.refuse_seconds: 5.0, CommandInfo.shell: true);
//   - read: `null` means unset, unknown keys are ignored (a newer master sends fields this
//     subset does not have), and the message must be complete (required fields set).
// Output is ASCII (non-ASCII characters escaped as \uXXXX, invalid UTF-8 replaced).
#ifndef TURQUOISE_MESOS_JSON_HPP
#define TURQUOISE_MESOS_JSON_HPP

#include <turquoise/async/nothing.hpp>
#include <turquoise/async/try.hpp>

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

namespace turquoise::mesos {

std::string to_json(const google::protobuf::Message &message);

// Clears `message`, then fills it from `text`. Errors name the field path and the problem
// ("malformed JSON: ...", "offers[0].resources[1].type: unknown enum value 'X'",
// "missing required fields: ...").
Try<Nothing> from_json(std::string_view text, google::protobuf::Message &message);

template <class M>
Try<M> parse_json(std::string_view text) {
	M m;
	Try<Nothing> r = from_json(text, m);
	if (r.isError())
		return Error(r.error());
	return m;
}

// Base64 (standard alphabet, padded), as Mesos writes bytes. decode fails on anything else
// (whitespace included).
std::string base64_encode(std::string_view data);
Try<std::string> base64_decode(std::string_view text);

} // namespace turquoise::mesos

#endif
