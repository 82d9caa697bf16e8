// Tests of eddy::detail::timer_heap and work_queue: random push/erase/pop sequences checked
// against a std::multiset model ordered by (deadline, arming order), FIFO among equal
// deadlines, re-arming, erasing what is not armed; the intrusive FIFO work queue.
#include <eddy/core/detail/timer_heap.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;
using eddy::detail::timer_heap;
using eddy::detail::timer_node;
using eddy::detail::work_node;
using eddy::detail::work_queue;

namespace {

using time_point = std::chrono::steady_clock::time_point;
constexpr time_point epoch{};

// The model: armed timers ordered by deadline, then by the order they were armed in.
struct entry {
    time_point deadline;
    std::uint64_t armed_as;
    timer_node* node;

    bool operator<(const entry& other) const {
        return std::tie(deadline, armed_as) < std::tie(other.deadline, other.armed_as);
    }
};

// Runs `operations` random operations on a heap and on the model, checking after each that they
// agree on size and top. Deadlines come from a small range so that many are equal.
void run_random_sequence(std::uint32_t seed, int operations, int deadline_range) {
    constexpr std::size_t node_count = 48;
    std::array<timer_node, node_count> nodes{};
    std::array<std::optional<std::multiset<entry>::iterator>, node_count> in_model{};
    std::multiset<entry> model;
    timer_heap heap;
    std::uint64_t armed = 0;
    std::mt19937 random(seed);
    std::uniform_int_distribution<std::size_t> pick(0, node_count - 1);
    std::uniform_int_distribution<int> deadline(0, deadline_range - 1);
    std::uniform_int_distribution<int> operation(0, 9);

    for (int step = 0; step < operations; ++step) {
        const int op = operation(random);
        const std::size_t i = pick(random);
        timer_node& node = nodes[i];
        if (op < 5) { // push, if this node is not armed
            if (in_model[i]) {
                continue;
            }
            node.m_deadline = epoch + std::chrono::milliseconds(deadline(random));
            heap.push(node);
            in_model[i] = model.insert({node.m_deadline, armed++, &node});
            REQUIRE(node.m_index != timer_node::not_armed);
        } else if (op < 7) { // erase any node, armed or not
            const bool was_armed = in_model[i].has_value();
            REQUIRE(heap.erase(node) == was_armed);
            if (was_armed) {
                model.erase(*in_model[i]);
                in_model[i].reset();
            }
            REQUIRE(node.m_index == timer_node::not_armed);
        } else if (!model.empty()) { // pop the earliest
            timer_node& popped = heap.pop();
            const entry expected = *model.begin();
            REQUIRE(&popped == expected.node);
            REQUIRE(popped.m_index == timer_node::not_armed);
            model.erase(model.begin());
            in_model[static_cast<std::size_t>(&popped - nodes.data())].reset();
        }

        REQUIRE(heap.size() == model.size());
        REQUIRE(heap.empty() == model.empty());
        if (!model.empty()) {
            REQUIRE(&heap.top() == model.begin()->node);
        }
    }

    // Draining yields the model's order exactly.
    while (!model.empty()) {
        REQUIRE(&heap.pop() == model.begin()->node);
        model.erase(model.begin());
    }
    REQUIRE(heap.empty());
}

} // namespace

TEST_CASE("timer_heap agrees with a std::multiset model on random sequences",
          "[core][timer_heap]") {
    const std::uint32_t seed = GENERATE(1u, 2u, 3u, 42u, 2024u);
    SECTION("many equal deadlines") { run_random_sequence(seed, 3000, 4); }
    SECTION("mostly distinct deadlines") { run_random_sequence(seed, 3000, 1000); }
}

TEST_CASE("timer_heap: equal deadlines pop in arming order", "[core][timer_heap]") {
    std::array<timer_node, 6> nodes{};
    timer_heap heap;
    for (timer_node& n : nodes) {
        n.m_deadline = epoch + 5s;
        heap.push(n);
    }
    // Erasing from the middle keeps the order of the others.
    REQUIRE(heap.erase(nodes[2]));
    REQUIRE(heap.erase(nodes[4]));
    std::vector<timer_node*> order;
    while (!heap.empty()) {
        order.push_back(&heap.pop());
    }
    REQUIRE(order == std::vector<timer_node*>{&nodes[0], &nodes[1], &nodes[3], &nodes[5]});
}

TEST_CASE("timer_heap: a re-armed timer goes behind others with the same deadline",
          "[core][timer_heap]") {
    std::array<timer_node, 3> nodes{};
    timer_heap heap;
    for (timer_node& n : nodes) {
        n.m_deadline = epoch + 1s;
        heap.push(n);
    }
    timer_node& first = heap.pop();
    REQUIRE(&first == &nodes[0]);
    heap.push(first); // armed again, later than the others
    REQUIRE(&heap.pop() == &nodes[1]);
    REQUIRE(&heap.pop() == &nodes[2]);
    REQUIRE(&heap.pop() == &nodes[0]);
    REQUIRE(heap.empty());
}

TEST_CASE("timer_heap: an earlier deadline armed later comes first", "[core][timer_heap]") {
    std::array<timer_node, 4> nodes{};
    const std::array<time_point, 4> deadlines{epoch + 4s, epoch + 3s, epoch + 1s, epoch + 2s};
    timer_heap heap;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        nodes[i].m_deadline = deadlines[i];
        heap.push(nodes[i]);
    }
    REQUIRE(&heap.top() == &nodes[2]);
    REQUIRE(heap.erase(nodes[2])); // erasing the top exposes the next
    REQUIRE(&heap.top() == &nodes[3]);
    REQUIRE_FALSE(heap.erase(nodes[2])); // no longer armed
    REQUIRE(heap.size() == 3);
}

TEST_CASE("work_queue is FIFO and reusable", "[core][timer_heap]") {
    std::array<work_node, 5> nodes{};
    work_queue queue;
    REQUIRE(queue.empty());
    for (work_node& n : nodes) {
        queue.push(n);
    }
    REQUIRE(&queue.pop() == &nodes[0]);
    REQUIRE(&queue.pop() == &nodes[1]);
    queue.push(nodes[0]); // a popped node can be queued again, at the back
    for (std::size_t i : {2u, 3u, 4u}) {
        REQUIRE(&queue.pop() == &nodes[i]);
    }
    REQUIRE(&queue.pop() == &nodes[0]);
    REQUIRE(queue.empty());
    queue.push(nodes[1]);
    REQUIRE_FALSE(queue.empty());
    REQUIRE(&queue.pop() == &nodes[1]);
    REQUIRE(queue.empty());
}
