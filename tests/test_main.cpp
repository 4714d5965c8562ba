// test_main.cpp — main of the unit and end-to-end tests.
#include "support/catch_session.hpp"

int main(int argc, char** argv) { return qfp8::test::run_catch_session(argc, argv); }
