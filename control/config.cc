#include "control/config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "rules/formats.h"

namespace cordon {
namespace {

// "file:line: reason" for a node (yaml-cpp marks are 0-based).
[[noreturn]] void fail(const std::string& file, const YAML::Node& node, const std::string& why) {
  const YAML::Mark m = node.Mark();
  if (m.line >= 0) throw ConfigError(file + ":" + std::to_string(m.line + 1) + ": " + why);
  throw ConfigError(file + ": " + why);
}

void checkKeys(const std::string& file, const YAML::Node& map, const std::string& where,
               const std::set<std::string>& allowed) {
  if (!map.IsMap()) fail(file, map, where + " must be a mapping");
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) fail(file, kv.first, "unknown key '" + where + "." + key + "'");
  }
}

std::string str(const std::string& file, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) fail(file, n, what + " must be a string");
  return n.as<std::string>();
}

unsigned uint(const std::string& file, const YAML::Node& n, const std::string& what, unsigned lo,
              unsigned hi) {
  if (!n.IsScalar()) fail(file, n, what + " must be a number");
  try {
    const long v = std::stol(n.as<std::string>());
    if (v >= lo && v <= hi) return static_cast<unsigned>(v);
  } catch (const std::exception&) {
  }
  fail(file, n,
       what + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

void loadDataplane(const std::string& file, const YAML::Node& dp, Config* c) {
  checkKeys(file, dp, "dataplane",
            {"mode", "workers", "eal", "ports", "flow_table_size", "fail", "inject_copies"});
  if (dp["mode"]) {
    const std::string m = str(file, dp["mode"], "dataplane.mode");
    if (m == "inline") {
      c->mode = Mode::kInline;
    } else if (m == "mirror") {
      c->mode = Mode::kMirror;
    } else {
      fail(file, dp["mode"], "dataplane.mode must be inline or mirror, not '" + m + "'");
    }
  }
  if (dp["fail"]) {
    // What a packet that cannot be inspected (flow table full, reassembly budget spent)
    // gets: forwarded (open, the default) or dropped (closed).
    const std::string v = str(file, dp["fail"], "dataplane.fail");
    if (v == "open") {
      c->actions.fail = FailMode::kOpen;
    } else if (v == "closed") {
      c->actions.fail = FailMode::kClosed;
    } else {
      fail(file, dp["fail"], "dataplane.fail must be open or closed, not '" + v + "'");
    }
  }
  if (dp["workers"]) c->workers = uint(file, dp["workers"], "dataplane.workers", 1, 128);
  if (dp["inject_copies"]) {
    c->actions.inject_copies = static_cast<uint8_t>(
        uint(file, dp["inject_copies"], "dataplane.inject_copies", 1, kMaxInjectCopies));
  }
  if (dp["flow_table_size"]) {
    c->flow_table_size =
        uint(file, dp["flow_table_size"], "dataplane.flow_table_size", 1024, 1u << 26);
  }
  if (dp["eal"]) {
    if (!dp["eal"].IsSequence()) fail(file, dp["eal"], "dataplane.eal must be a list");
    for (const auto& a : dp["eal"]) c->eal_args.push_back(str(file, a, "dataplane.eal entry"));
  }
  if (dp["ports"]) {
    if (!dp["ports"].IsSequence()) fail(file, dp["ports"], "dataplane.ports must be a list");
    for (const auto& p : dp["ports"]) {
      checkKeys(file, p, "dataplane.ports[]", {"name", "dev", "role"});
      PortConfig pc;
      if (!p["dev"]) fail(file, p, "a port needs 'dev'");
      pc.dev = str(file, p["dev"], "port dev");
      pc.name = p["name"] ? str(file, p["name"], "port name") : pc.dev;
      if (p["role"]) {
        pc.role = str(file, p["role"], "port role");
        if (pc.role != "inject" && pc.role != "capture" && pc.role != "traffic") {
          fail(file, p["role"], "port role must be inject, capture or traffic");
        }
      }
      c->ports.push_back(pc);
    }
  }
}

// rules[].csv: {separator: ";", header: true, columns: {domain: 2, url: 3, ip: 1, ref: 5}}
void loadCsvOptions(const std::string& file, const YAML::Node& n, rules::CsvOptions* csv) {
  checkKeys(file, n, "rules[].csv", {"separator", "header", "columns"});
  if (n["separator"]) {
    const std::string sep = str(file, n["separator"], "rules[].csv.separator");
    const std::string v = sep == "\\t" ? "\t" : sep;
    if (v.size() != 1 || v == "\"" || v == "\n") {
      fail(file, n["separator"], "rules[].csv.separator must be one character");
    }
    csv->separator = v[0];
  }
  if (n["header"]) {
    const std::string v = str(file, n["header"], "rules[].csv.header");
    if (v != "true" && v != "false")
      fail(file, n["header"], "rules[].csv.header must be true or false");
    csv->header = v == "true";
  }
  if (n["columns"]) {
    checkKeys(file, n["columns"], "rules[].csv.columns",
              {"domain", "url", "ip", "id", "ref", "rights_holder", "category", "valid_from",
               "valid_until", "action"});
    for (const auto& kv : n["columns"]) {
      const std::string key = kv.first.as<std::string>();
      csv->columns[key] = uint(file, kv.second, "rules[].csv.columns." + key, 1, 1000);
    }
  }
}

// The decimal number at the start of v; *used = its length (0: none, or out of range).
uint64_t leadingNumber(const std::string& v, size_t* used) {
  *used = 0;
  if (v.empty() || v[0] < '0' || v[0] > '9') return 0;
  try {
    return std::stoull(v, used);
  } catch (const std::exception&) {
    *used = 0;
    return 0;
  }
}

// "300s", "5m", "1h", "1d" or plain seconds, within [lo, hi] seconds.
uint32_t duration(const std::string& file, const YAML::Node& n, const std::string& what,
                  uint32_t lo, uint32_t hi) {
  const std::string v = str(file, n, what);
  size_t used = 0;
  const uint64_t num = leadingNumber(v, &used);
  uint64_t unit = 0;
  const std::string suffix = used ? v.substr(used) : "";
  if (suffix.empty() || suffix == "s") unit = 1;
  if (suffix == "m") unit = 60;
  if (suffix == "h") unit = 3600;
  if (suffix == "d") unit = 86400;
  if (used && unit && num <= hi && num * unit >= lo && num * unit <= hi) {
    return static_cast<uint32_t>(num * unit);
  }
  fail(file, n,
       what + " must be a duration like 300s, 5m, 1h or 1d, between " + std::to_string(lo) +
           " and " + std::to_string(hi) + " seconds, not '" + v + "'");
}

// Bytes: a plain number or with a K/M/G (KiB, MiB, GiB) suffix, within [1, 1 TiB].
uint64_t byteSize(const std::string& file, const YAML::Node& n, const std::string& what) {
  constexpr uint64_t kMax = uint64_t{1} << 40;
  const std::string v = str(file, n, what);
  size_t used = 0;
  const uint64_t num = leadingNumber(v, &used);
  const std::string suffix = used ? v.substr(used) : "";
  int shift = -1;
  if (suffix.empty()) shift = 0;
  if (suffix == "K" || suffix == "KiB") shift = 10;
  if (suffix == "M" || suffix == "MiB") shift = 20;
  if (suffix == "G" || suffix == "GiB") shift = 30;
  if (used && shift >= 0 && num >= 1 && num <= (kMax >> shift)) return num << shift;
  fail(file, n,
       what + " must be a byte count like 1048576, 512K, 256M or 1G (at most 1 TiB), not '" + v +
           "'");
}

// Feed list names become cache file names: keep them to a portable, path-free alphabet.
bool feedNameOk(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

bool feedUrlOk(const std::string& url) {
  auto starts = [&](const char* p) { return url.rfind(p, 0) == 0 && url.size() > strlen(p); };
  return starts("file:///") || starts("http://") || starts("https://");
}

// rules[] entries with `url`: the feed's own keys, and the list reads the cached copy.
void loadFeed(const std::string& file, const YAML::Node& r, Config* c, rules::ListSource* ls) {
  const std::filesystem::path base = std::filesystem::path(file).parent_path();
  FeedConfig fc;
  fc.url = str(file, r["url"], "rules[].url");
  if (!feedUrlOk(fc.url)) {
    fail(file, r["url"],
         "rules[].url must be a file:///, http:// or https:// URL, not '" + fc.url + "'");
  }
  if (fc.url.find_first_of(" \t\r\n") != std::string::npos) {
    fail(file, r["url"], "rules[].url must not contain whitespace");
  }
  if (r["name"]) {
    ls->name = str(file, r["name"], "rules[].name");
  } else {
    // The URL's last path segment without its extension ("https://x/registry.jsonl": registry).
    std::string tail = fc.url.substr(fc.url.find("://") + 3);
    tail = tail.substr(0, tail.find_first_of("?#"));
    ls->name = std::filesystem::path(tail).stem().string();
  }
  if (!feedNameOk(ls->name)) {
    fail(file, r["name"] ? r["name"] : r,
         "feed name '" + ls->name +
             "' must be 1-128 letters, digits, '.', '_' or '-' (it names the cache file); "
             "set rules[].name");
  }
  fc.list = ls->name;
  if (r["refresh"]) fc.refresh_s = duration(file, r["refresh"], "rules[].refresh", 1, 30 * 86400);
  if (r["timeout"]) fc.timeout_s = duration(file, r["timeout"], "rules[].timeout", 1, 3600);
  if (r["max_bytes"]) fc.max_bytes = byteSize(file, r["max_bytes"], "rules[].max_bytes");
  if (r["pubkey"]) {
    std::filesystem::path p = str(file, r["pubkey"], "rules[].pubkey");
    if (p.empty()) fail(file, r["pubkey"], "rules[].pubkey must not be empty");
    if (p.is_relative()) p = base / p;
    fc.pubkey = p.lexically_normal().string();
  }
  if (r["signature"]) {
    if (fc.pubkey.empty()) fail(file, r["signature"], "rules[].signature needs rules[].pubkey");
    fc.signature = str(file, r["signature"], "rules[].signature");
    if (!feedUrlOk(fc.signature)) {
      fail(file, r["signature"],
           "rules[].signature must be a file:///, http:// or https:// URL, not '" + fc.signature +
               "'");
    }
  } else if (!fc.pubkey.empty()) {
    fc.signature = fc.url + ".sig";
  }
  const bool http = fc.url.rfind("file:", 0) != 0;
  for (const auto& [key, out] :
       {std::pair{"ca_file", &fc.ca_file}, std::pair{"client_cert", &fc.client_cert},
        std::pair{"client_key", &fc.client_key}, std::pair{"headers_file", &fc.headers_file}}) {
    const std::string what = std::string("rules[].") + key;
    if (!r[key]) continue;
    if (!http) fail(file, r[key], what + " applies only to an http:// or https:// feed");
    std::filesystem::path p = str(file, r[key], what);
    if (p.empty()) fail(file, r[key], what + " must not be empty");
    if (p.is_relative()) p = base / p;
    *out = p.lexically_normal().string();
    if (::access(out->c_str(), R_OK) != 0) {
      fail(file, r[key], what + ": cannot read " + *out + ": " + std::strerror(errno));
    }
  }
  if (!fc.client_key.empty() && fc.client_cert.empty()) {
    fail(file, r["client_key"], "rules[].client_key needs rules[].client_cert");
  }
  ls->path = (std::filesystem::path(c->feeds_cache_dir) / (ls->name + ".data")).string();
  c->feeds.push_back(fc);
}

void loadRules(const std::string& file, const YAML::Node& rs, Config* c) {
  if (!rs.IsSequence()) fail(file, rs, "rules must be a list");
  const std::filesystem::path base = std::filesystem::path(file).parent_path();
  std::set<std::string> names;
  for (const auto& r : rs) {
    checkKeys(file, r, "rules[]",
              {"name", "path", "action", "url", "format", "strict", "csv", "refresh", "pubkey",
               "signature", "max_bytes", "timeout", "ca_file", "client_cert", "client_key",
               "headers_file"});
    rules::ListSource ls;
    if (r["url"] && r["path"]) fail(file, r, "a rule list needs exactly one of 'path' or 'url'");
    if (r["url"]) {
      loadFeed(file, r, c, &ls);
    } else {
      if (!r["path"]) fail(file, r, "a rule list needs 'path' (a file) or 'url' (a feed)");
      for (const char* k : {"refresh", "pubkey", "signature", "max_bytes", "timeout", "ca_file",
                            "client_cert", "client_key", "headers_file"}) {
        if (r[k]) fail(file, r[k], std::string("rules[].") + k + " applies only to a feed ('url')");
      }
      std::filesystem::path p = str(file, r["path"], "rules[].path");
      if (p.is_relative()) p = base / p;
      ls.path = p.lexically_normal().string();
      ls.name = r["name"] ? str(file, r["name"], "rules[].name") : listFromPath(ls.path).name;
    }
    if (!names.insert(ls.name).second) fail(file, r, "duplicate list name '" + ls.name + "'");
    if (r["action"]) {
      const std::string a = str(file, r["action"], "rules[].action");
      if (a == "block") {
        ls.action = rules::ListAction::kBlock;
      } else if (a == "monitor") {
        ls.action = rules::ListAction::kMonitor;
      } else {
        fail(file, r["action"], "rules[].action must be block or monitor, not '" + a + "'");
      }
    }
    if (r["format"]) {
      const std::string f = str(file, r["format"], "rules[].format");
      if (!rules::parseFormatName(f, &ls.format)) {
        fail(
            file, r["format"],
            "rules[].format must be auto, list, hosts, rpz, adguard, csv or feed, not '" + f + "'");
      }
    }
    if (r["strict"]) {
      const std::string v = str(file, r["strict"], "rules[].strict");
      if (v != "true" && v != "false")
        fail(file, r["strict"], "rules[].strict must be true or false");
      ls.strict = v == "true";
    }
    if (r["csv"]) loadCsvOptions(file, r["csv"], &ls.csv);
    c->rules.push_back(ls);
  }
}

void loadActions(const std::string& file, const YAML::Node& a, Config* c) {
  checkKeys(file, a, "actions", {"tls", "http", "dns", "quic", "ip", "ech", "residual"});
  ActionsConfig& ac = c->actions;
  if (a["tls"]) {
    const std::string v = str(file, a["tls"], "actions.tls");
    if (v == "reset") {
      ac.tls = TlsAction::kReset;
    } else if (v == "drop") {
      ac.tls = TlsAction::kDrop;
    } else {
      fail(file, a["tls"], "actions.tls must be reset or drop");
    }
  }
  if (a["http"]) {
    const YAML::Node h = a["http"];
    std::string mode;
    if (h.IsScalar()) {
      mode = h.as<std::string>();
    } else {
      checkKeys(file, h, "actions.http", {"mode", "location"});
      if (h["location"]) ac.http_location = str(file, h["location"], "actions.http.location");
      mode = h["mode"] ? str(file, h["mode"], "actions.http.mode")
                       : (ac.http_location.empty() ? "reset" : "redirect");
    }
    if (mode == "redirect") {
      if (ac.http_location.empty()) fail(file, h, "actions.http redirect needs a 'location'");
      if (ac.http_location.find_first_of("\r\n") != std::string::npos) {
        fail(file, h, "actions.http.location must not contain CR or LF");
      }
      ac.http = HttpAction::kRedirect;
    } else if (mode == "reset") {
      ac.http = HttpAction::kReset;
    } else if (mode == "page") {
      ac.http = HttpAction::kPage;
    } else if (mode == "drop") {
      ac.http = HttpAction::kDrop;
    } else {
      fail(file, h, "actions.http.mode must be redirect, reset, page or drop");
    }
  }
  if (a["dns"]) {
    const YAML::Node d = a["dns"];
    std::string mode;
    if (d.IsScalar()) {
      mode = d.as<std::string>();
    } else {
      checkKeys(file, d, "actions.dns", {"mode", "a", "aaaa", "ttl"});
      mode = d["mode"] ? str(file, d["mode"], "actions.dns.mode") : "nxdomain";
      if (d["a"] && (!parseIp(str(file, d["a"], "actions.dns.a"), &ac.sinkhole_a) ||
                     ac.sinkhole_a.family != 4)) {
        fail(file, d["a"], "actions.dns.a must be an IPv4 address");
      }
      if (d["aaaa"] && (!parseIp(str(file, d["aaaa"], "actions.dns.aaaa"), &ac.sinkhole_aaaa) ||
                        ac.sinkhole_aaaa.family != 6)) {
        fail(file, d["aaaa"], "actions.dns.aaaa must be an IPv6 address");
      }
      if (d["ttl"]) ac.dns_ttl = uint(file, d["ttl"], "actions.dns.ttl", 0, 86400);
    }
    if (mode == "nxdomain") {
      ac.dns = DnsAction::kNxdomain;
    } else if (mode == "sinkhole") {
      if (!ac.sinkhole_a.family && !ac.sinkhole_aaaa.family) {
        fail(file, d, "actions.dns sinkhole needs 'a' and/or 'aaaa'");
      }
      ac.dns = DnsAction::kSinkhole;
    } else if (mode == "refused") {
      ac.dns = DnsAction::kRefused;
    } else if (mode == "drop") {
      ac.dns = DnsAction::kDrop;
    } else {
      fail(file, d, "actions.dns.mode must be nxdomain, sinkhole, refused or drop");
    }
  }
  if (a["quic"]) {
    if (str(file, a["quic"], "actions.quic") != "drop") {
      fail(file, a["quic"], "actions.quic must be drop");
    }
  }
  if (a["ech"]) {
    const std::string v = str(file, a["ech"], "actions.ech");
    if (v == "pass") {
      ac.ech = EchPolicy::kPass;
    } else if (v == "block") {
      ac.ech = EchPolicy::kBlock;
    } else {
      fail(file, a["ech"], "actions.ech must be pass or block");
    }
  }
  if (a["ip"]) {
    const std::string v = str(file, a["ip"], "actions.ip");
    if (v == "drop") {
      ac.ip = IpAction::kDrop;
    } else if (v == "reset") {
      ac.ip = IpAction::kReset;
    } else {
      fail(file, a["ip"], "actions.ip must be drop or reset");
    }
  }
  if (a["residual"]) {
    // residual: {seconds: N}: after a TLS/HTTP/QUIC block, new connections from the client to
    // that server IP and port are refused for N seconds (0 = off, the default).
    const YAML::Node r = a["residual"];
    checkKeys(file, r, "actions.residual", {"seconds"});
    if (r["seconds"])
      ac.residual_s = duration(file, r["seconds"], "actions.residual.seconds", 0, 86400);
  }
}

void loadEvidence(const std::string& file, const YAML::Node& ev, Config* c) {
  checkKeys(file, ev, "evidence",
            {"dir", "key", "checkpoint_every", "checkpoint_seconds", "packets", "fsync"});
  EvidenceConfig& e = c->evidence;
  const std::filesystem::path base = std::filesystem::path(file).parent_path();
  auto path = [&](const char* key) {
    if (!ev[key]) fail(file, ev, std::string("evidence needs '") + key + "'");
    std::filesystem::path p = str(file, ev[key], std::string("evidence.") + key);
    if (p.empty()) fail(file, ev[key], std::string("evidence.") + key + " must not be empty");
    if (p.is_relative()) p = base / p;
    return p.lexically_normal().string();
  };
  e.dir = path("dir");
  e.key = path("key");
  if (ev["checkpoint_every"]) {
    e.checkpoint_every =
        uint(file, ev["checkpoint_every"], "evidence.checkpoint_every", 0, 10000000);
  }
  if (ev["checkpoint_seconds"]) {
    e.checkpoint_seconds =
        uint(file, ev["checkpoint_seconds"], "evidence.checkpoint_seconds", 0, 86400);
  }
  if (e.checkpoint_every == 0 && e.checkpoint_seconds == 0) {
    fail(file, ev, "evidence.checkpoint_every and evidence.checkpoint_seconds cannot both be 0");
  }
  if (ev["packets"]) {
    const YAML::Node p = ev["packets"];
    bool v = false;
    if (!p.IsScalar() || !YAML::convert<bool>::decode(p, v)) {
      fail(file, p, "evidence.packets must be true or false");
    }
    e.packets = v;
  }
  if (ev["fsync"]) {
    e.fsync = str(file, ev["fsync"], "evidence.fsync");
    if (e.fsync != "none" && e.fsync != "checkpoint" && e.fsync != "record") {
      fail(file, ev["fsync"], "evidence.fsync must be none, checkpoint or record");
    }
  }
}

}  // namespace

rules::ListSource listFromPath(const std::string& path) {
  rules::ListSource ls;
  ls.path = path;
  ls.name = std::filesystem::path(path).stem().string();
  if (ls.name.empty()) ls.name = path;
  ls.action = rules::ListAction::kBlock;
  return ls;
}

Config loadConfig(const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    throw ConfigError(file + ": cannot read file");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  Config c;
  c.path = file;
  if (root.IsNull()) return c;
  try {
    checkKeys(file, root, "config",
              {"dataplane", "rules", "actions", "control", "events", "evidence", "feeds"});
    if (root["dataplane"]) loadDataplane(file, root["dataplane"], &c);
    // Before rules: a feed's list path lives in the cache directory.
    if (root["feeds"]) {
      checkKeys(file, root["feeds"], "feeds", {"cache_dir"});
      if (root["feeds"]["cache_dir"]) {
        std::filesystem::path p = str(file, root["feeds"]["cache_dir"], "feeds.cache_dir");
        if (p.empty()) fail(file, root["feeds"]["cache_dir"], "feeds.cache_dir must not be empty");
        if (p.is_relative()) p = std::filesystem::path(file).parent_path() / p;
        c.feeds_cache_dir = p.lexically_normal().string();
      }
    }
    if (root["rules"]) loadRules(file, root["rules"], &c);
    if (root["actions"]) loadActions(file, root["actions"], &c);
    if (root["control"]) {
      const YAML::Node ctl = root["control"];
      checkKeys(file, ctl, "control", {"socket", "metrics"});
      if (ctl["socket"]) c.control_socket = str(file, ctl["socket"], "control.socket");
      if (ctl["metrics"]) c.metrics = str(file, ctl["metrics"], "control.metrics");
    }
    if (root["events"]) {
      checkKeys(file, root["events"], "events", {"path", "max_bytes", "keep"});
      if (root["events"]["path"]) c.events_path = str(file, root["events"]["path"], "events.path");
      if (root["events"]["max_bytes"]) {
        c.events_max_bytes = byteSize(file, root["events"]["max_bytes"], "events.max_bytes");
      }
      if (root["events"]["keep"])
        c.events_keep = uint(file, root["events"]["keep"], "events.keep", 1, 1000);
    }
    if (root["evidence"]) loadEvidence(file, root["evidence"], &c);
  } catch (const YAML::Exception& e) {
    throw ConfigError(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return c;
}

}  // namespace cordon
