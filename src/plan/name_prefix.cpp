// name_prefix.cpp — strip-then-add renaming of tensor names.
#include "plan/name_prefix.hpp"

namespace qfp8 {

bool NameRewrite::strips(const std::string& name) const {
  return !strip.empty() && name.compare(0, strip.size(), strip) == 0;
}

std::string NameRewrite::rename(const std::string& name) const {
  return add + (strips(name) ? name.substr(strip.size()) : name);
}

}  // namespace qfp8
