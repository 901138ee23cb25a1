// recordio.cpp — RecordIO encoder and incremental decoder (recordio.hpp).
#include <turquoise/mesos/recordio.hpp>

namespace turquoise::mesos::recordio {

std::string encode(std::string_view record) {
	std::string out = std::to_string(record.size());
	out += '\n';
	out.append(record);
	return out;
}

Try<std::vector<std::string>> Decoder::decode(std::string_view data) {
	if (error_)
		return Error(*error_);
	std::vector<std::string> records;
	auto fail = [&](std::string why) -> Try<std::vector<std::string>> {
		error_ = "malformed RecordIO: " + std::move(why);
		length_line_.clear();
		record_.clear();
		return Error(*error_);
	};
	while (!data.empty()) {
		if (!length_) {
			std::size_t newline = data.find('\n');
			std::string_view digits = data.substr(0, newline);
			for (char c : digits)
				if (c < '0' || c > '9')
					return fail("record length is not a decimal number");
			if (length_line_.size() + digits.size() > 20)
				return fail("record length has too many digits");
			length_line_.append(digits);
			if (newline == std::string_view::npos)
				return records;
			data.remove_prefix(newline + 1);
			if (length_line_.empty())
				return fail("empty record length");
			// At most 20 digits: the value may still overflow 64 bits, so compare per digit.
			std::size_t n = 0;
			for (char c : length_line_) {
				auto digit = static_cast<std::size_t>(c - '0');
				if (digit > max_record_ || n > (max_record_ - digit) / 10)
					return fail("record of " + length_line_ + " bytes exceeds the limit of " +
					            std::to_string(max_record_));
				n = n * 10 + digit;
			}
			length_line_.clear();
			length_ = n;
			record_.reserve(n < 65536 ? n : 65536);
		}
		std::size_t take = std::min(*length_ - record_.size(), data.size());
		record_.append(data.substr(0, take));
		data.remove_prefix(take);
		if (record_.size() == *length_) {
			records.push_back(std::move(record_));
			record_.clear();
			length_.reset();
		}
	}
	return records;
}

} // namespace turquoise::mesos::recordio
