#include "control/control_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace cordon {
namespace {

// A request line longer than this is garbage: the client is dropped.
constexpr size_t kMaxRequest = 4096;
// A client that has not sent a whole request by then is dropped.
constexpr auto kRequestDeadline = std::chrono::seconds(2);
// Event lines kept for "events" (without --follow).
constexpr size_t kRecentEvents = 100;
// Per follower: lines queued while its socket is full. Beyond this the follower loses lines
// (whole lines, counted), so a stalled reader costs bounded memory and never a stall.
constexpr size_t kFollowerBuffer = 1 << 20;
// Clients served at once; further connections wait in the kernel backlog.
constexpr size_t kMaxClients = 64;

bool setNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// Writes all of `data` to a non-blocking socket, waiting briefly when the buffer is full (an
// answer is small; a client that does not read within the deadline loses it).
bool writeAll(int fd, const std::string& data) {
  size_t off = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
        std::chrono::steady_clock::now() < deadline) {
      usleep(1000);
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace

ControlServer::~ControlServer() {
  for (auto& c : clients_) ::close(c.fd);
  for (auto& f : followers_) {
    (void)writeAll(f.fd, f.pending);  // last lines, bounded by writeAll's deadline
    ::close(f.fd);
  }
  for (int fd : reload_waiters_) ::close(fd);
  if (unix_fd_ >= 0) {
    ::close(unix_fd_);
    ::unlink(unix_path_.c_str());
  }
  if (metrics_fd_ >= 0) ::close(metrics_fd_);
}

bool ControlServer::listenUnix(const std::string& path, unsigned mode, std::string* err) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) {
    *err = "control.socket: path too long: " + path;
    return false;
  }
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // A socket file left by a previous run that nobody answers on is stale: replace it. One
  // that answers belongs to a running cordond: refuse to steal it.
  const int probe = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  if (probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    ::close(probe);
    *err = path + ": another cordond is listening on this control socket";
    return false;
  }
  if (probe >= 0) ::close(probe);
  ::unlink(path.c_str());
  unix_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
  // The socket is created with restrictive permissions from the start (umask), then set.
  const mode_t old = ::umask(0177);
  const int rc = unix_fd_ < 0 ? -1 : ::bind(unix_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  ::umask(old);
  if (rc != 0 || ::chmod(path.c_str(), mode) != 0 || ::listen(unix_fd_, 16) != 0 ||
      !setNonBlocking(unix_fd_)) {
    *err = path + ": cannot listen on the control socket: " + std::strerror(errno);
    return false;
  }
  unix_path_ = path;
  return true;
}

bool parseListenAddress(const std::string& addr, sockaddr_storage* out, socklen_t* len,
                        std::string* err) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos) {
    *err = "control.metrics: expected HOST:PORT, got '" + addr + "'";
    return false;
  }
  std::string host = addr.substr(0, colon);
  const std::string port_text = addr.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end || port < 0 || port > 65535) {
    *err = "control.metrics: bad port in '" + addr + "'";
    return false;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  *out = sockaddr_storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *v6;
  } else {
    *err = "control.metrics: '" + host + "' is not an IP address";
    return false;
  }
  return true;
}

