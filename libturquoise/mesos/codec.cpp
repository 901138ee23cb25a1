// codec.cpp — encode/decode a message in either content type of the Mesos v1 HTTP API.
#include <turquoise/mesos/codec.hpp>
#include <turquoise/mesos/json.hpp>

#include <cctype>
#include <climits>

namespace turquoise::mesos {

std::string_view media_type(ContentType type) noexcept {
	return type == ContentType::JSON ? "application/json" : "application/x-protobuf";
}

namespace {
bool iequals(std::string_view a, std::string_view b) {
	if (a.size() != b.size())
		return false;
	for (std::size_t i = 0; i < a.size(); ++i)
		if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
			return false;
	return true;
}
} // namespace

std::optional<ContentType> parse_media_type(std::string_view value) {
	value = value.substr(0, value.find(';'));
	while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
		value.remove_prefix(1);
	while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
		value.remove_suffix(1);
	if (iequals(value, "application/json"))
		return ContentType::JSON;
	if (iequals(value, "application/x-protobuf"))
		return ContentType::PROTOBUF;
	return std::nullopt;
}

Try<std::string> encode(const google::protobuf::Message &message, ContentType type) {
	if (!message.IsInitialized())
		return Error(message.GetTypeName() + ": missing required fields: " + message.InitializationErrorString());
	if (type == ContentType::JSON)
		return to_json(message);
	std::string out;
	if (!message.SerializeToString(&out))
		return Error(message.GetTypeName() + ": cannot serialize");
	return out;
}

Try<Nothing> decode(std::string_view data, ContentType type, google::protobuf::Message &message) {
	if (type == ContentType::JSON)
		return from_json(data, message);
	message.Clear();
	if (data.size() > INT_MAX)
		return Error("malformed protobuf: message too large");
	// ParsePartial, then our own completeness check, for an error naming the missing fields.
	if (!message.ParsePartialFromArray(data.data(), static_cast<int>(data.size()))) {
		message.Clear();
		return Error("malformed protobuf: cannot parse a " + message.GetTypeName());
	}
	if (!message.IsInitialized()) {
		std::string missing = message.InitializationErrorString();
		message.Clear();
		return Error(message.GetTypeName() + ": missing required fields: " + missing);
	}
	return Nothing{};
}

} // namespace turquoise::mesos
