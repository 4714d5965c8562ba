// batch_table.cpp — see the header.
#include "cli/batch_table.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/text_format.hpp"

namespace qfp8::cli {
namespace {

std::string padded(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

}  // namespace

void print_batch_table(std::ostream& out, const std::vector<BatchResult>& results) {
  std::size_t width = 5;
  // Paths and messages (which quote tensor names) are shown printable(): one row per line.
  for (const auto& result : results) {
    width = std::max(width, printable(result.item.input).size());
  }
  out << padded("input", width) << "  result  input     output    time\n";
  std::size_t failed = 0;
  for (const auto& result : results) {
    char time[32];
    std::snprintf(time, sizeof time, "%.1f s", result.seconds);
    out << padded(printable(result.item.input), width) << "  ";
    if (result.ok) {
      out << "ok      " << padded(size_text(result.summary.input_bytes), 10)
          << padded(size_text(result.summary.output_bytes), 10) << padded(time, 8) << "  -> "
          << printable(result.item.output) << "\n";
    } else {
      ++failed;
      out << "error   " << padded("-", 10) << padded("-", 10) << padded(time, 8) << "  "
          << printable(result.message) << "\n";
    }
  }
  out << results.size() - failed << " of " << results.size() << " converted, " << failed
      << " failed\n";
}

std::string shard_summary(const Shard& shard, std::size_t taken, std::size_t total) {
  return "shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) + " (from " +
         shard.source + "): " + std::to_string(taken) + " of " + std::to_string(total) +
         " inputs" + (taken == 0 ? ", nothing to convert" : "");
}

}  // namespace qfp8::cli
