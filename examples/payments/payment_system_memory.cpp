// examples/payments/payment_system_memory.cpp - the payment system in memory.
#include "payments.hpp"
#include "system.hpp"

namespace payments {

report run_memory(run_options options) {
    eddy::thread_pool pool(2);
    return run_on(memory_backend(pool), pool, std::move(options), make_memory_bus{});
}

} // namespace payments
