// json_read.cpp — JSON text -> protobuf message, in Mesos's mapping (see json.hpp): walks the
// parsed nlohmann::json document along the message's descriptor, by reflection.
#include <turquoise/mesos/json.hpp>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace turquoise::mesos {

namespace {
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using nlohmann::json;

// Messages nest at most this deep (ContainerID.parent could otherwise recurse without end).
constexpr int max_depth = 64;

struct bad_field {
	std::string path, what;
};

// An integer in [lo, hi] from a JSON number or a string of digits.
template <class I>
I read_integer(const json &v, const std::string &path) {
	if (v.is_number_unsigned()) {
		auto u = v.get<std::uint64_t>();
		if (u <= static_cast<std::uint64_t>(std::numeric_limits<I>::max()))
			return static_cast<I>(u);
	} else if (v.is_number_integer()) {
		auto s = v.get<std::int64_t>();
		if (s >= static_cast<std::int64_t>(std::numeric_limits<I>::min()) &&
		    (s < 0 || static_cast<std::uint64_t>(s) <= static_cast<std::uint64_t>(std::numeric_limits<I>::max())))
			return static_cast<I>(s);
	} else if (v.is_number_float()) {
		double d = v.get<double>();
		if (std::trunc(d) == d && d >= static_cast<double>(std::numeric_limits<I>::min()) &&
		    d < static_cast<double>(std::numeric_limits<I>::max()))
			return static_cast<I>(d);
	} else if (v.is_string()) {
		json parsed = json::parse(v.get<std::string>(), nullptr, false);
		if (parsed.is_number())
			return read_integer<I>(parsed, path);
		throw bad_field{path, "not a number: " + v.dump()};
	} else {
		throw bad_field{path, "expected a number, got " + std::string(v.type_name())};
	}
	throw bad_field{path, "number out of range: " + v.dump()};
}

double read_double(const json &v, const std::string &path) {
	if (v.is_number())
		return v.get<double>();
	if (v.is_string()) {
		json parsed = json::parse(v.get<std::string>(), nullptr, false);
		if (parsed.is_number())
			return parsed.get<double>();
	}
	throw bad_field{path, "expected a number, got " + v.dump()};
}

void read_message(const json &object, Message &m, const std::string &path, int depth);

// Sets the singular field f (or appends to the repeated one) from v.
void read_value(const json &v, Message &m, const FieldDescriptor &f, const std::string &path, int depth) {
	const Reflection &r = *m.GetReflection();
	bool rep = f.is_repeated();
	switch (f.cpp_type()) {
	case FieldDescriptor::CPPTYPE_INT32: {
		auto x = read_integer<std::int32_t>(v, path);
		rep ? r.AddInt32(&m, &f, x) : r.SetInt32(&m, &f, x);
		return;
	}
	case FieldDescriptor::CPPTYPE_INT64: {
		auto x = read_integer<std::int64_t>(v, path);
		rep ? r.AddInt64(&m, &f, x) : r.SetInt64(&m, &f, x);
		return;
	}
	case FieldDescriptor::CPPTYPE_UINT32: {
		auto x = read_integer<std::uint32_t>(v, path);
		rep ? r.AddUInt32(&m, &f, x) : r.SetUInt32(&m, &f, x);
		return;
	}
	case FieldDescriptor::CPPTYPE_UINT64: {
		auto x = read_integer<std::uint64_t>(v, path);
		rep ? r.AddUInt64(&m, &f, x) : r.SetUInt64(&m, &f, x);
		return;
	}
	case FieldDescriptor::CPPTYPE_DOUBLE: {
		double x = read_double(v, path);
		rep ? r.AddDouble(&m, &f, x) : r.SetDouble(&m, &f, x);
		return;
	}
	case FieldDescriptor::CPPTYPE_FLOAT: {
		auto x = static_cast<float>(read_double(v, path));
		rep ? r.AddFloat(&m, &f, x) : r.SetFloat(&m, &f, x);
		return;
	}
	case FieldDescriptor::CPPTYPE_BOOL: {
		if (!v.is_boolean())
			throw bad_field{path, "expected true or false, got " + v.dump()};
		rep ? r.AddBool(&m, &f, v.get<bool>()) : r.SetBool(&m, &f, v.get<bool>());
		return;
	}
	case FieldDescriptor::CPPTYPE_ENUM: {
		const auto *e = f.enum_type();
		const google::protobuf::EnumValueDescriptor *value = nullptr;
		if (v.is_string())
			value = e->FindValueByName(v.get<std::string>());
		else if (v.is_number_integer())
			value = e->FindValueByNumber(read_integer<std::int32_t>(v, path));
		if (value == nullptr)
			throw bad_field{path, "unknown " + e->name() + " value " + v.dump()};
		rep ? r.AddEnum(&m, &f, value) : r.SetEnum(&m, &f, value);
		return;
	}
	case FieldDescriptor::CPPTYPE_STRING: {
		if (!v.is_string())
			throw bad_field{path, "expected a string, got " + std::string(v.type_name())};
		std::string s = v.get<std::string>();
		if (f.type() == FieldDescriptor::TYPE_BYTES) {
			Try<std::string> bytes = base64_decode(s);
			if (bytes.isError())
				throw bad_field{path, bytes.error()};
			s = std::move(bytes.get());
		}
		rep ? r.AddString(&m, &f, std::move(s)) : r.SetString(&m, &f, std::move(s));
		return;
	}
	case FieldDescriptor::CPPTYPE_MESSAGE:
		read_message(v, rep ? *r.AddMessage(&m, &f) : *r.MutableMessage(&m, &f), path, depth + 1);
		return;
	}
}

void read_message(const json &object, Message &m, const std::string &path, int depth) {
	if (depth > max_depth)
		throw bad_field{path, "messages nested too deep"};
	if (!object.is_object())
		throw bad_field{path, "expected an object, got " + std::string(object.type_name())};
	const auto *d = m.GetDescriptor();
	for (const auto &[key, v] : object.items()) {
		const FieldDescriptor *f = d->FindFieldByName(key);
		if (f == nullptr || v.is_null()) // unknown (newer schema) or explicitly unset
			continue;
		std::string field_path = path.empty() ? key : path + "." + key;
		if (f->is_repeated()) {
			if (!v.is_array())
				throw bad_field{field_path, "expected an array, got " + std::string(v.type_name())};
			for (std::size_t i = 0; i < v.size(); ++i)
				read_value(v[i], m, *f, field_path + "[" + std::to_string(i) + "]", depth);
		} else {
			read_value(v, m, *f, field_path, depth);
		}
	}
}
} // namespace

Try<Nothing> from_json(std::string_view text, Message &message) {
	message.Clear();
	json document;
	try {
		document = json::parse(text.begin(), text.end());
	} catch (const json::exception &e) {
		return Error(std::string("malformed JSON: ") + e.what());
	}
	try {
		read_message(document, message, "", 0);
	} catch (const bad_field &e) {
		message.Clear();
		return Error((e.path.empty() ? "" : e.path + ": ") + e.what);
	}
	if (!message.IsInitialized()) {
		std::string missing = message.InitializationErrorString();
		message.Clear();
		return Error(message.GetTypeName() + ": missing required fields: " + missing);
	}
	return Nothing{};
}

} // namespace turquoise::mesos
