// turquoise/mesos/recordio.hpp — RecordIO, the framing of Mesos's event streams:
// each record is "<decimal byte length>\n<record bytes>".
//
//   std::string wire = recordio::encode(event_json);
//   recordio::Decoder d;                          // max_record: 64 MiB
//   Try<std::vector<std::string>> records = d.decode(chunk);   // feed bytes as they arrive
//
// The decoder is incremental: a record (or its length line) may be split across any number of
// chunks, and one chunk may hold many records. Bad input is an error, after which the decoder
// stays failed (the stream cannot be resynchronised): a length that is not decimal digits, has
// more than 20 digits or exceeds max_record, or an empty length line. A length of 0 is an
// empty record. Memory held is bounded by max_record plus the current chunk.
#ifndef TURQUOISE_MESOS_RECORDIO_HPP
#define TURQUOISE_MESOS_RECORDIO_HPP

#include <turquoise/async/try.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace turquoise::mesos::recordio {

std::string encode(std::string_view record);

class Decoder {
public:
	explicit Decoder(std::size_t max_record = 64 * 1024 * 1024) : max_record_(max_record) {}

	// The records completed by `data`, in order; an error (this call's and every later one's)
	// once the stream is malformed.
	Try<std::vector<std::string>> decode(std::string_view data);

	bool failed() const noexcept { return error_.has_value(); }
	// Bytes of an incomplete record (or length line) held, waiting for more input.
	std::size_t buffered() const noexcept { return length_line_.size() + record_.size(); }

private:
	std::size_t max_record_;
	std::string length_line_;           // digits of the length read so far
	std::optional<std::size_t> length_; // set while reading a record's bytes
	std::string record_;
	std::optional<std::string> error_;
};

} // namespace turquoise::mesos::recordio

#endif
