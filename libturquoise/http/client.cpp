// client.cpp — URLs, request serialization, Client and the free functions
// (see turquoise/http/client.hpp).
#include "client_state.hpp"
#include "socket.hpp"
#include "text.hpp"

#include <charconv>

namespace turquoise::http {
namespace {

using critical = turquoise::detail::critical;

// Header names are tokens, values hold no CR, LF or NUL: nothing a caller passes can smuggle
// a second request into the connection.
bool safe_value(std::string_view v) {
	return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

Try<std::string> serialize(const ClientRequest &r) {
	if (!detail::is_token(r.method))
		return Error("bad request: method '" + r.method + "'");
	for (char c : r.url.path)
		if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
			return Error("bad request: path with a space or control character");
	std::string out;
	out.reserve(128 + r.body.size());
	out += r.method;
	out += ' ';
	out += r.url.path.empty() ? "/" : r.url.path;
	out += " HTTP/1.1\r\nHost: ";
	out += r.url.host;
	if (r.url.port != 80) {
		out += ':';
		out += std::to_string(r.url.port);
	}
	out += "\r\n";
	for (const header &h : r.headers) {
		if (!detail::is_token(h.name) || !safe_value(h.value))
			return Error("bad request: header '" + h.name + "'");
		out += h.name;
		out += ": ";
		out += h.value;
		out += "\r\n";
	}
	bool has_body = !r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
	if (r.chunked) {
		out += "Transfer-Encoding: chunked\r\n";
	} else if (has_body) {
		out += "Content-Length: ";
		out += std::to_string(r.body.size());
		out += "\r\n";
	}
	if (!r.keep_alive)
		out += "Connection: close\r\n";
	out += "\r\n";
	if (r.chunked) {
		if (!r.body.empty())
			append_chunk(out, r.body);
		append_chunk(out, "");
	} else {
		out += r.body;
	}
	return out;
}

} // namespace

Try<URL> URL::parse(std::string_view text) {
	URL u;
	std::string_view rest = text;
	if (detail::istarts_with(rest, "http://"))
		rest.remove_prefix(7);
	else
		return Error("bad url: '" + std::string(text) + "' (only http://host[:port]/path is supported)");
	rest = rest.substr(0, rest.find('#'));
	std::size_t end = std::min(rest.find('/'), rest.find('?'));
	std::string_view authority = rest.substr(0, end);
	std::string_view path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
	std::size_t colon = authority.rfind(':');
	std::string_view host = authority.substr(0, colon);
	if (colon != std::string_view::npos) {
		std::string_view port = authority.substr(colon + 1);
		unsigned value = 0;
		auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
		if (!detail::all_digits(port) || ec != std::errc() || p != port.data() + port.size() || value > 65535)
			return Error("bad url: port in '" + std::string(text) + "'");
		u.port = static_cast<std::uint16_t>(value);
	}
	if (host.empty() || host.find_first_of(" \t\r\n@[]") != std::string_view::npos)
		return Error("bad url: host in '" + std::string(text) + "'");
	u.host = host;
	// Built a character at a time: GCC 12's -Wrestrict misfires on "/" + path at -O3.
	u.path.clear();
	if (path.empty() || path.front() == '?')
		u.path.push_back('/');
	u.path.append(path.data(), path.size());
	return u;
}

Client::Client(pool &p, client_options options) : state_(std::make_shared<state>(p, std::move(options))) {}

Client::~Client() { state_->close_idle(); }

Future<Response> Client::request(ClientRequest r) {
	std::shared_ptr<detail::client_connection> c;
	detail::exchange ex;
	{
	critical cs; // bookkeeping; the caller's callbacks (run by start()) stay preemptible
	state_->count.requests.fetch_add(1, std::memory_order_relaxed);
	Try<std::string> bytes = serialize(r);
	if (bytes.isError()) {
		state_->count.failures.fetch_add(1, std::memory_order_relaxed);
		return Failure(bytes.error());
	}
	std::string key = r.url.host + ":" + std::to_string(r.url.port);
	c = state_->take(key);
	if (c) {
		state_->count.reused.fetch_add(1, std::memory_order_relaxed);
	} else {
		std::string error;
		int err = 0;
		int fd = detail::connect_tcp(r.url.host, r.url.port, error, err);
		if (fd < 0) {
			state_->count.failures.fetch_add(1, std::memory_order_relaxed);
			return Failure(err == ECONNREFUSED ? "connection refused: " + key : error);
		}
		state_->count.opened.fetch_add(1, std::memory_order_relaxed);
		c = std::make_shared<detail::client_connection>(state_, key, fd);
	}
	ex.bytes = std::move(bytes).get();
	ex.head = r.method == "HEAD";
	ex.stream = r.stream_response;
	ex.keep_alive = r.keep_alive;
	ex.timeout = r.timeout.value_or(state_->options.timeout);
	}
	return c->start(std::move(ex));
}

Future<Response> Client::get(const std::string &url, std::vector<header> headers) {
	Try<URL> u = URL::parse(url);
	if (u.isError())
		return Failure(u.error());
	ClientRequest r;
	r.url = std::move(u).get();
	r.headers = std::move(headers);
	return request(std::move(r));
}

Future<Response> Client::post(const std::string &url, std::string body, std::string content_type,
                              std::vector<header> headers) {
	Try<URL> u = URL::parse(url);
	if (u.isError())
		return Failure(u.error());
	ClientRequest r;
	r.method = "POST";
	r.url = std::move(u).get();
	r.headers = std::move(headers);
	if (!content_type.empty())
		r.headers.push_back({"Content-Type", std::move(content_type)});
	r.body = std::move(body);
	return request(std::move(r));
}

client_stats Client::stats() const {
	client_stats s;
	s.connections_opened = state_->count.opened.load();
	s.connections_reused = state_->count.reused.load();
	s.requests = state_->count.requests.load();
	s.failures = state_->count.failures.load();
	return s;
}

std::size_t Client::idle_connections() const { return state_->idle_count(); }

namespace {
Client &process_client() {
	static Client *client = [] {
		critical cs;
		static pool *p = new pool(pool_options{.workers = 1});
		return new Client(*p);
	}();
	return *client;
}
} // namespace

Future<Response> get(const std::string &url, std::vector<header> headers) {
	return process_client().get(url, std::move(headers));
}

Future<Response> post(const std::string &url, std::string body, std::string content_type,
                      std::vector<header> headers) {
	return process_client().post(url, std::move(body), std::move(content_type), std::move(headers));
}

Future<Response> request(ClientRequest r) { return process_client().request(std::move(r)); }

} // namespace turquoise::http
