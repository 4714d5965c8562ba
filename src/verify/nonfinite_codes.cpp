// nonfinite_codes.cpp — the non-finite code scan. Each dtype's predicate is a type, so the
// byte loop compiles to compares the vector unit counts (a table lookup per byte, as a
// predicate behind a pointer needs, runs at a tenth of the speed).
#include "verify/nonfinite_codes.hpp"

#include "core/fp8_e4m3fn.hpp"
#include "core/fp8_e5m2.hpp"
#include "verify/chunked_scan.hpp"

namespace qfp8::verify {
namespace {

// E8M0 has no sign and no zero: 2^(code - 127) for codes 0..254, and 0xFF is its one NaN
// (OCP Microscaling Formats v1.0).
constexpr uint8_t kE8M0NanCode = 0xFF;

struct E4m3fnNonfinite {  // 0x7F / 0xFF, the only NaN codes of E4M3FN: magnitude bits all ones
  static bool test(uint8_t code) { return e4m3fn_is_nan(code); }
  static constexpr const char* kWhat = "NaN code(s) (0x7F/0xFF)";
};
struct E5m2Nonfinite {
  static bool test(uint8_t code) { return e5m2_is_nonfinite(code); }
  static constexpr const char* kWhat = "Inf/NaN code(s) (0x7C-0x7F/0xFC-0xFF)";
};
struct E8m0Nonfinite {
  static bool test(uint8_t code) { return code == kE8M0NanCode; }
  static constexpr const char* kWhat = "NaN code(s) (0xFF)";
};

/// Calls visit(Predicate{}) with the predicate type of `dtype` (has_nonfinite_codes).
template <typename Visit>
auto visit_nonfinite(Dtype dtype, Visit visit) {
  switch (dtype) {
    case Dtype::F8_E5M2:
      return visit(E5m2Nonfinite{});
    case Dtype::F8_E8M0:
      return visit(E8m0Nonfinite{});
    default:
      return visit(E4m3fnNonfinite{});
  }
}

template <typename Predicate>
NonfiniteCount count_codes(const uint8_t* codes, uint64_t numel, unsigned threads) {
  const auto partials =
      scan_chunks<NonfiniteCount>(numel, threads, [codes](uint64_t begin, uint64_t end) {
        NonfiniteCount part;
        // A chunk (kScanChunk elements) fits the 32-bit count the vector loop keeps.
        uint32_t count = 0;
        for (uint64_t i = begin; i < end; ++i) count += Predicate::test(codes[i]) ? 1u : 0u;
        part.count = count;
        if (count != 0) {  // the first index is looked for only in a chunk that has one
          part.first = begin;
          while (!Predicate::test(codes[part.first])) ++part.first;
        }
        return part;
      });
  NonfiniteCount total;
  for (const auto& part : partials) total.merge(part);
  return total;
}

}  // namespace

bool has_nonfinite_codes(Dtype dtype) {
  return dtype == Dtype::F8_E4M3 || dtype == Dtype::F8_E5M2 || dtype == Dtype::F8_E8M0;
}

NonfiniteCount count_nonfinite_codes(const SafetensorsFile& file, const TensorInfo& tensor,
                                     unsigned threads) {
  const uint8_t* codes = file.bytes(tensor).data;
  return visit_nonfinite(tensor.dtype, [&](auto predicate) {
    return count_codes<decltype(predicate)>(codes, tensor.byte_size(), threads);
  });
}

void check_nan_codes(const SafetensorsFile& file, const std::string& skip_name, unsigned threads,
                     FindingList& findings, const NonfiniteCounts& counted) {
  std::size_t scanned = 0;
  uint64_t bytes = 0;
  std::size_t bad = 0;
  for (const auto& tensor : file.header().tensors) {
    if (!has_nonfinite_codes(tensor.dtype) || tensor.name == skip_name) continue;
    NonfiniteCount nan;
    if (const auto known = counted.find(tensor.name); known != counted.end()) {
      nan = known->second;
    } else {
      file.prefetch(tensor);
      nan = count_nonfinite_codes(file, tensor, threads);
      file.release(tensor);
    }
    ++scanned;
    bytes += tensor.byte_size();
    if (nan.count == 0) continue;
    ++bad;
    const char* what = visit_nonfinite(tensor.dtype, [](auto predicate) {
      return decltype(predicate)::kWhat;
    });
    findings.err(FindingId::NanCode, tensor.name,
                 std::to_string(nan.count) + " " + what + ", first at element " +
                     std::to_string(nan.first));
  }
  if (bad == 0) {
    findings.ok(FindingId::NanCode, "",
                "no NaN codes in " + std::to_string(scanned) + " FP8 tensor(s) (" +
                    std::to_string(bytes) + " bytes scanned)");
  }
}

}  // namespace qfp8::verify
