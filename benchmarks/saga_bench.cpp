// benchmarks/saga_bench.cpp - the cost of running a 3-step saga in memory beside calling the
// same three coroutines directly in sequence.
//
// Families (the path, then the implementation last):
//   saga/success/{direct,run_saga,coordinator}
//       three steps (reserve, charge, ship), each a coroutine that adds to the context and
//       completes without suspending. `direct` awaits the three in a row (with the
//       compensations it would need written by hand, unused here); `run_saga` runs the
//       definition without a log; `coordinator` runs it through a saga_coordinator on a
//       memory_saga_log (8 entries per saga: start, 3 x started/completed, completed).
//   saga/compensated/{direct,run_saga,coordinator}
//       the third step throws eddy::business_failure; the first two are compensated in
//       reverse (the direct baseline catches and calls the two compensations).
// Everything runs on eddy::inline_scheduler through sync_wait, one saga per iteration;
// items_per_second = sagas per second. Per-step overhead = (saga - direct) / 3.

#include <benchmark/benchmark.h>

#include <cstddef> // std::size_t
#include <string>  // std::string, std::to_string

#include <eddy/core/inline_scheduler.hpp>
#include <eddy/core/sync_wait.hpp>
#include <eddy/core/task.hpp>
#include <eddy/saga/business_failure.hpp>
#include <eddy/saga/memory_saga_log.hpp>
#include <eddy/saga/run_saga.hpp>
#include <eddy/saga/saga.hpp>
#include <eddy/saga/saga_coordinator.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>

namespace {

struct order {
    long reserved = 0;
    long charged = 0;
    long shipped = 0;
    bool decline = false;
};

eddy::task<void> reserve(order& o, const eddy::step_context&) {
    ++o.reserved;
    co_return;
}
eddy::task<void> release(order& o, const eddy::step_context&) {
    --o.reserved;
    co_return;
}
eddy::task<void> charge(order& o, const eddy::step_context&) {
    o.charged += 30;
    co_return;
}
eddy::task<void> refund(order& o, const eddy::step_context&) {
    o.charged -= 30;
    co_return;
}
eddy::task<void> ship(order& o, const eddy::step_context&) {
    if (o.decline) {
        throw eddy::business_failure("declined");
    }
    ++o.shipped;
    co_return;
}

eddy::saga<order> definition() {
    return eddy::saga<order>("order", eddy::sequence(eddy::step("reserve", reserve, release),
                                                     eddy::step("charge", charge, refund),
                                                     eddy::step("ship", ship)));
}

eddy::task<order> direct(order o) {
    const eddy::step_context c{"id", "", "id/x", 1, false};
    co_await reserve(o, c);
    co_await charge(o, c);
    bool failed = false;
    try {
        co_await ship(o, c);
    } catch (const eddy::business_failure&) {
        failed = true; // no co_await inside a handler
    }
    if (failed) {
        co_await refund(o, c);
        co_await release(o, c);
    }
    co_return o;
}

void saga_direct(benchmark::State& state, bool decline) {
    long checksum = 0;
    for (auto _ : state) {
        const order o = eddy::sync_wait(direct(order{0, 0, 0, decline}));
        checksum += o.charged + o.shipped;
    }
    benchmark::DoNotOptimize(checksum);
    state.SetItemsProcessed(state.iterations());
}

void saga_run(benchmark::State& state, bool decline) {
    eddy::inline_scheduler s;
    const auto def = definition();
    long checksum = 0;
    for (auto _ : state) {
        const auto out = eddy::sync_wait(eddy::run_saga(def, "id", order{0, 0, 0, decline}, s));
        checksum += out.context.charged + out.context.shipped;
    }
    benchmark::DoNotOptimize(checksum);
    state.SetItemsProcessed(state.iterations());
}

void saga_coordinated(benchmark::State& state, bool decline) {
    eddy::inline_scheduler s;
    const auto def = definition();
    eddy::memory_saga_log<order> log;
    eddy::saga_coordinator coordinator(s, log);
    std::size_t n = 0;
    long checksum = 0;
    for (auto _ : state) {
        const auto out =
            eddy::sync_wait(coordinator.run(def, std::to_string(n++), order{0, 0, 0, decline}));
        checksum += out.context.charged + out.context.shipped;
    }
    benchmark::DoNotOptimize(checksum);
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(saga_direct, success / direct, false)->Name("saga/success/direct");
BENCHMARK_CAPTURE(saga_run, success / run_saga, false)->Name("saga/success/run_saga");
BENCHMARK_CAPTURE(saga_coordinated, success / coordinator, false)->Name("saga/success/coordinator");
BENCHMARK_CAPTURE(saga_direct, compensated / direct, true)->Name("saga/compensated/direct");
BENCHMARK_CAPTURE(saga_run, compensated / run_saga, true)->Name("saga/compensated/run_saga");
BENCHMARK_CAPTURE(saga_coordinated, compensated / coordinator, true)
    ->Name("saga/compensated/coordinator");

} // namespace
