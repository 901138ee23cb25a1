// json_write.cpp — protobuf message -> JSON text, in Mesos's mapping (see json.hpp), by
// reflection over the message's descriptor into an nlohmann::json document.
#include <turquoise/mesos/json.hpp>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>
#include <nlohmann/json.hpp>

namespace turquoise::mesos {

namespace {
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using nlohmann::json;

json write_message(const Message &m);

// Element `index` of a repeated field (index < 0: the singular field's value).
json write_value(const Message &m, const Reflection &r, const FieldDescriptor &f, int index) {
	bool rep = index >= 0;
	switch (f.cpp_type()) {
	case FieldDescriptor::CPPTYPE_INT32:
		return rep ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f);
	case FieldDescriptor::CPPTYPE_INT64:
		return rep ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f);
	case FieldDescriptor::CPPTYPE_UINT32:
		return rep ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f);
	case FieldDescriptor::CPPTYPE_UINT64:
		return rep ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f);
	case FieldDescriptor::CPPTYPE_DOUBLE:
		return rep ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f);
	case FieldDescriptor::CPPTYPE_FLOAT:
		return rep ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f);
	case FieldDescriptor::CPPTYPE_BOOL:
		return rep ? r.GetRepeatedBool(m, &f, index) : r.GetBool(m, &f);
	case FieldDescriptor::CPPTYPE_ENUM:
		return (rep ? r.GetRepeatedEnum(m, &f, index) : r.GetEnum(m, &f))->name();
	case FieldDescriptor::CPPTYPE_STRING: {
		std::string s = rep ? r.GetRepeatedString(m, &f, index) : r.GetString(m, &f);
		if (f.type() == FieldDescriptor::TYPE_BYTES)
			return base64_encode(s);
		return s;
	}
	case FieldDescriptor::CPPTYPE_MESSAGE:
		return write_message(rep ? r.GetRepeatedMessage(m, &f, index) : r.GetMessage(m, &f));
	}
	return nullptr;
}

json write_message(const Message &m) {
	const auto *d = m.GetDescriptor();
	const Reflection *r = m.GetReflection();
	json object = json::object();
	for (int i = 0; i < d->field_count(); ++i) {
		const FieldDescriptor &f = *d->field(i);
		if (f.is_repeated()) {
			int n = r->FieldSize(m, &f);
			if (n == 0)
				continue;
			json array = json::array();
			for (int k = 0; k < n; ++k)
				array.push_back(write_value(m, *r, f, k));
			object[f.name()] = std::move(array);
		} else if (r->HasField(m, &f) || (f.has_default_value() && !f.options().deprecated())) {
			object[f.name()] = write_value(m, *r, f, -1);
		}
	}
	return object;
}
} // namespace

std::string to_json(const Message &message) {
	// ensure_ascii: some Mesos clients read the stream as ASCII.
	return write_message(message).dump(-1, ' ', true, json::error_handler_t::replace);
}

} // namespace turquoise::mesos
