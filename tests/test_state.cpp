// Register state across preemptions: integer, double/SSE, x87 and AVX computations preempted
// thousands of times (20 us budgets) must give bit-identical results to the same computation
// run directly; errno and the floating-point environment of the function and of the caller
// are each preserved.
#include <catch2/catch.hpp>

#include "helpers.hpp"

#include <libinger.h>

#include <immintrin.h>

#include <atomic>
#include <cerrno>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace {

constexpr int chunk_iters = 256;

struct state {
	std::uint64_t i[8];
	double d[8];
	alignas(32) double v[8]; // 4 x __m128d, or 2 x __m256d
	long double x;
};

void init(state &s) {
	for (int k = 0; k < 8; ++k) {
		s.i[k] = 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(k + 1);
		s.d[k] = 1.0 + k * 0.25;
		s.v[k] = 0.5 + k * 0.125;
	}
	s.x = 3.0L;
}

inline std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// One chunk of mixed integer / scalar double / SSE / x87 work. Everything lives in locals (so
// in registers) for the whole loop: a preemption in the middle must preserve all of them.
__attribute__((noinline, noclone)) void chunk(state &s) {
	std::uint64_t a = s.i[0], b = s.i[1], c = s.i[2], d = s.i[3];
	std::uint64_t e = s.i[4], f = s.i[5], g = s.i[6], h = s.i[7];
	double x0 = s.d[0], x1 = s.d[1], x2 = s.d[2], x3 = s.d[3];
	double x4 = s.d[4], x5 = s.d[5], x6 = s.d[6], x7 = s.d[7];
	__m128d v0 = _mm_load_pd(&s.v[0]), v1 = _mm_load_pd(&s.v[2]);
	__m128d v2 = _mm_load_pd(&s.v[4]), v3 = _mm_load_pd(&s.v[6]);
	const __m128d damp = _mm_set_pd(0.999999, 0.9999993);
	const __m128d tiny = _mm_set_pd(1e-7, 3e-7);
	long double x = s.x;
	for (int it = 0; it < chunk_iters; ++it) {
		a = a * 6364136223846793005ull + 1442695040888963407ull;
		b ^= a >> 17;
		c += b * 3 + (a >> 41);
		d = rotl(d ^ c, 13);
		e += d >> 3;
		f ^= e * 0x2545f4914f6cdd1dull;
		g += f ^ (g >> 7);
		h = h * 31 + g;

		x0 = x0 * 0.999999 + 1e-3 * static_cast<double>(a & 0xff);
		x1 = std::sqrt(x1 + x0);
		x2 = x2 * 0.9999997 + x1 * 1e-4;
		x3 = x3 * 0.5 + x2 / (1.0 + x1);
		x4 = x4 * 0.99 + static_cast<double>(h & 0xfff) * 1e-5;
		x5 = std::sqrt(x5 * x5 * 0.5 + x4 + 1.0);
		x6 = x6 * 0.999 + x5 * x3 * 1e-3;
		x7 = x7 * 0.9 + x6 - x0 * 0.01;

		v0 = _mm_add_pd(_mm_mul_pd(v0, damp), _mm_mul_pd(v1, tiny));
		v1 = _mm_sqrt_pd(_mm_add_pd(_mm_mul_pd(v1, damp), _mm_set1_pd(x1 * 1e-3)));
		v2 = _mm_add_pd(_mm_mul_pd(v2, damp), _mm_div_pd(v0, _mm_add_pd(v1, _mm_set1_pd(1.0))));
		v3 = _mm_sub_pd(_mm_mul_pd(v3, damp), _mm_mul_pd(v2, tiny));

		x = x * 0.9999999L + static_cast<long double>(h & 0xffff) * 1e-6L + static_cast<long double>(x7) * 1e-9L;
	}
	s.i[0] = a, s.i[1] = b, s.i[2] = c, s.i[3] = d;
	s.i[4] = e, s.i[5] = f, s.i[6] = g, s.i[7] = h;
	s.d[0] = x0, s.d[1] = x1, s.d[2] = x2, s.d[3] = x3;
	s.d[4] = x4, s.d[5] = x5, s.d[6] = x6, s.d[7] = x7;
	_mm_store_pd(&s.v[0], v0), _mm_store_pd(&s.v[2], v1);
	_mm_store_pd(&s.v[4], v2), _mm_store_pd(&s.v[6], v3);
	s.x = x;
}

