// record_stream.hpp — reading a streamed HTTP body of RecordIO records (internal): the
// SUBSCRIBE streams of the scheduler and executor drivers.
#ifndef TURQUOISE_MESOS_RECORD_STREAM_HPP
#define TURQUOISE_MESOS_RECORD_STREAM_HPP

#include <turquoise/util/pipe.hpp>

#include <cstddef>
#include <functional>
#include <string>

namespace turquoise::mesos::detail {

struct record_sink {
	// One complete record; false: stop reading (the reader is then closed, end() not called).
	std::function<bool(std::string)> record;
	// The stream ended: "stream closed", "stream failed: ...", "malformed RecordIO: ...".
	std::function<void(std::string)> end;
};

// Reads `reader` chunk by chunk (records may span chunks, chunks may hold many records) and
// feeds the sink until the end. Returns at once; a loop, not a recursion, over chunks that are
// already there.
void read_records(Pipe::Reader reader, std::size_t max_record, record_sink sink);

} // namespace turquoise::mesos::detail

#endif