bool ControlServer::listenMetrics(const std::string& addr, std::string* err) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!parseListenAddress(addr, &ss, &len, err)) return false;
  metrics_fd_ = ::socket(ss.ss_family, SOCK_STREAM, 0);
  const int one = 1;
  if (metrics_fd_ < 0 ||
      ::setsockopt(metrics_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(metrics_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      ::listen(metrics_fd_, 16) != 0 || !setNonBlocking(metrics_fd_)) {
    *err = "control.metrics: cannot listen on " + addr + ": " + std::strerror(errno);
    return false;
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(metrics_fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  metrics_port_ =
      ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return true;
}

void ControlServer::acceptAll(int listen_fd, bool http) {
  if (listen_fd < 0) return;
  while (clients_.size() < kMaxClients) {
    const int fd = ::accept(listen_fd, nullptr, nullptr);
    if (fd < 0) return;
    if (!setNonBlocking(fd)) {
      ::close(fd);
      continue;
    }
    clients_.push_back({fd, http, {}, std::chrono::steady_clock::now() + kRequestDeadline});
  }
}

void ControlServer::reply(int fd, const std::string& body) {
  (void)writeAll(fd, body);
  ::close(fd);
}

void ControlServer::serve(Client& c, bool* done) {
  char buf[1024];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      if (c.in.size() > kMaxRequest) break;
      continue;
    }
    if (n == 0) break;  // peer closed (maybe after a complete request)
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    ::close(c.fd);
    *done = true;
    return;
  }
  const bool expired = std::chrono::steady_clock::now() > c.deadline;
  if (c.http) {
    const size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos && c.in.find("\n\n") == std::string::npos) {
      if (expired || c.in.size() > kMaxRequest) {
        ::close(c.fd);
        *done = true;
      }
      return;
    }
    std::string body;
    std::string status = "200 OK";
    if (c.in.rfind("GET /metrics", 0) == 0) {
      body = h_.metrics ? h_.metrics() : "";
    } else {
      status = "404 Not Found";
      body = "cordond serves /metrics\n";
    }
    reply(c.fd, "HTTP/1.0 " + status +
                    "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    *done = true;
    return;
  }
  const size_t nl = c.in.find('\n');
  if (nl == std::string::npos) {
    if (expired || c.in.size() > kMaxRequest) {
      ::close(c.fd);
      *done = true;
    }
    return;
  }
  std::string cmd = c.in.substr(0, nl);
  while (!cmd.empty() && (cmd.back() == '\r' || cmd.back() == ' ')) cmd.pop_back();
  *done = true;
  if (cmd == "status" && h_.status) {
    reply(c.fd, h_.status() + "\n");
  } else if (cmd == "stats" && h_.stats) {
    reply(c.fd, h_.stats() + "\n");
  } else if (cmd == "hits" && h_.hits) {
    reply(c.fd, h_.hits() + "\n");
  } else if (cmd == "reload" && h_.reload) {
    h_.reload();
    reload_waiters_.push_back(c.fd);
  } else if (cmd == "events --follow" || cmd == "events") {
    std::string backlog;
    for (size_t i = 0; i < recent_.size(); ++i) {
      backlog += recent_[(recent_next_ + i) % recent_.size()];
    }
    if (cmd == "events") {
      reply(c.fd, backlog);
    } else {
      followers_.push_back({c.fd, backlog});
      bool gone = false;
      flushFollower(followers_.back(), &gone);
      if (gone) {
        ::close(c.fd);
        followers_.pop_back();
      }
    }
  } else {
    std::string escaped;
    for (char ch : cmd.substr(0, 64)) {
      if (ch == '"' || ch == '\\') escaped.push_back('\\');
      escaped.push_back(ch >= 0x20 && ch < 0x7f ? ch : '?');
    }
    reply(c.fd, "{\"error\":\"unknown command '" + escaped +
                    "' (status, stats, hits, reload, events [--follow])\"}\n");
  }
}

void ControlServer::poll() {
  acceptAll(unix_fd_, false);
  acceptAll(metrics_fd_, true);
  for (size_t i = 0; i < clients_.size();) {
    bool done = false;
    serve(clients_[i], &done);
    if (done) {
      clients_[i] = clients_.back();
      clients_.pop_back();
    } else {
      ++i;
    }
  }
  // Followers send nothing; a readable follower has hung up.
  for (size_t i = 0; i < followers_.size();) {
    char b;
    const ssize_t n = ::recv(followers_[i].fd, &b, 1, MSG_DONTWAIT);
    bool gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    if (!gone) flushFollower(followers_[i], &gone);
    if (gone) {
      ::close(followers_[i].fd);
      followers_[i] = std::move(followers_.back());
      followers_.pop_back();
    } else {
      ++i;
    }
  }
}

void ControlServer::flushFollower(Follower& f, bool* gone) {
  while (!f.pending.empty()) {
    const ssize_t n = ::send(f.fd, f.pending.data(), f.pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      f.pending.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    *gone = true;
    return;
  }
}

void ControlServer::publishEvent(const std::string& line) {
  if (recent_.size() < kRecentEvents) {
    recent_.push_back(line);
  } else {
    recent_[recent_next_] = line;
    recent_next_ = (recent_next_ + 1) % kRecentEvents;
  }
  for (size_t i = 0; i < followers_.size();) {
    Follower& f = followers_[i];
    bool gone = false;
    if (f.pending.size() + line.size() > kFollowerBuffer) {
      ++follower_lost_;  // slow reader: this whole line is lost for it
    } else {
      f.pending += line;
      flushFollower(f, &gone);
    }
    if (gone) {
      ::close(f.fd);
      followers_[i] = std::move(followers_.back());
      followers_.pop_back();
    } else {
      ++i;
    }
  }
}

void ControlServer::finishReload(const std::string& json) {
  for (int fd : reload_waiters_) reply(fd, json + "\n");
  reload_waiters_.clear();
}

}  // namespace cordon
