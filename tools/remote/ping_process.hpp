// ping_process.hpp — inger-ping's process: pings a peer one message at a time, times each
// round trip, and ends with a PingResult (every pong, a timeout, the peer's exit, a bad body).
#ifndef INGER_TOOLS_REMOTE_PING_PROCESS_HPP
#define INGER_TOOLS_REMOTE_PING_PROCESS_HPP

#include <turquoise/async/future.hpp>
#include <turquoise/async/clock.hpp>
#include <turquoise/process/process.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace remote_tools {

struct PingOptions {
	turquoise::UPID peer;
	std::uint64_t count = 10;
	std::uint64_t size = 64;
	std::chrono::milliseconds timeout{5000};
};

// The values are inger-ping's exit statuses.
enum class PingOutcome { ok = 0, timeout = 3, peer_gone = 4, bad_body = 5 };

struct PingResult {
	PingOutcome outcome = PingOutcome::ok;
	std::string why; // for a failure: what happened, one line
	std::vector<std::chrono::nanoseconds> round_trips; // one per pong, in order
};

class PingProcess : public turquoise::Process<PingProcess> {
public:
	explicit PingProcess(PingOptions options);
	// Ready when every pong arrived or at the first failure.
	turquoise::Future<PingResult> result() const { return promise_.future(); }

protected:
	void initialize() override;
	void exited(const turquoise::UPID &pid) override;

private:
	void pong(const turquoise::UPID &from, std::string &&body);
	void send_next();
	void expire(std::uint64_t sequence);
	void finish(PingOutcome outcome, std::string why);

	PingOptions options_;
	turquoise::Promise<PingResult> promise_;
	PingResult result_;
	bool finished_ = false;
	std::uint64_t sequence_ = 0; // of the ping in flight (1-based)
	std::string body_;           // of the ping in flight
	std::chrono::steady_clock::time_point sent_at_;
	turquoise::Option<turquoise::Timer> timer_;
};

} // namespace remote_tools

#endif
