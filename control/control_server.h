#pragma once
// cordond's operator interfaces, served from the control thread without blocking it:
//  - the control socket (Unix stream, mode 0660): one command line per connection
//    ("status", "stats", "hits", "reload", "events", "events --follow"); the answer is one
//    JSON document, or for "events" the most recent EVE JSON lines, and with "--follow"
//    every further event line until the client goes;
//  - Prometheus metrics over HTTP ("GET /metrics"), bound to loopback by default.
// Everything runs inside poll(), called by the control loop about every millisecond; a slow
// or stuck client never stalls it (non-blocking sockets, bounded buffers, short deadlines).

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cordon {

// Parses "HOST:PORT" (IPv4, or IPv6 in brackets) for the metrics endpoint. False with *err.
bool parseListenAddress(const std::string& addr, sockaddr_storage* out, socklen_t* len,
                        std::string* err);

struct ControlHandlers {
  std::function<std::string()> status;   // JSON
  std::function<std::string()> stats;    // JSON
  std::function<std::string()> hits;     // JSON
  std::function<std::string()> metrics;  // Prometheus text exposition format
  std::function<void()> reload;          // asks for a reload; finishReload() answers
};

class ControlServer {
 public:
  explicit ControlServer(ControlHandlers h) : h_(std::move(h)) {}
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds the Unix socket at `path` (replacing a stale socket file, creating the parent
  // directory) with permissions `mode`. False with *err naming the path.
  bool listenUnix(const std::string& path, unsigned mode, std::string* err);
  // Binds the metrics endpoint at "HOST:PORT" (IPv4 or [IPv6]). False with *err.
  bool listenMetrics(const std::string& addr, std::string* err);

  // Accepts and serves whatever is ready; never blocks.
  void poll();
  // Sends one EVE JSON line (with newline) to every "events --follow" client; a client that
  // cannot keep up loses lines (counted), it never stalls the caller.
  void publishEvent(const std::string& line);
  // Answers every client waiting on "reload" with `json`.
  void finishReload(const std::string& json);
  bool reloadPending() const { return !reload_waiters_.empty(); }

  uint64_t followerLinesLost() const { return follower_lost_; }
  uint16_t metricsPort() const { return metrics_port_; }

 private:
  struct Client {
    int fd;
    bool http;
    std::string in;
    std::chrono::steady_clock::time_point deadline;
  };
  void acceptAll(int listen_fd, bool http);
  void serve(Client& c, bool* done);
  void reply(int fd, const std::string& body);

  ControlHandlers h_;
  int unix_fd_ = -1;
  int metrics_fd_ = -1;
  uint16_t metrics_port_ = 0;
  std::string unix_path_;
  std::vector<Client> clients_;
  struct Follower {
    int fd;
    std::string pending;  // whole lines not yet accepted by the socket
  };
  void flushFollower(Follower& f, bool* gone);
  std::vector<Follower> followers_;
  std::vector<int> reload_waiters_;
  std::vector<std::string> recent_;  // the last kRecentEvents event lines, oldest first
  size_t recent_next_ = 0;
  uint64_t follower_lost_ = 0;
};

}  // namespace cordon
