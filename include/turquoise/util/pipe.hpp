// turquoise/util/pipe.hpp — Pipe: an in-memory asynchronous byte stream with one reading
// and one writing end (libprocess's http::Pipe).
//
//   Pipe pipe;
//   Pipe::Reader r = pipe.reader();
//   Pipe::Writer w = pipe.writer();
//   w.write("abc"); w.close();
//   r.read()  -> "abc";  r.read() -> ""  (end of stream)
//
// Reader::read(): the next chunk written (chunks are not merged or split); "" once the writer
//   closed and every chunk was read; a failure with the writer's message once it failed (after
//   the chunks written before); a failure "closed" after Reader::close(). Several read()s may
//   wait; they are served in order. Discarding a waiting read() withdraws it (its future
//   becomes discarded; no data is lost to it).
// Reader::readAll(): everything until the end of the stream (or the failure).
// Reader::close(): throws away buffered data, fails waiting reads with "closed", and makes
//   further writes return false; readerClosed() futures become ready. False if already closed.
// Writer::write(s): false (nothing written) once either end is closed or the writer failed;
//   writing "" does nothing (returns true when writing is still possible).
// Writer::close() / fail(message): end the stream; false if it had already ended.
// Writer::readerClosed(): ready once the reader closed its end (abandoned if it never does and
//   every copy is gone).
//
// Reader and Writer are copyable handles on the shared pipe. Thread-safe, usable from pool
// tasks; futures are completed outside the pipe's lock (their callbacks may use the pipe).
#ifndef TURQUOISE_UTIL_PIPE_HPP
#define TURQUOISE_UTIL_PIPE_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>

#include <memory>
#include <string>

namespace turquoise {

class Pipe {
public:
	struct data; // internal
	class Reader {
	public:
		Future<std::string> read();
		Future<std::string> readAll();
		bool close();

	private:
		friend class Pipe;
		explicit Reader(std::shared_ptr<data> d) : data_(std::move(d)) {}
		std::shared_ptr<data> data_;
	};

	class Writer {
	public:
		bool write(std::string s);
		bool close();
		bool fail(const std::string &message);
		Future<Nothing> readerClosed() const;

	private:
		friend class Pipe;
		explicit Writer(std::shared_ptr<data> d) : data_(std::move(d)) {}
		std::shared_ptr<data> data_;
	};

	Pipe();
	Reader reader() const { return Reader(data_); }
	Writer writer() const { return Writer(data_); }

private:
	std::shared_ptr<data> data_;
};

} // namespace turquoise

#endif
