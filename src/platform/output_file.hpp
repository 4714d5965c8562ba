// output_file.hpp — a file being written: created exclusively (or unnamed, where the
// system has O_TMPFILE), written at 64-bit offsets, flushed to the disk, and given its name
// only when complete by a rename that never replaces (or, with --force, that replaces
// atomically). Every path is UTF-8; no call throws.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

namespace qfp8::platform {

/// A file descriptor (POSIX) or a HANDLE (Windows).
using NativeFile = intptr_t;
inline constexpr NativeFile kNoFile = -1;

/// Creates `path` for writing; fails (file_exists) if it exists.
std::error_code create_exclusive(const std::string& path, NativeFile& file);
/// Opens a file without a name in `directory` (O_TMPFILE) and the path that reaches it
/// (/proc/self/fd/N). False where the system has no such file: then a named one is used.
bool open_unnamed(const std::string& directory, NativeFile& file, std::string& reach_path);
/// Gives the unnamed file reached at `reach_path` the name `to`; file_exists if taken.
std::error_code link_unnamed(const std::string& reach_path, const std::string& to);

/// Writes all of [data, data+size) at `offset`, looping on short writes and interruptions.
std::error_code write_all_at(NativeFile file, uint64_t offset, const void* data, uint64_t size);
/// Starts writing [offset, offset+length) back to the disk without waiting. A hint.
void start_writeback(NativeFile file, uint64_t offset, uint64_t length) noexcept;
/// Makes the file's data durable (fsync / FlushFileBuffers).
std::error_code sync_file(NativeFile file);
std::error_code close_file(NativeFile file);
/// Makes a rename or link in the directory of `path` durable where the system needs it
/// (fsync of the directory); a file system that refuses it is not an error.
std::error_code sync_directory(const std::string& directory);

/// Renames `from` to `to` unless `to` exists (file_exists then). `step` names the call
/// that failed ("rename", or "link" for the link + unlink fallback), for the message.
std::error_code rename_no_replace(const std::string& from, const std::string& to,
                                  const char*& step);
/// Renames `from` to `to`, atomically replacing a file at `to`.
std::error_code rename_replace(const std::string& from, const std::string& to);
/// Removes the file `path`; no_such_file_or_directory when there is none.
std::error_code remove_file(const std::string& path);

}  // namespace qfp8::platform
