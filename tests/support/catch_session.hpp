// catch_session.hpp — runs the Catch2 session of a test executable. Catch's implementation
// is compiled once (catch_session.cpp, about 20 s of compile time per copy) and linked into
// every test executable, whose main file calls this.
#pragma once

namespace qfp8::test {

/// Catch::Session().run(argc, argv): the number of failed test cases.
int run_catch_session(int argc, char** argv);

}  // namespace qfp8::test
