// record_stream.cpp — feeding a streamed body's RecordIO records to a sink (record_stream.hpp).
#include "record_stream.hpp"

#include <turquoise/mesos/recordio.hpp>

#include <memory>

namespace turquoise::mesos::detail {

namespace {
struct stream {
	Pipe::Reader reader;
	recordio::Decoder decoder;
	record_sink sink;
};

void pump(const std::shared_ptr<stream> &s, Future<std::string> chunk) {
	for (;;) {
		if (chunk.isPending()) {
			// onAny runs at once if the chunk arrived meanwhile: one level of recursion, no more.
			chunk.onAny([s](const Future<std::string> &f) { pump(s, f); });
			chunk.onAbandoned([s] { s->sink.end("stream failed: abandoned"); });
			return;
		}
		if (!chunk.isReady()) {
			s->sink.end(chunk.isFailed() ? "stream failed: " + chunk.failure() : "stream failed: discarded");
			return;
		}
		if (chunk.get().empty()) {
			s->sink.end("stream closed");
			return;
		}
		Try<std::vector<std::string>> records = s->decoder.decode(chunk.get());
		if (records.isError()) {
			s->reader.close();
			s->sink.end(records.error());
			return;
		}
		for (auto &record : records.get()) {
			if (!s->sink.record(std::move(record))) {
				s->reader.close();
				return;
			}
		}
		chunk = s->reader.read();
	}
}
} // namespace

void read_records(Pipe::Reader reader, std::size_t max_record, record_sink sink) {
	auto s = std::make_shared<stream>(stream{reader, recordio::Decoder(max_record), std::move(sink)});
	pump(s, s->reader.read());
}

} // namespace turquoise::mesos::detail
