// eddy/core/retry_policy.hpp - eddy::retry_policy, the one retry configuration of eddy
// (stream retry, bus subscriptions, saga steps), and eddy::retry_state, one run of it.
#pragma once

#include <chrono>     // std::chrono::steady_clock
#include <cmath>      // std::pow, std::isnan
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint32_t
#include <exception>  // std::exception_ptr, std::rethrow_exception
#include <functional> // std::function
#include <limits>     // std::numeric_limits
#include <optional>   // std::optional
#include <random>     // std::minstd_rand, std::random_device

#include <eddy/core/error.hpp>

namespace eddy {

/// When and how often a failed operation is tried again: exponential backoff with optional
/// jitter, bounded by a number of attempts and/or a time budget, skipping errors marked
/// non-retryable. The only retry configuration type in eddy: `eddy::retry` (streams), bus
/// subscriptions and saga steps all take one. An aggregate: set what differs from the defaults
/// with designated initializers.
///
/// Schedule: attempt 1 runs at once; the wait before attempt `k >= 2` is
/// `min(initial_interval * multiplier^(k-2), max_interval)` (1s, 2s, 4s, ... capped, with the
/// defaults' multiplier of 2), then jittered: with `jitter = j` it is drawn uniformly from
/// `[d * (1 - j), d * (1 + j))` and capped at `max_interval` again (so at the cap the waits lie
/// in `[max_interval * (1 - j), max_interval]`); truncated to the clock's tick. `jitter = 0`
/// (the default) makes the schedule exact; production code that retries against a shared
/// service should set some (e.g. 0.2) so that clients failing together do not retry together.
/// Limits: `max_attempts` counts every attempt including the first (`1` = never retry;
/// `retry_policy::unlimited` = no limit). `max_elapsed` (zero = no limit) is a budget measured
/// from the start of the first attempt: attempt `k` happens only if it would start within it
/// (elapsed time at the failure + the wait <= max_elapsed), so nobody waits for an attempt
/// that is not going to be made.
/// Errors: `eddy::operation_cancelled` is never retried (cancellation is not a failure); an
/// exception for which `non_retryable` returns true passes through at once, without waiting.
/// Randomness: none global. Each run (`eddy::retry_state`) owns a `std::minstd_rand`, seeded
/// with `seed` when set (reproducible jitter: tests) or else from `std::random_device`, only
/// when a jittered wait is first needed.
/// Preconditions: `validate()` throws `eddy::error` naming the bad field; every user of a
/// policy (`eddy::retry`, the bus, sagas) calls it eagerly, where the policy is handed over.
/// Thread-safety: a const policy may be read from many threads (`non_retryable` is called
/// concurrently then, so it must be safe for that).
///
///     eddy::retry_policy p{.initial_interval = std::chrono::seconds(1),
///                          .max_interval = std::chrono::seconds(30),
///                          .max_attempts = 6,
///                          .non_retryable = eddy::retry_policy::error_types<bad_request>()};
///     p.delay_before(4, 0.0); // 4s
struct retry_policy {
    using duration = std::chrono::steady_clock::duration;
    /// The type of `non_retryable`: true for an error that must not be retried.
    using predicate = std::function<bool(const std::exception_ptr&)>;

    /// `max_attempts` without a limit.
    static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

    duration initial_interval = std::chrono::milliseconds(100); ///< wait before attempt 2
    double multiplier = 2.0;                                    ///< growth per attempt, >= 1
    duration max_interval = std::chrono::seconds(30);           ///< cap of every wait
    std::size_t max_attempts = 5;                               ///< attempts in all, >= 1
    duration max_elapsed = duration::zero();                    ///< time budget; zero = none
    double jitter = 0.0;                                        ///< spread of a wait, in [0, 1]
    predicate non_retryable{};                                  ///< empty: every error retries
    std::optional<std::uint32_t> seed{};                        ///< jitter's seed; empty: random

    /// Throws `eddy::error` with a message naming the field when the policy is unusable:
    /// a negative interval or budget, `max_interval < initial_interval`, `multiplier < 1`
    /// (or NaN), `jitter` outside [0, 1] (or NaN), `max_attempts == 0`.
    void validate() const {
        if (initial_interval < duration::zero()) {
            throw error("eddy::retry_policy: initial_interval must not be negative");
        }
        if (max_interval < initial_interval) {
            throw error("eddy::retry_policy: max_interval must not be less than initial_interval");
        }
        if (std::isnan(multiplier) || multiplier < 1.0) {
            throw error("eddy::retry_policy: multiplier must be at least 1 (a growing backoff)");
        }
        if (std::isnan(jitter) || jitter < 0.0 || jitter > 1.0) {
            throw error("eddy::retry_policy: jitter must lie in [0, 1]");
        }
        if (max_attempts == 0) {
            throw error("eddy::retry_policy: max_attempts must be at least 1 (it counts the "
                        "first attempt; use retry_policy::unlimited for no limit)");
        }
        if (max_elapsed < duration::zero()) {
            throw error("eddy::retry_policy: max_elapsed must not be negative (zero = no limit)");
        }
    }

