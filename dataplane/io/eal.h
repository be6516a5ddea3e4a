#pragma once
// DPDK EAL start-up shared by cordond's live and replay modes and by tests.

#include <string>
#include <vector>

namespace cordon {

// True when the machine has hugepages reserved (HugePages_Total > 0 in /proc/meminfo).
bool hugepagesAvailable();

// Initialises the EAL once per process with `args` (without argv[0]). Adds --no-huge (and a
// memory size) when the machine has no hugepages and the args don't choose. Parallel processes
// never share a runtime directory: --in-memory with hugepages; without them (DPDK refuses
// --in-memory with --no-huge) a per-process --file-prefix and --no-shconf.
// Returns false with *err set on failure.
bool initEal(std::vector<std::string> args, std::string* err);

}  // namespace cordon
