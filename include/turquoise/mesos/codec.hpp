// turquoise/mesos/codec.hpp — the two content types of the Mesos v1 HTTP API:
// application/json (Mesos's JSON mapping, json.hpp) and application/x-protobuf (protobuf's
// binary encoding). Used for calls, for events (one per RecordIO record) and for agents'
// and masters' answers alike.
#ifndef TURQUOISE_MESOS_CODEC_HPP
#define TURQUOISE_MESOS_CODEC_HPP

#include <turquoise/async/nothing.hpp>
#include <turquoise/async/try.hpp>

#include <google/protobuf/message.h>

#include <optional>
#include <string>
#include <string_view>

namespace turquoise::mesos {

enum class ContentType { JSON, PROTOBUF };

// "application/json" / "application/x-protobuf".
std::string_view media_type(ContentType type) noexcept;

// The content type a Content-Type or Accept value names (parameters such as "; charset=utf-8"
// ignored, case-insensitive), or nullopt for anything else.
std::optional<ContentType> parse_media_type(std::string_view value);

// The message in that encoding. An incomplete message (a required field unset) is an error,
// as Mesos would reject it: "<type>: missing required fields: <names>".
Try<std::string> encode(const google::protobuf::Message &message, ContentType type);

// Clears `message` and decodes `data` into it; errors say what is wrong ("malformed
// protobuf: ...", "malformed JSON: ...", "<field path>: ...", missing required fields).
Try<Nothing> decode(std::string_view data, ContentType type, google::protobuf::Message &message);

template <class M>
Try<M> decode(std::string_view data, ContentType type) {
	M m;
	Try<Nothing> r = decode(data, type, m);
	if (r.isError())
		return Error(r.error());
	return m;
}

} // namespace turquoise::mesos

#endif
