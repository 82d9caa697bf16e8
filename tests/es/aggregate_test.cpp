// Tests of eddy::aggregate: raise applies and records, version and mark_committed, replay and
// from_history, raise of a whole variant, an apply that throws records nothing, the compile-time
// check that every event type has an apply overload.
#include <eddy/es/aggregate.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

struct deposited {
    static constexpr std::string_view event_name = "deposited";
    long amount = 0;
    friend bool operator==(const deposited&, const deposited&) = default;
};
struct withdrawn {
    static constexpr std::string_view event_name = "withdrawn";
    long amount = 0;
    friend bool operator==(const withdrawn&, const withdrawn&) = default;
};
using account_events = std::variant<deposited, withdrawn>;

struct account : eddy::aggregate<account, account_events> {
    long balance = 0;
    int applied = 0;

    void deposit(long n) { raise(deposited{n}); }
    void withdraw(long n) {
        if (n > balance) {
            throw std::runtime_error("insufficient funds");
        }
        raise(withdrawn{n});
    }
    void raise_any(account_events e) { raise(std::move(e)); }

    void apply(const deposited& e) {
        if (e.amount < 0) {
            throw std::invalid_argument("negative deposit");
        }
        balance += e.amount;
        ++applied;
    }
    void apply(const withdrawn& e) {
        balance -= e.amount;
        ++applied;
    }
};

// Has no apply(const withdrawn&) but a catch-all template: every event type is handled.
struct lenient : eddy::aggregate<lenient, account_events> {
    int seen = 0;
    template <class E>
    void apply(const E&) {
        ++seen;
    }
};

} // namespace

TEST_CASE("aggregate: raise applies and records uncommitted events in order", "[es][aggregate]") {
    account a;
    a.set_id("acc-1");
    REQUIRE(a.id() == "acc-1");
    REQUIRE(a.version() == 0);
    a.deposit(100);
    a.withdraw(30);
    a.raise_any(deposited{5});
    REQUIRE(a.balance == 75);
    REQUIRE(a.version() == 0); // nothing committed yet
    REQUIRE(a.uncommitted() ==
            std::vector<account_events>{deposited{100}, withdrawn{30}, deposited{5}});
    a.mark_committed();
    REQUIRE(a.version() == 3);
    REQUIRE(a.uncommitted().empty());
    a.deposit(1);
    REQUIRE(a.version() == 3);
    REQUIRE(a.uncommitted().size() == 1);
}

TEST_CASE("aggregate: a command that throws, or an apply that throws, records nothing",
          "[es][aggregate]") {
    account a;
    a.deposit(10);
    REQUIRE_THROWS_AS(a.withdraw(11), std::runtime_error);
    REQUIRE_THROWS_AS(a.deposit(-1), std::invalid_argument);
    REQUIRE(a.balance == 10);
    REQUIRE(a.uncommitted().size() == 1);
}

TEST_CASE("aggregate: rebuild from history counts versions and records nothing",
          "[es][aggregate]") {
    std::vector<account_events> history{deposited{50}, withdrawn{20}, deposited{7}};
    account a = account::from_history("acc-9", history);
    REQUIRE(a.id() == "acc-9");
    REQUIRE(a.balance == 37);
    REQUIRE(a.applied == 3);
    REQUIRE(a.version() == 3);
    REQUIRE(a.uncommitted().empty());
    a.replay(withdrawn{7});
    REQUIRE(a.version() == 4);
    REQUIRE(a.balance == 30);
}

TEST_CASE("aggregate: a template apply handles every event type", "[es][aggregate]") {
    lenient l;
    l.replay(deposited{1});
    l.replay(withdrawn{1});
    REQUIRE(l.seen == 2);
    REQUIRE(l.version() == 2);
}

TEST_CASE("aggregate: copies are independent (snapshots are copies)", "[es][aggregate]") {
    account a;
    a.deposit(3);
    a.mark_committed();
    account copy = a;
    a.deposit(4);
    REQUIRE(copy.balance == 3);
    REQUIRE(copy.uncommitted().empty());
    REQUIRE(a.balance == 7);
}

TEST_CASE("aggregate: rebase starts the history at a later version", "[es][aggregate]") {
    account a;
    a.rebase(5); // versions 1..5 were deleted or truncated
    a.replay(deposited{10});
    REQUIRE(a.version() == 6);
    REQUIRE(a.balance == 10);
    a.deposit(1);
    a.mark_committed();
    REQUIRE(a.version() == 7);
}
