// Tests of eddy::saga (the definition): step indexing in depth-first order, and the checks a
// definition makes: unique step names, one pivot, none inside parallel, a non-empty name.
#include <eddy/saga/saga.hpp>

#include <catch2/catch.hpp>

#include <eddy/saga/branch.hpp>
#include <eddy/saga/parallel.hpp>
#include <eddy/saga/sequence.hpp>
#include <eddy/saga/step.hpp>

namespace {

struct ctx {
    bool flag = false;
};

eddy::task<void> act(ctx&) { co_return; }

eddy::step<ctx> s(const char* name) { return eddy::step(name, act); }

} // namespace

TEST_CASE("steps are indexed depth-first, each once", "[saga][saga]") {
    const eddy::saga<ctx> def(
        "order", eddy::sequence(s("a"), eddy::parallel(s("b"), eddy::sequence(s("c"), s("d"))),
                                eddy::branch([](const ctx& c) { return c.flag; }, s("e"), s("f"))));
    CHECK(def.name() == "order");
    REQUIRE(def.step_count() == 6);
    const char* names[] = {"a", "b", "c", "d", "e", "f"};
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(def.step_name(i) == names[i]);
        CHECK(def.step_index(names[i]) == i);
    }
    CHECK_THROWS_WITH(def.step_index("z"), Catch::Contains("no step named 'z'"));
}

TEST_CASE("a bad definition is an eddy::error naming the problem", "[saga][saga]") {
    CHECK_THROWS_WITH(eddy::saga<ctx>("", eddy::sequence(s("a"))),
                      Catch::Contains("non-empty name"));
    CHECK_THROWS_WITH(eddy::saga<ctx>("o", eddy::sequence(s("a"), eddy::parallel(s("b"), s("a")))),
                      Catch::Contains("two steps are named 'a'"));
    CHECK_THROWS_WITH(eddy::saga<ctx>("o", eddy::parallel(s("a"), s("b").pivot())),
                      Catch::Contains("pivot step 'b' is inside eddy::parallel"));
    CHECK_THROWS_WITH(eddy::saga<ctx>("o", eddy::sequence(s("a").pivot(), s("b").pivot())),
                      Catch::Contains("more than one pivot step ('b')"));
    CHECK_THROWS_WITH(eddy::branch(std::function<bool(const ctx&)>{}, s("a")),
                      Catch::Contains("predicate is empty"));
}

TEST_CASE("copies of a definition are equal, separately built ones are not", "[saga][saga]") {
    const eddy::saga<ctx> a("o", eddy::sequence(s("a")));
    const auto copy = a;
    const eddy::saga<ctx> b("o", eddy::sequence(s("a")));
    CHECK(a == copy);
    CHECK_FALSE(a == b);
}
