// ping_process.cpp — inger-ping's process (ping_process.hpp): one ping in flight at a time,
// a timer per ping, link() to the peer so that its death ends the run at once.
#include "ping_process.hpp"

#include <turquoise/process/dispatch.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace remote_tools {

using namespace turquoise;

PingProcess::PingProcess(PingOptions options)
    : ProcessBase(ID::generate("ping")), options_(std::move(options)) {
	result_.round_trips.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(options_.count, 1u << 20)));
}

void PingProcess::initialize() {
	install("pong", &PingProcess::pong);
	link(options_.peer);
	send_next();
}

void PingProcess::send_next() {
	++sequence_;
	// The body starts with the ping's number (as far as it fits), so that a late or stray
	// pong is told from the awaited one; the rest is filler.
	body_.assign(static_cast<std::size_t>(options_.size), '.');
	const std::string number = std::to_string(sequence_) + ':';
	std::copy_n(number.begin(), std::min(number.size(), body_.size()), body_.begin());
	sent_at_ = std::chrono::steady_clock::now();
	send(options_.peer, "ping", body_);
	timer_ = delay(options_.timeout, self(), &PingProcess::expire, sequence_);
}

void PingProcess::pong(const UPID &from, std::string &&body) {
	if (finished_)
		return;
	const auto rtt = std::chrono::steady_clock::now() - sent_at_;
	if (body != body_) {
		finish(PingOutcome::bad_body, "pong " + std::to_string(sequence_) + " from " + from.str() +
		                                  " carries a body of " + std::to_string(body.size()) +
		                                  " bytes that differs from its ping's (" +
		                                  std::to_string(body_.size()) + " bytes)");
		return;
	}
	if (timer_.isSome())
		Clock::cancel(timer_.get());
	result_.round_trips.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(rtt));
	if (result_.round_trips.size() == options_.count)
		finish(PingOutcome::ok, "");
	else
		send_next();
}

void PingProcess::expire(std::uint64_t sequence) {
	if (!finished_ && sequence == sequence_)
		finish(PingOutcome::timeout, "timeout: no pong for ping " + std::to_string(sequence) + " from " +
		                                 options_.peer.str() + " within " +
		                                 std::to_string(options_.timeout.count()) + " ms");
}

void PingProcess::exited(const UPID &pid) {
	if (!finished_)
		finish(PingOutcome::peer_gone, "the peer went away: " + pid.str() +
		                                   " exited (its connection closed or reset, or the "
		                                   "process terminated) while ping " +
		                                   std::to_string(sequence_) + " was in flight");
}

void PingProcess::finish(PingOutcome outcome, std::string why) {
	finished_ = true;
	if (timer_.isSome())
		Clock::cancel(timer_.get());
	result_.outcome = outcome;
	result_.why = std::move(why);
	promise_.set(std::move(result_));
}

} // namespace remote_tools
