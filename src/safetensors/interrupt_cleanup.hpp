// interrupt_cleanup.hpp — internal: the table of live temporary files that the
// SIGINT/SIGTERM handler (install_interrupt_cleanup, byte_sink.hpp) unlinks.
#pragma once

#include <string>

namespace qfp8::detail {

/// Adds `path` to the table (best effort: a path too long or a full table is not tracked,
/// so only that file would be left behind by a signal).
void register_temp_path(const std::string& path) noexcept;
/// Removes `path` from the table; a path not in it is ignored.
void unregister_temp_path(const std::string& path) noexcept;

}  // namespace qfp8::detail
