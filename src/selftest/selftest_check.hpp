// selftest_check.hpp — one result of `qfp8-cuda selftest` as data: the checks produce
// them, selftest/backend_checks.hpp's Tally prints them.
#pragma once

#include <string>
#include <vector>

namespace qfp8::selftest {

struct SelftestCheck {
  std::string name;  // "cast sweep", ...
  bool passed = true;
  bool informational = false;        // reported, never fails the selftest
  std::string summary;               // one line
  std::vector<std::string> details;  // first mismatches
};

}  // namespace qfp8::selftest
