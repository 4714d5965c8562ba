// output_target.hpp — what may stand at an output path, and the names derived from it (the
// lock file, the named temporary file) that must fit beside it in the same directory.
#pragma once

#include <string>

namespace qfp8 {

/// Throws OutputExists (exit 3) when `target` must not be written: it exists and
/// `overwrite` (--force) is off, or it is anything but a regular file or a symbolic link.
/// A device, FIFO, socket or directory is never replaced, --force or not (`-o /dev/null
/// --force` as root would otherwise replace the system's /dev/null). Also throws OpenFailed
/// for a path with no file name (ending in '/'). Commands call it before any work; the
/// AtomicFileSink checks again.
void check_output_target(const std::string& target, bool overwrite);

/// The directory part of `path` ("." when it has none).
std::string directory_of(const std::string& path);

/// `prefix + name + suffix` in the directory of `target`, where `name` is the target's file
/// name. A file name may have 255 bytes (NAME_MAX): when the result would be longer, the
/// name is cut (at a UTF-8 character boundary) and a 16-hex-digit hash of the whole name is
/// put in its place, so distinct targets keep distinct derived names.
std::string sibling_path(const std::string& target, const std::string& prefix,
                         const std::string& suffix);

}  // namespace qfp8
