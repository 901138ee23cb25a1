// pipe.cpp — Pipe (see turquoise/util/pipe.hpp).
#include <turquoise/util/pipe.hpp>

#include <turquoise/async/loop.hpp>

#include <turquoise/guarded_lock.hpp>
#include <turquoise/util/detail/waiters.hpp>

#include <deque>
#include <mutex>
#include <utility>
#include <vector>

namespace turquoise {

struct Pipe::data {
	enum class write_end { open, closed, failed };
	std::mutex mutex;
	bool reader_closed = false;
	write_end writer = write_end::open;
	std::string failure; // when writer == failed
	std::deque<std::string> chunks;
	detail::waiters<std::string> waiters; // waiting reads (only while `chunks` is empty)
	Promise<Nothing> reader_closure;
};

Pipe::Pipe() {
	detail::critical c;
	data_ = std::make_shared<data>();
}

Future<std::string> Pipe::Reader::read() {
	detail::critical c;
	Promise<std::string> promise;
	Future<std::string> future = promise.future();
	std::uint64_t id;
	{
		guarded_lock lock(data_->mutex);
		if (data_->reader_closed)
			return Failure("closed");
		if (!data_->chunks.empty()) {
			Future<std::string> ready(std::move(data_->chunks.front()));
			data_->chunks.pop_front();
			return ready;
		}
		if (data_->writer == data::write_end::closed)
			return std::string();
		if (data_->writer == data::write_end::failed)
			return Failure(data_->failure);
		id = data_->waiters.push(std::move(promise));
	}
	detail::withdraw_on_discard(future, data_, id);
	return future;
}

Future<std::string> Pipe::Reader::readAll() {
	std::shared_ptr<std::string> acc;
	{
		detail::critical c;
		acc = std::make_shared<std::string>();
	}
	// loop(), not a recursive then(): thousands of buffered chunks must not mean thousands of
	// nested frames and associated promises.
	Reader reader = *this;
	return loop([reader]() mutable { return reader.read(); },
	            [acc](const std::string &chunk) -> ControlFlow<std::string> {
		            detail::critical c;
		            if (chunk.empty())
			            return Break(std::move(*acc));
		            acc->append(chunk);
		            return Continue();
	            });
}

bool Pipe::Reader::close() {
	std::vector<Promise<std::string>> reads;
	{
		guarded_lock lock(data_->mutex);
		if (data_->reader_closed)
			return false;
		data_->reader_closed = true;
		data_->waiters.take_all(reads);
		data_->chunks.clear();
	}
	for (auto &p : reads)
		p.fail("closed");
	data_->reader_closure.set(Nothing());
	detail::release(reads);
	return true;
}

bool Pipe::Writer::write(std::string s) {
	std::vector<Promise<std::string>> waiter, withdrawn;
	{
		guarded_lock lock(data_->mutex);
		if (data_->reader_closed || data_->writer != data::write_end::open)
			return false;
		if (s.empty())
			return true;
		if (!data_->waiters.pop(waiter, withdrawn))
			data_->chunks.push_back(std::move(s));
	}
	for (auto &p : withdrawn)
		p.discard();
	if (!waiter.empty() && !waiter.front().set(std::move(s))) {
		// Cannot happen (a popped read is completed only here); keep the data anyway.
		guarded_lock lock(data_->mutex);
		data_->chunks.push_front(std::move(s));
	}
	detail::release(waiter);
	detail::release(withdrawn);
	return true;
}

bool Pipe::Writer::close() {
	std::vector<Promise<std::string>> reads;
	{
		guarded_lock lock(data_->mutex);
		if (data_->writer != data::write_end::open)
			return false;
		data_->writer = data::write_end::closed;
		data_->waiters.take_all(reads); // waiting reads imply no buffered chunks
	}
	for (auto &p : reads)
		p.set(std::string());
	detail::release(reads);
	return true;
}

bool Pipe::Writer::fail(const std::string &message) {
	std::vector<Promise<std::string>> reads;
	{
		guarded_lock lock(data_->mutex);
		if (data_->writer != data::write_end::open)
			return false;
		data_->writer = data::write_end::failed;
		data_->failure = message;
		data_->waiters.take_all(reads);
	}
	for (auto &p : reads)
		p.fail(message);
	detail::release(reads);
	return true;
}

Future<Nothing> Pipe::Writer::readerClosed() const { return data_->reader_closure.future(); }

} // namespace turquoise
