// turquoise/http.hpp — HTTP/1.1 on the pool: one decoder, one server, one client.
//
//   http/message.hpp  request, Response (libprocess's OK, NotFound, ...), the response writer
//   http/parser.hpp   strict incremental decoders: request_parser, response_parser (limits there)
//   http/server.hpp   Server: a handler per route returning Future<Response>, keep-alive,
//                     pipelining, limits, timeouts (see its header for each)
//   http/client.hpp   Client and http::get/post/request: Future<Response>, a connection pool
//                     per host:port, chunked and streamed bodies, timeouts
#ifndef TURQUOISE_HTTP_HPP
#define TURQUOISE_HTTP_HPP

#include <turquoise/http/client.hpp>
#include <turquoise/http/message.hpp>
#include <turquoise/http/parser.hpp>
#include <turquoise/http/server.hpp>

#endif
