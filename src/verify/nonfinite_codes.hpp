// nonfinite_codes.hpp — the rule that no FP8 tensor holds a code that is not finite
// (docs/format.md#verification): the count of one tensor's Inf/NaN codes, and the rule's
// findings over a whole file. verify --against counts each layer's weight while it re-derives
// it, so the file-wide scan takes those counts instead of reading the weights a second time.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "safetensors/reader.hpp"
#include "verify/findings.hpp"

namespace qfp8::verify {

/// The non-finite codes of one FP8 tensor: how many, and the first element that holds one.
struct NonfiniteCount {
  uint64_t count = 0;
  uint64_t first = std::numeric_limits<uint64_t>::max();

  void note(uint64_t index) {
    if (count++ == 0) first = index;
  }
  /// Adds a later chunk's count (chunks are merged in index order).
  void merge(const NonfiniteCount& later) {
    if (count == 0 && later.count != 0) first = later.first;
    count += later.count;
  }
};

/// Counts already taken, by tensor name.
using NonfiniteCounts = std::map<std::string, NonfiniteCount>;

/// True for the dtypes that have non-finite codes: F8_E4M3 (0x7F/0xFF), F8_E5M2
/// (0x7C-0x7F/0xFC-0xFF), F8_E8M0 (0xFF).
bool has_nonfinite_codes(Dtype dtype);

/// Counts the non-finite codes of `tensor` (a dtype has_nonfinite_codes accepts) on up to
/// `threads` threads. Touches the tensor's mapped pages; prefetching and releasing them is the
/// caller's.
NonfiniteCount count_nonfinite_codes(const SafetensorsFile& file, const TensorInfo& tensor,
                                     unsigned threads);

/// NanCode findings for every FP8 tensor of `file` except `skip_name`: one ERR per tensor with
/// non-finite codes (count and first element), else one OK. A tensor in `counted` is reported
/// from its count; every other one is read (and its pages released afterwards).
void check_nan_codes(const SafetensorsFile& file, const std::string& skip_name, unsigned threads,
                     FindingList& findings, const NonfiniteCounts& counted = {});

}  // namespace qfp8::verify
