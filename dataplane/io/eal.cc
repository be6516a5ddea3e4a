#include "dataplane/io/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <unistd.h>

#include "dataplane/io/mbuf_time.h"

namespace cordon {
namespace {

bool has(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    return a == flag || a.rfind(flag + "=", 0) == 0;
  });
}

}  // namespace

bool hugepagesAvailable() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  long value = 0;
  while (in >> key >> value) {
    if (key == "HugePages_Total:") return value > 0;
    in.ignore(256, '\n');
  }
  return false;
}

bool initEal(std::vector<std::string> args, std::string* err) {
  // No hugepages reserved: run from ordinary memory, unless the arguments ask for hugepage
  // memory explicitly (--socket-mem), which then fails with DPDK's own clear message.
  if (!has(args, "--no-huge") && !has(args, "--socket-mem") && !hugepagesAvailable()) {
    args.push_back("--no-huge");
  }
  if (has(args, "--no-huge") && !has(args, "-m") && !has(args, "--socket-mem")) {
    args.push_back("-m");
    args.push_back("512");
  }
  // --in-memory keeps no runtime files, but DPDK rejects it with --no-huge (which implies
  // legacy memory). Without hugepages, a per-process prefix and no shared config do the
  // same job: parallel processes never meet in one runtime directory.
  if (has(args, "--no-huge")) {
    args.erase(std::remove(args.begin(), args.end(), std::string("--in-memory")), args.end());
    if (!has(args, "--file-prefix")) {
      args.push_back("--file-prefix=cordon-" + std::to_string(getpid()));
    }
    if (!has(args, "--no-shconf")) args.push_back("--no-shconf");
    if (!has(args, "--no-telemetry")) args.push_back("--no-telemetry");
  } else if (!has(args, "--file-prefix") && !has(args, "--in-memory")) {
    args.push_back("--in-memory");
  }
  if (!has(args, "--log-level")) args.push_back("--log-level=error");
  std::vector<std::string> owned;
  owned.push_back("cordond");
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(owned.size()), argv.data()) < 0) {
    std::string joined;
    for (const auto& a : args) joined += " " + a;
    *err = std::string("DPDK EAL initialisation failed (") + rte_strerror(rte_errno) +
           "); EAL arguments:" + joined;
    return false;
  }
  // The runtime directory is empty with --no-shconf --no-telemetry: remove it at exit so
  // per-process prefixes do not pile up under /var/run/dpdk.
  static std::string runtime_dir;
  runtime_dir = rte_eal_get_runtime_dir();
  std::atexit([] { rmdir(runtime_dir.c_str()); });
  if (!registerMbufTimeField()) {
    *err = "cannot register the mbuf time field";
    return false;
  }
  return true;
}

}  // namespace cordon
