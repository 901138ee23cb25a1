// endpoint.cpp — URLs of the Mesos HTTP APIs, redirects, answers to calls, uuids.
#include "endpoint.hpp"

#include <random>

namespace turquoise::mesos::detail {

Try<http::URL> api_url(std::string_view base, std::string_view api_path) {
	std::string text(base);
	if (text.find("://") == std::string::npos)
		text = "http://" + text;
	Try<http::URL> url = http::URL::parse(text);
	if (url.isError())
		return Error("bad master address '" + std::string(base) + "': " + url.error());
	http::URL u = url.get();
	std::string prefix = u.path;
	while (!prefix.empty() && prefix.back() == '/')
		prefix.pop_back();
	u.path = prefix + std::string(api_path);
	return u;
}

Try<http::URL> resolve_location(const http::URL &current, std::string_view location) {
	if (location.empty())
		return Error("redirect without a Location");
	if (location.substr(0, 2) == "//")
		return http::URL::parse("http:" + std::string(location));
	if (location.front() == '/') {
		http::URL u = current;
		u.path = std::string(location);
		return u;
	}
	return http::URL::parse(location);
}

std::string base_of(const http::URL &url) {
	return url.scheme + "://" + url.host + ":" + std::to_string(url.port);
}

std::string describe_answer(const http::Response &r) {
	std::string s = std::to_string(r.status) + " " + std::string(http::reason_phrase(r.status));
	if (!r.body.empty())
		s += ": " + r.body.substr(0, 512);
	while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
		s.pop_back();
	return s;
}

http::ClientRequest make_post(const http::URL &url, ContentType type, std::string body) {
	http::ClientRequest r;
	r.method = "POST";
	r.url = url;
	r.headers.push_back({"Content-Type", std::string(media_type(type))});
	r.headers.push_back({"Accept", std::string(media_type(type))});
	r.body = std::move(body);
	return r;
}

std::string random_uuid() {
	thread_local std::mt19937_64 rng{std::random_device{}()};
	std::string bytes(16, '\0');
	for (int half = 0; half < 2; ++half) {
		std::uint64_t x = rng();
		for (int i = 0; i < 8; ++i)
			bytes[half * 8 + i] = static_cast<char>(x >> (8 * i));
	}
	bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40); // version 4
	bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80); // RFC 4122 variant
	return bytes;
}

} // namespace turquoise::mesos::detail