// The same with 256-bit AVX registers (upper halves of ymm must survive too).
__attribute__((noinline, noclone, target("avx2"))) void chunk_avx(state &s) {
	__m256d v0 = _mm256_load_pd(&s.v[0]), v1 = _mm256_load_pd(&s.v[4]);
	__m256d w0 = _mm256_set_pd(s.d[0], s.d[1], s.d[2], s.d[3]);
	__m256d w1 = _mm256_set_pd(s.d[4], s.d[5], s.d[6], s.d[7]);
	const __m256d damp = _mm256_set_pd(0.999999, 0.9999993, 0.9999995, 0.9999997);
	const __m256d tiny = _mm256_set_pd(1e-7, 3e-7, 5e-7, 7e-7);
	const __m256d one = _mm256_set1_pd(1.0);
	for (int it = 0; it < chunk_iters; ++it) {
		v0 = _mm256_add_pd(_mm256_mul_pd(v0, damp), _mm256_mul_pd(v1, tiny));
		v1 = _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(v1, damp), tiny));
		w0 = _mm256_add_pd(_mm256_mul_pd(w0, damp), _mm256_div_pd(v0, _mm256_add_pd(v1, one)));
		w1 = _mm256_sub_pd(_mm256_mul_pd(w1, damp), _mm256_mul_pd(w0, tiny));
		v0 = _mm256_permute4x64_pd(v0, 0x39);
		w1 = _mm256_permute4x64_pd(w1, 0x93);
	}
	_mm256_store_pd(&s.v[0], v0), _mm256_store_pd(&s.v[4], v1);
	alignas(32) double t[4];
	_mm256_store_pd(t, w0);
	s.d[0] = t[0], s.d[1] = t[1], s.d[2] = t[2], s.d[3] = t[3];
	_mm256_store_pd(t, w1);
	s.d[4] = t[0], s.d[5] = t[1], s.d[6] = t[2], s.d[7] = t[3];
}

bool same(const state &a, const state &b) {
	return std::memcmp(a.i, b.i, sizeof a.i) == 0 && std::memcmp(a.d, b.d, sizeof a.d) == 0 &&
	       std::memcmp(a.v, b.v, sizeof a.v) == 0 && a.x == b.x;
}

struct job {
	void (*step)(state &) = chunk;
	state s{};
	std::atomic<bool> enough{false}; // set by the caller once it has seen enough preemptions
	double give_up_at = 0;            // wall-time bound, so a lost preemption fails, not hangs
	bool gave_up = false;
	long chunks = 0;
	// errno checks inside the function
	bool check_errno = false;
	long errno_mismatches = 0;
	// floating-point environment checks inside the function
	bool check_fenv = false;
	long fenv_mismatches = 0;
};

void body(void *p) {
	auto *j = static_cast<job *>(p);
	if (j->check_fenv)
		std::fesetround(FE_UPWARD);
	while (!j->enough.load(std::memory_order_relaxed)) {
		int mine = 5000 + static_cast<int>(j->chunks % 1000);
		if (j->check_errno)
			errno = mine;
		j->step(j->s);
		j->chunks++;
		if (j->check_errno && errno != mine)
			j->errno_mismatches++;
		if (j->check_fenv && std::fegetround() != FE_UPWARD)
			j->fenv_mismatches++;
		if ((j->chunks & 63) == 0 && th::now_us() > j->give_up_at) {
			j->gave_up = true;
			break;
		}
	}
	if (j->check_fenv)
		std::fesetround(FE_TONEAREST);
}

