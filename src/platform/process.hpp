// process.hpp — facts about this process: its id, the CPUs it may run on, whether stderr
// is a terminal; its command line as UTF-8; a private temporary directory.
#pragma once

#include <string>
#include <system_error>
#include <vector>

namespace qfp8::platform {

long process_id();
/// CPUs in this process's affinity mask (sched_getaffinity / GetActiveProcessorCount over
/// every processor group); 0 when unknown.
unsigned affinity_cpu_count();
bool stderr_is_terminal();

/// The command line as UTF-8: argv itself on POSIX; on Windows the UTF-16 command line
/// (GetCommandLineW), since argv there is in the ANSI code page and loses characters. Also
/// sets the Windows console to UTF-8 output, so logged paths print as they are.
std::vector<std::string> utf8_arguments(int argc, char** argv);

/// Creates a fresh directory `<system temp>/<prefix>XXXXXX` ($TMPDIR or /tmp; GetTempPathW).
std::error_code make_temp_directory(const std::string& prefix, std::string& path);
void remove_directory(const std::string& path) noexcept;

}  // namespace qfp8::platform
