// mapped_memory.hpp — a read-only memory map of a whole file (mmap / CreateFileMappingW +
// MapViewOfFile), and the paging hints that keep the resident set bounded on 40 GB inputs.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

namespace qfp8::platform {

struct FileMapping {
  enum class Failure { none, open, stat, directory, not_regular, map };
  Failure failure = Failure::none;  // which step failed, for the message
  std::error_code error;            // its system error (open, stat, map)
  const uint8_t* data = nullptr;    // null for an empty file
  uint64_t size = 0;                // 64 bits on every system: inputs pass 4 GiB
};

/// Maps `path` (UTF-8) read-only and hints sequential access. Never throws.
FileMapping map_file_read_only(const std::string& path);
/// Unmaps what map_file_read_only returned (data may be null).
void unmap_file(const uint8_t* data, uint64_t size) noexcept;

/// The page size (the unit of the hints below).
uint64_t page_size();
/// Asks the system to read [data, data+length) ahead. A hint: failures are ignored.
void prefetch_pages(const uint8_t* data, uint64_t length) noexcept;
/// Drops the pages of [data, data+length) from the resident set; the data stays cached.
/// A hint: a system without it keeps them (Windows trims a view's pages on its own).
void release_pages(const uint8_t* data, uint64_t length) noexcept;

}  // namespace qfp8::platform
