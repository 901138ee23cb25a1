// Routes (issue 10 item 6): route("/path", handler) on a process serves /<id>/path on the
// runtime's port, with Future<Response> handlers run in the process's context; the metrics
// pages as such routes (/metrics/snapshot, as libprocess serves them).
#include "remote_helpers.hpp"

#include <turquoise/http/client.hpp>
#include <turquoise/metrics/endpoint.hpp>
#include <turquoise/metrics/metrics.hpp>
#include <turquoise/process/dispatch.hpp>

using namespace turquoise;
using namespace remote_test;

namespace {

class site : public Process<site> {
public:
	site() : ProcessBase("site") {}
	Promise<http::Response> later;
	std::atomic<int> handled{0};

protected:
	void initialize() override {
		route("/hello", [this](const http::Request &r) -> Future<http::Response> {
			++handled; // in the process's context: no race with other handlers
			auto who = r.find_query("who");
			return http::OK("hello " + std::string(who ? *who : "you") + "\n");
		});
		route("/later", None(), [this](const http::Request &) { return later.future(); });
		route("/a", None(), &site::a);
		route("/a/b", None(), &site::ab);
	}

private:
	Future<http::Response> a(const http::Request &r) { return http::OK("a " + r.path); }
	Future<http::Response> ab(const http::Request &r) { return http::OK("ab " + r.method + " " + r.body); }
};

std::string base(const UPID &pid) { return "http://" + pid.address.str() + "/" + pid.id; }

http::Response fetch(Future<http::Response> f) {
	REQUIRE(f.await(10s));
	REQUIRE(f.isReady());
	return f.get();
}

} // namespace

TEST_CASE("route() serves /<id>/path: exact, longest prefix, pending futures, 404s") {
	runtime_scope scope(listening());
	site s;
	UPID pid = spawn(s);
	CHECK(fetch(http::get(base(pid) + "/hello?who=me")).body == "hello me\n");
	CHECK(fetch(http::get(base(pid) + "/a/x/y")).body == "a /site/a/x/y");
	// A POST without libprocess's headers is a plain request for a route, not a message.
	CHECK(fetch(http::post(base(pid) + "/a/b", "data")).body == "ab POST data");
	Future<http::Response> pending = http::get(base(pid) + "/later");
	CHECK_FALSE(pending.await(200ms));
	dispatch(pid, [&] { s.later.set(http::OK("done")); });
	CHECK(fetch(pending).body == "done");
	CHECK(fetch(http::get(base(pid) + "/nope")).status == 404);
	CHECK(fetch(http::get("http://" + pid.address.str() + "/nobody/hello")).status == 404);
	CHECK(fetch(http::get("http://" + pid.address.str() + "/")).status == 404);
	CHECK(s.handled.load() == 1);
	CHECK(runtime::current().network().route_requests >= 6);
	terminate(s);
	wait(s);
}

TEST_CASE("the metrics pages as routes of a metrics process: /metrics/snapshot on the runtime's port") {
	runtime_scope scope(listening());
	UPID m = metrics::spawn_process();
	REQUIRE(m);
	inbox box("box", {});
	spawn(box);
	post(box.self(), box.self(), "unhandled-name", std::string()); // counted
	REQUIRE(eventually([] { return ProcessManager::stats().unhandled >= 1; }));
	auto r = fetch(http::get("http://" + m.address.str() + "/metrics/snapshot"));
	CHECK(r.status == 200);
	CHECK(r.find_header("Content-Type") == std::optional<std::string_view>("application/json"));
	CHECK(r.body.find("\"processes/unhandled_messages\":") != std::string::npos);
	CHECK(r.body.find("\"remote/sent\":") != std::string::npos);
	r = fetch(http::get("http://" + m.address.str() + "/metrics/prometheus"));
	CHECK(r.status == 200);
	CHECK(r.body.find("remote_dropped") != std::string::npos);
	terminate(box);
	wait(box);
	terminate(m);
	wait(m);
	CHECK(metrics::values().count("remote/sent") == 0); // removed with the process
}