struct drive_result {
	long resumes = 0;
	long caller_errno_mismatches = 0;
	long caller_fenv_mismatches = 0;
	int error = 0;
	bool complete = false;
};

// Launch j with budget_us, then resume it with the same budget until `target` resumes have
// happened (or time runs out), then let it finish. Between resumes the caller changes its own
// errno and checks that the function's run left it untouched.
drive_result drive(job &j, std::uint64_t budget_us, long target, double time_limit_us) {
	drive_result r;
	double start = th::now_us();
	double give_up = start + time_limit_us;
	// The function itself stops 5 s after the caller's limit: if preemption never comes back
	// to the caller, the test fails instead of hanging.
	j.give_up_at = give_up + 5e6;
	errno = 17;
	linger_t l = launch(body, budget_us, &j);
	if (errno != 17)
		r.caller_errno_mismatches++;
	if (std::fegetround() != FE_TONEAREST)
		r.caller_fenv_mismatches++;
	while (l.error == LINGER_OK && !l.is_complete) {
		if (r.resumes >= target || th::now_us() > give_up)
			j.enough = true;
		int mine = 100 + static_cast<int>(r.resumes % 50);
		errno = mine;
		resume(&l, budget_us);
		if (errno != mine)
			r.caller_errno_mismatches++;
		if (std::fegetround() != FE_TONEAREST)
			r.caller_fenv_mismatches++;
		r.resumes++;
		if (th::now_us() > give_up + 5e6)
			break; // runaway: the function never gets to see `enough`
	}
	r.error = l.error;
	r.complete = l.is_complete;
	if (!l.is_complete && l.error == LINGER_OK)
		cancel(&l);
	return r;
}

const double time_limit = 4e6 * th::slack;

} // namespace

TEST_CASE("integer, double, SSE and x87 state survive thousands of preemptions", "[state]") {
	auto before = th::stats();
	job j;
	init(j.s);
	drive_result r = drive(j, 20, 3000, time_limit);
	auto d = th::diff(before, th::stats());

	INFO("resumes " << r.resumes << ", preemptions " << d.preemptions << ", deferrals " << d.deferrals << ", chunks " << j.chunks);
	REQUIRE(r.error == LINGER_OK);
	REQUIRE_FALSE(j.gave_up); // else preemption stopped working: the function ran on and on
	REQUIRE(r.complete);
	CHECK(d.preemptions >= 1000);
	CHECK(d.live == 0);
	REQUIRE(j.chunks > 0);

	state direct;
	init(direct);
	for (long k = 0; k < j.chunks; ++k)
		chunk(direct);
	CHECK(same(direct, j.s));
	CHECK(direct.i[7] == j.s.i[7]);
	CHECK(direct.d[7] == j.s.d[7]);
	CHECK(direct.v[7] == j.s.v[7]);
}

TEST_CASE("AVX (ymm) state survives thousands of preemptions", "[state][avx]") {
	if (!__builtin_cpu_supports("avx2")) {
		WARN("CPU without AVX2: skipped");
		return;
	}
	auto before = th::stats();
	job j;
	j.step = chunk_avx;
	init(j.s);
	drive_result r = drive(j, 20, 3000, time_limit);
	auto d = th::diff(before, th::stats());
	INFO("resumes " << r.resumes << ", preemptions " << d.preemptions << ", deferrals " << d.deferrals << ", chunks " << j.chunks);
	REQUIRE(r.error == LINGER_OK);
	REQUIRE_FALSE(j.gave_up); // else preemption stopped working: the function ran on and on
	REQUIRE(r.complete);
	CHECK(d.preemptions >= 1000);

	state direct;
	init(direct);
	for (long k = 0; k < j.chunks; ++k)
		chunk_avx(direct);
	CHECK(same(direct, j.s));
}

