// test_roundtrip.cpp — layout + writer -> parser gives back exactly what was
// written (names, dtypes, shapes, metadata, bytes), for every byte-sized dtype, in memory
// and through an atomic file on disk.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "safetensors/byte_sink.hpp"
#include "safetensors/header_parser.hpp"
#include "safetensors/layout.hpp"
#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"
#include "support/safetensors_bytes.hpp"

namespace {

using qfp8::Dtype;
using qfp8::PlannedTensor;

constexpr int kDtypeCount = 22;  // entries of qfp8::Dtype

// Every dtype with a byte size as a [2, 3] tensor, plus the edge shapes the format allows.
std::vector<PlannedTensor> planned_tensors() {
  std::vector<PlannedTensor> tensors;
  for (int i = 0; i < kDtypeCount; ++i) {
    const auto dtype = static_cast<Dtype>(i);
    if (qfp8::dtype_size(dtype) == 0) continue;
    tensors.push_back({"t." + std::string(qfp8::dtype_name(dtype)), dtype, {2, 3}});
  }
  tensors.push_back({"scalar", Dtype::F32, {}});        // 0-d: one element
  tensors.push_back({"empty", Dtype::U8, {0}});         // 0 elements
  tensors.push_back({"empty.2d", Dtype::BF16, {3, 0}});  // 0 elements, 2-D
  return tensors;
}

// Distinct, position-dependent bytes for each tensor, so a swapped tensor is caught.
std::vector<uint8_t> content_for(const qfp8::TensorInfo& tensor) {
  std::vector<uint8_t> bytes(tensor.byte_size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(i * 7 + tensor.name.size() * 13 + 1);
  }
  return bytes;
}

std::size_t expected_numel(const std::vector<uint64_t>& shape) {
  std::size_t n = 1;
  for (auto dim : shape) n *= dim;
  return n;
}

void write_all(const qfp8::SafetensorsLayout& layout, qfp8::ByteSink& sink) {
  qfp8::SafetensorsWriter writer(layout, sink);
  for (const auto& tensor : layout.tensors()) {
    const auto bytes = content_for(tensor);
    writer.write_tensor(tensor.name, bytes.data(), bytes.size());
  }
  CHECK(writer.next_tensor().empty());
  writer.finish();
}

void check_header(const qfp8::Header& header, const std::map<std::string, std::string>& metadata) {
  const auto planned = planned_tensors();
  REQUIRE(header.tensors.size() == planned.size());
  CHECK(header.has_metadata);
  CHECK(header.metadata == metadata);
  for (const auto& want : planned) {
    const qfp8::TensorInfo* got = header.find(want.name);
    REQUIRE(got != nullptr);
    CHECK(got->dtype == want.dtype);
    CHECK(got->shape == want.shape);
    CHECK(got->numel == expected_numel(want.shape));
    CHECK(got->byte_size() == expected_numel(want.shape) * qfp8::dtype_size(want.dtype));
  }
}

const std::map<std::string, std::string> kMetadata{
    {"format", "pt"}, {"note", "quote \" backslash \\ newline \n tab \t ü"}};

}  // namespace

TEST_CASE("round trip of every byte-sized dtype through memory", "[safetensors]") {
  const qfp8::SafetensorsLayout layout(planned_tensors(), kMetadata);
  qfp8::MemorySink sink;
  write_all(layout, sink);
  REQUIRE(sink.committed());
  REQUIRE(sink.bytes().size() == layout.file_size());

  const auto header = qfp8::parse_file_image(sink.bytes().data(), sink.bytes().size(), "mem");
  check_header(header, kMetadata);
  CHECK(header.header_size % 8 == 0);
  for (const auto& tensor : header.tensors) {
    const auto* start = sink.bytes().data() + header.data_offset() + tensor.begin;
    CHECK(std::vector<uint8_t>(start, start + tensor.byte_size()) == content_for(tensor));
  }
}

TEST_CASE("round trip through an atomic file and SafetensorsFile", "[safetensors]") {
  const std::string path = qfp8::test::temp_path("roundtrip.safetensors");
  qfp8::test::remove_path(path);
  const qfp8::SafetensorsLayout layout(planned_tensors(), kMetadata);
  {
    qfp8::AtomicFileSink sink(path);
    write_all(layout, sink);
  }
  REQUIRE_FALSE(qfp8::test::path_exists(path + ".partial"));

  const qfp8::SafetensorsFile file(path);
  CHECK(file.file_size() == layout.file_size());
  check_header(file.header(), kMetadata);
  for (const auto& tensor : file.header().tensors) {
    REQUIRE(file.find(tensor.name) == &tensor);
    const auto view = file.bytes(tensor);
    CHECK(std::vector<uint8_t>(view.data, view.data + view.size) == content_for(tensor));
    file.prefetch(tensor);
    file.release(tensor);
    // Released pages of a read-only mapping read back from the page cache unchanged.
    CHECK(std::vector<uint8_t>(view.data, view.data + view.size) == content_for(tensor));
  }
  CHECK(file.find("missing") == nullptr);
  qfp8::test::remove_path(path);
}

TEST_CASE("no metadata is written unless asked", "[safetensors]") {
  const std::vector<PlannedTensor> one{{"x", Dtype::U8, {1}}};
  const qfp8::SafetensorsLayout plain(one, {});
  const qfp8::SafetensorsLayout forced(one, {}, true);
  const std::string plain_json = plain.header_bytes().substr(8);
  const std::string forced_json = forced.header_bytes().substr(8);
  CHECK(plain_json == R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})" "   ");  // 53 + 3
  CHECK(forced_json == R"({"__metadata__":{},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})" " ");  // 71 + 1

  qfp8::MemorySink sink;
  qfp8::SafetensorsWriter writer(forced, sink);
  const uint8_t byte = 9;
  writer.write_tensor("x", &byte, 1);
  writer.finish();
  const auto header = qfp8::parse_file_image(sink.bytes().data(), sink.bytes().size(), "mem");
  CHECK(header.has_metadata);
  CHECK(header.metadata.empty());
}
