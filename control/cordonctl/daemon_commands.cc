#include "control/cordonctl/daemon_commands.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace cordon {
namespace {

using json = nlohmann::json;

// Opens the control socket; on failure prints why and returns -1.
int connectTo(const std::string& path) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) {
    std::cerr << "cordonctl: socket path too long: " << path << "\n";
    return -1;
  }
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    std::cerr << "cordonctl: cannot connect to " << path << ": " << std::strerror(errno)
              << (errno == EACCES ? " (not permitted: run as root or a member of the socket's "
                                    "group)"
                                  : " (is cordond running? --socket PATH)")
              << "\n";
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// Sends one command line and reads the whole answer (until the daemon closes).
bool ask(const std::string& path, const std::string& cmd, std::string* answer) {
  const int fd = connectTo(path);
  if (fd < 0) return false;
  const std::string line = cmd + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    std::cerr << "cordonctl: " << path << ": send failed: " << std::strerror(errno) << "\n";
    ::close(fd);
    return false;
  }
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) answer->append(buf, static_cast<size_t>(n));
  ::close(fd);
  return true;
}

bool parse(const std::string& text, json* out) {
  try {
    *out = json::parse(text);
  } catch (const json::exception& e) {
    std::cerr << "cordonctl: the daemon's answer is not JSON: " << e.what() << "\n";
    return false;
  }
  if (out->contains("error")) {
    std::cerr << "cordonctl: cordond: " << (*out)["error"].get<std::string>() << "\n";
    return false;
  }
  return true;
}

std::string duration(double s) {
  std::ostringstream o;
  const long t = static_cast<long>(s);
  if (t >= 86400) o << t / 86400 << "d ";
  if (t >= 3600) o << (t % 86400) / 3600 << "h ";
  if (t >= 60) o << (t % 3600) / 60 << "m ";
  o << t % 60 << "s";
  return o.str();
}

void printStatus(const json& j) {
  const json& snap = j["snapshot"];
  const json& r = j["last_reload"];
  std::cout << "cordond up " << duration(j["uptime_s"].get<double>()) << ", "
            << j["mode"].get<std::string>() << " mode, " << j["workers"] << " worker(s)\n"
            << "rules: version " << snap["version"] << ", " << snap["rules"] << " rules\n";
  for (const auto& l : j["lists"]) {
    std::cout << "  list " << l["name"].get<std::string>() << ": " << l["source"].get<std::string>()
              << "\n";
  }
  std::cout << "reloads: " << r["attempts"] << " (" << r["failures"] << " rejected)";
  if (r["attempts"].get<uint64_t>() > 0) {
    std::cout << "; last " << (r["ok"].get<bool>() ? "ok" : "REJECTED") << " at "
              << r["time"].get<std::string>() << ", compile " << r["compile_s"] << " s, publish "
              << r["publish_s"] << " s";
  }
  std::cout << "\n";
  if (r.contains("error")) std::cout << r["error"].get<std::string>();
}

void printStats(const json& j) {
  std::cout << "counters (all workers):\n";
  for (const auto& [k, v] : j["total"].items()) {
    std::cout << "  " << std::left << std::setw(28) << k << " " << v << "\n";
  }
  std::cout << "workers:\n";
  for (const auto& w : j["workers"]) {
    std::cout << "  " << w["worker"] << ": flows " << w["flows"] << ", busy "
              << std::setprecision(3) << w["busy_ratio"].get<double>() * 100 << "%, packets "
              << w["counters"].value("packets_in", 0) << "\n";
  }
  std::cout << "ports:\n";
  for (const auto& p : j["ports"]) {
    std::cout << "  " << p["name"].get<std::string>() << ": rx " << p["rx_packets"] << " pkts "
              << p["rx_bytes"] << " B, tx " << p["tx_packets"] << " pkts " << p["tx_bytes"]
              << " B, missed " << p["rx_missed"] << (p["rss"].get<bool>() ? ", rss" : "") << "\n";
  }
  std::cout << "events: " << j["events"]["written"] << " written, " << j["events"]["lost"]
            << " lost\n";
}

void printHits(const json& j) {
  std::cout << "by list:\n";
  for (const auto& h : j["by_list"]) {
    std::cout << "  " << std::left << std::setw(20) << h["list"].get<std::string>() << " "
              << std::setw(5) << h["app_proto"].get<std::string>() << " " << std::setw(9)
              << h["event_type"].get<std::string>() << " " << h["events"] << "\n";
  }
  std::cout << "by rule:\n";
  for (const auto& h : j["by_rule"]) {
    std::cout << "  " << h["list"].get<std::string>() << ": " << h["pattern"].get<std::string>()
              << "  " << h["events"] << "\n";
  }
}

