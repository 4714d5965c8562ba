// findings.cpp — counting and looking up findings.
#include "verify/findings.hpp"

#include <algorithm>

namespace qfp8::verify {

const char* severity_name(Severity severity) noexcept {
  switch (severity) {
    case Severity::Ok:
      return "OK";
    case Severity::Warn:
      return "WARN";
    case Severity::Err:
      return "ERR";
  }
  return "ERR";
}

std::size_t VerifyResult::count(Severity severity) const {
  return static_cast<std::size_t>(
      std::count_if(findings.begin(), findings.end(),
                    [severity](const Finding& f) { return f.severity == severity; }));
}

std::vector<const Finding*> VerifyResult::with_id(const std::string& id) const {
  std::vector<const Finding*> out;
  for (const auto& finding : findings) {
    if (finding.id == id) out.push_back(&finding);
  }
  return out;
}

void FindingList::ok(std::string id, std::string subject, std::string message) {
  findings_.push_back({std::move(id), Severity::Ok, std::move(subject), std::move(message)});
}

void FindingList::warn(std::string id, std::string subject, std::string message) {
  findings_.push_back({std::move(id), Severity::Warn, std::move(subject), std::move(message)});
}

void FindingList::err(std::string id, std::string subject, std::string message) {
  findings_.push_back({std::move(id), Severity::Err, std::move(subject), std::move(message)});
}

std::size_t FindingList::error_count() const {
  return static_cast<std::size_t>(
      std::count_if(findings_.begin(), findings_.end(),
                    [](const Finding& f) { return f.severity == Severity::Err; }));
}

}  // namespace qfp8::verify