    /// The wait before attempt `attempt` (2 for the first retry; zero for attempt 1), given
    /// `random`, a number in [0, 1) that places it in the jitter range (ignored when
    /// `jitter == 0`). A pure function: with `random = 0.5` the wait is the unjittered one.
    /// Precondition: a valid policy (see `validate`).
    [[nodiscard]] duration delay_before(std::size_t attempt, double random) const {
        if (attempt < 2 || initial_interval == duration::zero()) {
            return duration::zero();
        }
        const double cap = static_cast<double>(max_interval.count());
        // In double: the exponent may be large (unlimited attempts) and overflow to inf, which
        // the cap absorbs; powers of two stay exact, so the unjittered schedule is exact.
        double d = static_cast<double>(initial_interval.count()) *
                   std::pow(multiplier, static_cast<double>(attempt - 2));
        if (!(d < cap)) {
            d = cap;
        }
        if (jitter > 0.0) {
            d *= 1.0 - jitter + 2.0 * jitter * random;
        }
        if (!(d < cap)) {
            return max_interval; // exact, and no overflow converting a huge cap back
        }
        return duration(static_cast<duration::rep>(d));
    }

    /// True unless `e` is an `eddy::operation_cancelled` or `non_retryable(e)` is true.
    /// Precondition: `e` holds an exception. An exception of `non_retryable` propagates.
    [[nodiscard]] bool is_retryable(const std::exception_ptr& e) const {
        try {
            std::rethrow_exception(e);
        } catch (const operation_cancelled&) {
            return false;
        } catch (...) {
        }
        return !(non_retryable && non_retryable(e));
    }

    /// The decision every user of the policy makes after attempt `attempt` failed with `e`,
    /// `elapsed` after the first attempt started: whether attempt `attempt + 1` happens after
    /// a wait of `delay` (its `delay_before`). True when `e` is retryable, `attempt + 1 <=
    /// max_attempts`, and `max_elapsed` is zero or `elapsed + delay <= max_elapsed`.
    [[nodiscard]] bool should_retry(std::size_t attempt, duration elapsed, duration delay,
                                    const std::exception_ptr& e) const {
        if (attempt >= max_attempts) {
            return false;
        }
        // Written so that nothing overflows for huge budgets: elapsed, delay >= 0.
        if (max_elapsed > duration::zero() &&
            (elapsed > max_elapsed || delay > max_elapsed - elapsed)) {
            return false;
        }
        return is_retryable(e);
    }

    /// A `non_retryable` predicate that is true for exceptions of type `E...` (or derived).
    ///
    ///     .non_retryable = eddy::retry_policy::error_types<std::invalid_argument>()
    template <class... E>
    [[nodiscard]] static predicate error_types() {
        return [](const std::exception_ptr& e) { return matches<E...>(e); };
    }

private:
    template <class First, class... Rest>
    static bool matches(const std::exception_ptr& e) {
        try {
            std::rethrow_exception(e);
        } catch (const First&) {
            return true;
        } catch (...) {
        }
        if constexpr (sizeof...(Rest) == 0) {
            return false;
        } else {
            return matches<Rest...>(e);
        }
    }
};

/// One run of a `retry_policy` over one operation: counts the attempts and owns the jitter's
/// random engine. The caller measures time (on its scheduler's clock, from the start of the
/// first attempt) and waits; this only decides.
///
/// Eager, synchronous, cheap to create (the engine is seeded only when a jittered wait is
/// first computed). Lifetime: holds no reference to the policy; pass the same policy to every
/// call. Thread-safety: none (one operation, one owner).
///
///     eddy::retry_state state;
///     for (;;) {
///         try { co_return co_await attempt(); } catch (...) { error = std::current_exception(); }
///         auto wait = state.on_failure(policy, clock.now() - start, error);
///         if (!wait) std::rethrow_exception(error);
///         co_await sched.schedule_after(*wait);
///     }
class retry_state {
public:
    using duration = retry_policy::duration;

    /// The number of the attempt in progress (1 for the first).
    [[nodiscard]] std::size_t attempt() const noexcept { return m_attempt; }

    /// After the attempt in progress failed with `e`, `elapsed` after the first one started:
    /// the wait before the next attempt (and counts it as in progress), or empty to give up
    /// and pass `e` on (see `retry_policy::should_retry`).
    [[nodiscard]] std::optional<duration> on_failure(const retry_policy& policy, duration elapsed,
                                                     const std::exception_ptr& e) {
        const duration delay = policy.delay_before(m_attempt + 1, random(policy));
        if (!policy.should_retry(m_attempt, elapsed, delay, e)) {
            return std::nullopt;
        }
        ++m_attempt;
        return delay;
    }

private:
    // A number in [0, 1) from the run's own engine (0.5, the middle, without jitter).
    double random(const retry_policy& policy) {
        if (policy.jitter == 0.0) {
            return 0.5;
        }
        if (!m_rng) {
            m_rng.emplace(policy.seed ? *policy.seed : std::random_device{}());
        }
        const auto range = static_cast<double>(std::minstd_rand::max() - std::minstd_rand::min());
        return static_cast<double>((*m_rng)() - std::minstd_rand::min()) / (range + 1.0);
    }

    std::size_t m_attempt = 1;
    std::optional<std::minstd_rand> m_rng;
};

} // namespace eddy