TEST_CASE("errno of the function and of the caller are separate across preemptions", "[state][errno]") {
	auto before = th::stats();
	job j;
	j.check_errno = true;
	init(j.s);
	drive_result r = drive(j, 20, 2000, time_limit);
	auto d = th::diff(before, th::stats());
	INFO("resumes " << r.resumes << ", preemptions " << d.preemptions);
	REQUIRE(r.error == LINGER_OK);
	REQUIRE_FALSE(j.gave_up); // else preemption stopped working: the function ran on and on
	REQUIRE(r.complete);
	CHECK(d.preemptions >= 500);
	// errno set inside the function survives its preemptions even though the caller keeps
	// changing its own errno in between...
	CHECK(j.errno_mismatches == 0);
	// ...and the caller's errno is untouched by the function's runs.
	CHECK(r.caller_errno_mismatches == 0);
}

namespace {
struct sys_errno {
	int seen_after_spin = 0;
	bool done = false;
};
void errno_from_syscall(void *p) {
	auto *s = static_cast<sys_errno *>(p);
	errno = 0;
	(void)close(-1); // EBADF
	// Spin until preempted twice (not for a fixed time: on a loaded machine a timed spin can
	// end within one quantum).
	std::uint64_t start = th::stats().preemptions;
	while (th::stats().preemptions < start + 2) {
	}
	s->seen_after_spin = errno;
	s->done = true;
}
} // namespace

TEST_CASE("errno from a failed system call inside the function survives preemption", "[state][errno]") {
	auto before = th::stats();
	sys_errno s;
	errno = ENOENT;
	linger_t l = launch(errno_from_syscall, 500, &s);
	CHECK(errno == ENOENT);
	while (l.error == LINGER_OK && !l.is_complete) {
		errno = EAGAIN;
		resume(&l, 500);
		CHECK(errno == EAGAIN);
	}
	REQUIRE(l.is_complete);
	CHECK(th::diff(before, th::stats()).preemptions >= 2);
	CHECK(s.seen_after_spin == EBADF);
}

TEST_CASE("the rounding mode of the function and of the caller are separate", "[state][fenv]") {
	REQUIRE(std::fegetround() == FE_TONEAREST);
	auto before = th::stats();
	job j;
	j.check_fenv = true;
	init(j.s);
	drive_result r = drive(j, 20, 1000, time_limit);
	auto d = th::diff(before, th::stats());
	INFO("resumes " << r.resumes << ", preemptions " << d.preemptions);
	REQUIRE(r.error == LINGER_OK);
	REQUIRE_FALSE(j.gave_up); // else preemption stopped working: the function ran on and on
	REQUIRE(r.complete);
	CHECK(d.preemptions >= 200);
	CHECK(j.fenv_mismatches == 0);
	CHECK(r.caller_fenv_mismatches == 0);
	CHECK(std::fegetround() == FE_TONEAREST);
	std::fesetround(FE_TONEAREST);
}

namespace {
struct fenv_pause {
	int inside_after_pause = -1;
};
void round_and_pause(void *p) {
	auto *f = static_cast<fenv_pause *>(p);
	std::fesetround(FE_DOWNWARD);
	linger_pause();
	f->inside_after_pause = std::fegetround();
	std::fesetround(FE_TONEAREST);
}
} // namespace

TEST_CASE("linger_pause preserves the rounding mode on both sides (callee-saved per the ABI)", "[state][fenv]") {
	REQUIRE(std::fegetround() == FE_TONEAREST);
	fenv_pause f;
	linger_t l = launch(round_and_pause, LINGER_UNLIMITED, &f);
	REQUIRE_FALSE(l.is_complete);
	CHECK(std::fegetround() == FE_TONEAREST);
	std::fesetround(FE_UPWARD);
	resume(&l, LINGER_UNLIMITED);
	int caller_after = std::fegetround();
	std::fesetround(FE_TONEAREST);
	REQUIRE(l.is_complete);
	CHECK(caller_after == FE_UPWARD);
	CHECK(f.inside_after_pause == FE_DOWNWARD);
}
