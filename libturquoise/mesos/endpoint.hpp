// endpoint.hpp — URLs of the Mesos HTTP APIs, redirects, answers to calls, uuids (internal).
#ifndef TURQUOISE_MESOS_ENDPOINT_HPP
#define TURQUOISE_MESOS_ENDPOINT_HPP

#include <turquoise/async/try.hpp>
#include <turquoise/http/client.hpp>
#include <turquoise/mesos/codec.hpp>

#include <string>
#include <string_view>

namespace turquoise::mesos::detail {

// "host:port", "http://host:port[/prefix]" -> http://host:port/prefix + api_path.
Try<http::URL> api_url(std::string_view base, std::string_view api_path);

// The URL a 307's Location names: absolute ("http://h:p/path"), scheme-relative
// ("//h:p/path", as a Mesos master sends it) or a path on the current host.
Try<http::URL> resolve_location(const http::URL &current, std::string_view location);

// "http://host:port".
std::string base_of(const http::URL &url);

// "<status> <reason>: <body>" (body cut to 512 bytes) for a call's unexpected answer.
std::string describe_answer(const http::Response &r);

// A POST of `body` in `type` (Content-Type and Accept).
http::ClientRequest make_post(const http::URL &url, ContentType type, std::string body);

// 16 random bytes (a version 4 UUID), as Mesos's status update uuids.
std::string random_uuid();

} // namespace turquoise::mesos::detail

#endif
