#pragma once
// cordond configuration (ARCHITECTURE.md "Configuration"), loaded with yaml-cpp.
// Unknown keys are errors naming the key; missing optional keys take the defaults below.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/act/policy.h"
#include "rules/ip_addr.h"
#include "rules/snapshot.h"

namespace cordon {

// A config problem: what() is "file:line: reason" (or "file: reason").
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PortConfig {
  std::string name;
  std::string dev;   // PCI address or vdev spec ("net_pcap0,rx_pcap=in.pcap")
  std::string role;  // "" (traffic port) or "inject" (mirror mode)
};

// evidence: {dir, key, checkpoint_every, checkpoint_seconds, packets, fsync}: the ledger of
// control/evidence/ (FORMAT.md there). Disabled when `dir` is empty.
struct EvidenceConfig {
  std::string dir;  // ledger directory (created if missing)
  std::string key;  // Ed25519 private key, PEM (openssl genpkey -algorithm ed25519)
  uint64_t checkpoint_every = 1000;  // signed checkpoint every N records (0: off)
  uint32_t checkpoint_seconds = 60;  // ... or every T seconds with records pending (0: off)
  bool packets = false;              // keep the triggering packets in pcap files
  std::string fsync = "checkpoint";  // none | checkpoint | record
  bool enabled() const { return !dir.empty(); }
};

// A rules[] entry with `url`: a blacklist feed that control/feed/ fetches (file://,
// http://, https://), checks and keeps in feeds.cache_dir. The list's ListSource::path is
// the last good copy, feeds.cache_dir/<name>.data (control/feed/FEEDS.md).
struct FeedConfig {
  std::string list;  // the rules[] entry's name (also the cache file name)
  std::string url;
  uint32_t refresh_s = 300;                  // refresh: "300s", "5m", "1h", "1d" or plain seconds
  std::string pubkey;                        // Ed25519 public key, PEM; "" = signatures not checked
  std::string signature;                     // detached signature URL; default url + ".sig"
  uint64_t max_bytes = uint64_t{256} << 20;  // larger bodies are aborted
  uint32_t timeout_s = 60;                   // whole transfer
  // http(s) only (absolute paths): a private CA bundle, a client certificate and key
  // (mutual TLS), a file of extra request headers such as an API token.
  std::string ca_file, client_cert, client_key, headers_file;
};

struct Config {
  std::string path;  // file it was loaded from ("" for defaults)
  Mode mode = Mode::kInline;
  unsigned workers = 1;
  std::vector<std::string> eal_args;
  std::vector<PortConfig> ports;
  std::vector<rules::ListSource> rules;
  std::vector<FeedConfig> feeds;                          // one per rules[] entry with a `url`
  std::string feeds_cache_dir = "/var/lib/cordon/feeds";  // feeds: {cache_dir: ...}
  ActionsConfig actions;
  std::string control_socket = "/run/cordon/cordon.sock";
  std::string metrics = "127.0.0.1:9188";
  std::string events_path;
  uint64_t events_max_bytes = 0;  // rotate the event log beyond this size (0: never)
  unsigned events_keep = 5;       // rotated files kept: PATH.1 (newest) .. PATH.N
  EvidenceConfig evidence;
  uint32_t flow_table_size = 65536;  // flows per worker
};

// Loads and validates a config file. Relative rule paths are resolved against the
// config file's directory. Throws ConfigError.
Config loadConfig(const std::string& path);

// A list given with --rules: named after the file's stem, action block.
rules::ListSource listFromPath(const std::string& path);

}  // namespace cordon
