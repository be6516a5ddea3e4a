#pragma once
// cordonctl's commands that talk to a running cordond over its control socket:
// status, stats, hits, reload, events [--follow], top. Each accepts --json (the daemon's
// answer as it came) and --socket PATH.

#include <string>
#include <vector>

namespace cordon {

inline constexpr const char* kDefaultSocket = "/run/cordon/cordon.sock";

// True for the command names handled here.
bool isDaemonCommand(const std::string& command);

// Runs `command` with its arguments (after the command name). Exit codes: 0 success, 1 a
// reload was rejected, 2 usage error or the daemon cannot be reached.
int runDaemonCommand(const std::string& command, const std::vector<std::string>& args,
                     const std::string& socket_path);

}  // namespace cordon
