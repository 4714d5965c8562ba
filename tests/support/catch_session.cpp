// catch_session.cpp — Catch2's implementation (its session, reporters, matchers), once for
// every test executable (catch_session.hpp).
#define CATCH_CONFIG_RUNNER
#include "support/catch_session.hpp"

#include <catch2/catch.hpp>

namespace qfp8::test {

int run_catch_session(int argc, char** argv) { return Catch::Session().run(argc, argv); }

}  // namespace qfp8::test
