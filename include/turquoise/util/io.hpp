// turquoise/util/io.hpp — asynchronous reads and writes of file descriptors (pipes, sockets)
// driven by a pool's reactor; no worker ever blocks.
//
//   Future<std::string> all = io::read(fd);          // everything until EOF
//   Future<Nothing> done = io::write(fd, "bytes");    // everything written
//
// Both work on a private duplicate of fd (F_DUPFD_CLOEXEC), so the caller may close fd at any
// time; they set O_NONBLOCK, which is shared with fd's open file description. Discarding the
// future stops the operation (the future becomes discarded; data read so far is dropped).
// read() fails with the errno message on a read error; write() fails on a write error (e.g.
// EPIPE once the reader is gone; on a socket SIGPIPE is suppressed (MSG_NOSIGNAL), on a pipe
// it is raised as for any write unless the process ignores SIGPIPE).
//
// The reactor: the pool given as `p`, else the current runtime's (runtime.hpp). A pool used
// this way must outlive the operations: when it shuts down, pending operations are abandoned.
#ifndef TURQUOISE_UTIL_IO_HPP
#define TURQUOISE_UTIL_IO_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/nothing.hpp>
#include <turquoise/pool.hpp>

#include <string>

namespace turquoise::io {

// The reactor io and subprocess use: p, else the current runtime's pool.
pool &reactor(pool *p = nullptr);

Future<std::string> read(int fd, pool *p = nullptr);
Future<Nothing> write(int fd, std::string data, pool *p = nullptr);

} // namespace turquoise::io

#endif