int top(const std::string& path, int iterations) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> last_ports;
  uint64_t last_blocks = 0;
  auto last_t = std::chrono::steady_clock::now();
  for (int i = 0; iterations <= 0 || i < iterations; ++i) {
    std::string a;
    json j;
    if (!ask(path, "stats", &a) || !parse(a, &j)) return 2;
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last_t).count();
    last_t = now;
    std::ostringstream o;
    o << "\x1b[H\x1b[2J"
      << "cordon top  (up " << duration(j["uptime_s"].get<double>()) << ")\n\n";
    o << std::left << std::setw(14) << "port" << std::setw(14) << "rx pps" << std::setw(14)
      << "tx pps"
      << "missed\n";
    for (const auto& p : j["ports"]) {
      const std::string name = p["name"].get<std::string>();
      const uint64_t rx = p["rx_packets"], tx = p["tx_packets"];
      auto& prev = last_ports[name];
      const double rxr = i ? static_cast<double>(rx - prev.first) / dt : 0;
      const double txr = i ? static_cast<double>(tx - prev.second) / dt : 0;
      prev = {rx, tx};
      o << std::setw(14) << name << std::setw(14) << static_cast<uint64_t>(rxr) << std::setw(14)
        << static_cast<uint64_t>(txr) << p["rx_missed"] << "\n";
    }
    const uint64_t blocks = j["total"].value("blocked_flows", uint64_t{0});
    o << "\nblocked flows: " << blocks << "  (" << (i ? (blocks - last_blocks) / dt : 0) << "/s)\n";
    last_blocks = blocks;
    o << "\n"
      << std::setw(8) << "worker" << std::setw(10) << "busy" << std::setw(10) << "flows"
      << "packets\n";
    for (const auto& w : j["workers"]) {
      o << std::setw(8) << w["worker"].get<int>() << std::setw(10)
        << (std::to_string(static_cast<int>(w["busy_ratio"].get<double>() * 100)) + "%")
        << std::setw(10) << w["flows"].get<uint64_t>() << w["counters"].value("packets_in", 0)
        << "\n";
    }
    std::cout << o.str() << std::flush;
    if (iterations <= 0 || i + 1 < iterations) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return 0;
}

}  // namespace

bool isDaemonCommand(const std::string& c) {
  return c == "status" || c == "stats" || c == "hits" || c == "reload" || c == "events" ||
         c == "top";
}

int runDaemonCommand(const std::string& command, const std::vector<std::string>& args,
                     const std::string& socket_path) {
  bool as_json = false, follow = false;
  int iterations = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--json") {
      as_json = true;
    } else if (args[i] == "--follow" && command == "events") {
      follow = true;
    } else if (args[i] == "--iterations" && command == "top" && i + 1 < args.size()) {
      iterations = std::atoi(args[++i].c_str());
    } else {
      std::cerr << "cordonctl " << command << ": unknown argument '" << args[i] << "'\n";
      return 2;
    }
  }
  if (command == "top") return top(socket_path, iterations);
  if (command == "events") {
    const int fd = connectTo(socket_path);
    if (fd < 0) return 2;
    const std::string line = follow ? "events --follow\n" : "events\n";
    (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    // Whole lines only: a connection cut mid-line never leaves half a JSON object.
    std::string pending;
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
      pending.append(buf, static_cast<size_t>(n));
      const size_t end = pending.rfind('\n');
      if (end == std::string::npos) continue;
      std::cout.write(pending.data(), static_cast<std::streamsize>(end + 1));
      std::cout.flush();
      pending.erase(0, end + 1);
    }
    ::close(fd);
    return 0;
  }
  std::string answer;
  if (!ask(socket_path, command, &answer)) return 2;
  json j;
  if (!parse(answer, &j)) return 2;
  if (as_json) {
    std::cout << j.dump() << "\n";
  } else if (command == "status") {
    printStatus(j);
  } else if (command == "stats") {
    printStats(j);
  } else if (command == "hits") {
    printHits(j);
  } else if (command == "reload") {
    printStatus(j);
  }
  if (command == "reload" && !j["last_reload"]["ok"].get<bool>()) return 1;
  return 0;
}

}  // namespace cordon
