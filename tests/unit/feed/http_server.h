#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 for the feed tests: one thread per connection,
// "Connection: close", handlers per path. Responses can stream without end (the client must
// abort) or trickle (the client must time out); both stop when the client goes away.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cordon::feed::test {

struct Request {
  std::string method, path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct Response {
  enum class Body { kFixed, kEndlessChunked, kEndlessWithLength, kTrickle };
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Body mode = Body::kFixed;
  uint64_t declared_length = 0;  // kEndlessWithLength: the Content-Length announced
};

class TestHttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;

  TestHttpServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0) {
      throw std::runtime_error("test server: cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~TestHttpServer() { stop(); }

  // Stops listening and waits for every connection to end (the port then refuses).
  void stop() {
    if (stopped_.exchange(true)) return;
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    ::close(fd_);
    std::vector<std::thread> conns;
    {
      std::lock_guard<std::mutex> g(mu_);
      conns.swap(conns_);
    }
    for (auto& t : conns) t.join();
  }

  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void on(const std::string& path, Handler h) {
    std::lock_guard<std::mutex> g(mu_);
    handlers_[path] = std::move(h);
  }
  // Serves a fixed body; with an ETag, answers 304 to a matching If-None-Match.
  void serve(const std::string& path, std::string body, std::string type = "text/plain",
             std::string etag = "") {
    on(path, [body, type, etag](const Request& rq) {
      Response r;
      if (!etag.empty() && rq.header("if-none-match") == etag) {
        r.status = 304;
        r.headers.push_back({"ETag", etag});
        return r;
      }
      r.body = body;
      r.headers.push_back({"Content-Type", type});
      if (!etag.empty()) r.headers.push_back({"ETag", etag});
      return r;
    });
  }
  std::vector<Request> requests(const std::string& path) const {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<Request> out;
    for (const auto& r : log_) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }
  uint64_t streamed() const { return streamed_.load(); }

 private:
  void acceptLoop() {
    for (;;) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stopped_.load()) return;
        continue;
      }
      std::lock_guard<std::mutex> g(mu_);
      conns_.emplace_back([this, c] {
        handle(c);
        ::close(c);
      });
    }
  }

  bool sendAll(int c, const std::string& s) {
    for (size_t off = 0; off < s.size();) {
      const ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  void handle(int c) {
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos && in.size() < 65536) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    Request rq;
    const size_t eol = in.find("\r\n");
    const std::string first = in.substr(0, eol);
    rq.method = first.substr(0, first.find(' '));
    const size_t p1 = first.find(' ') + 1;
    rq.path = first.substr(p1, first.find(' ', p1) - p1);
    for (size_t pos = eol + 2; pos < in.size();) {
      const size_t e = in.find("\r\n", pos);
      if (e == std::string::npos || e == pos) break;
      const std::string line = in.substr(pos, e - pos);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string k = line.substr(0, colon);
        for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        std::string v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        rq.headers[k] = v;
      }
      pos = e + 2;
    }
    Handler h;
    {
      std::lock_guard<std::mutex> g(mu_);
      log_.push_back(rq);
      auto it = handlers_.find(rq.path);
      if (it != handlers_.end()) h = it->second;
    }
    Response r;
    if (h) {
      r = h(rq);
    } else {
      r.status = 404;
      r.body = "not found\n";
    }
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nConnection: close\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    switch (r.mode) {
      case Response::Body::kFixed:
        head +=
            "Content-Length: " + std::to_string(r.status == 304 ? 0 : r.body.size()) + "\r\n\r\n";
        sendAll(c, head + (r.status == 304 ? "" : r.body));
        break;
      case Response::Body::kEndlessChunked:
      case Response::Body::kEndlessWithLength: {
        const bool chunked = r.mode == Response::Body::kEndlessChunked;
        head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                        : "Content-Length: " + std::to_string(r.declared_length) + "\r\n\r\n";
        if (!sendAll(c, head)) return;
        std::string block;
        while (block.size() < 65536)
          block += "blocked-" + std::to_string(block.size()) + ".example\n";
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", block.size());
        const std::string chunk = chunked ? size_line + block + "\r\n" : block;
        while (!stopped_.load() && sendAll(c, chunk)) streamed_ += block.size();
        break;
      }
      case Response::Body::kTrickle:
        head += "Content-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n";
        if (!sendAll(c, head)) return;
        while (!stopped_.load() && sendAll(c, "a")) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        break;
    }
    ::shutdown(c, SHUT_WR);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> streamed_{0};
  mutable std::mutex mu_;
  std::map<std::string, Handler> handlers_;
  std::vector<Request> log_;
  std::thread acceptor_;
  std::vector<std::thread> conns_;
};

}  // namespace cordon::feed::test
