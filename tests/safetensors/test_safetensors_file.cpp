// test_safetensors_file.cpp — MappedFile and SafetensorsFile on real files: open errors
// name the path and the system's reason, an empty file is HeaderTooSmall, a mapping moves.
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "core/error.hpp"
#include "safetensors/mapped_file.hpp"
#include "safetensors/reader.hpp"
#include "support/safetensors_bytes.hpp"

namespace {

// The error `open` throws, or FAIL.
template <typename Open>
qfp8::Error error_of(Open open) {
  try {
    open();
  } catch (const qfp8::Error& error) {
    return error;
  }
  FAIL("no error");
  throw;  // unreachable: FAIL throws
}

std::string code_name(const qfp8::Error& error) { return qfp8::error_code_name(error.code()); }

}  // namespace

TEST_CASE("opening a missing file or a directory is OpenFailed", "[safetensors]") {
  const std::string missing = qfp8::test::temp_path("does_not_exist.safetensors");
  qfp8::test::remove_path(missing);
  const auto absent = error_of([&] { qfp8::SafetensorsFile file(missing); });
  CHECK(code_name(absent) == "OpenFailed");
  CHECK(absent.detail() == "cannot open '" + missing + "': No such file or directory");
  CHECK(absent.file() == missing);

  const std::string directory = qfp8::test::temp_path("");
  const auto is_dir = error_of([&] { qfp8::MappedFile file(directory); });
  CHECK(code_name(is_dir) == "OpenFailed");
  CHECK(is_dir.detail() == "cannot open '" + directory + "': Is a directory");
}

TEST_CASE("an empty file is HeaderTooSmall, not a mapping error", "[safetensors]") {
  const std::string path = qfp8::test::temp_path("empty.safetensors");
  qfp8::test::write_file(path, {});
  const qfp8::MappedFile mapped(path);
  CHECK(mapped.size() == 0);
  CHECK(mapped.data() == nullptr);
  mapped.prefetch(0, 10);  // harmless on nothing
  mapped.release(0, 10);
  const auto error = error_of([&] { qfp8::SafetensorsFile file(path); });
  CHECK(code_name(error) == "HeaderTooSmall");
  CHECK(error.file() == path);
  qfp8::test::remove_path(path);
}

TEST_CASE("a mapping moves, and released pages read back unchanged", "[safetensors]") {
  const std::string path = qfp8::test::temp_path("pages.bin");
  qfp8::test::Bytes content(3 * 4096 + 100);
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<uint8_t>(i % 251);
  qfp8::test::write_file(path, content);

  qfp8::MappedFile first(path);
  qfp8::MappedFile second(std::move(first));
  CHECK(first.data() == nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  REQUIRE(second.size() == content.size());
  second.prefetch(100, 5000);
  second.release(10, 9000);                 // only whole pages inside the range
  second.release(4096, content.size());     // through the end of the file
  CHECK(qfp8::test::Bytes(second.data(), second.data() + second.size()) == content);

  qfp8::MappedFile third(path);
  third = std::move(second);
  CHECK(third.size() == content.size());
  CHECK(third.data()[12345] == content[12345]);
  qfp8::test::remove_path(path);
}
