#include "control/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace cordon {

const char* eventTypeName(EventType t) {
  switch (t) {
    case EventType::kBlock:
      return "block";
    case EventType::kRedirect:
      return "redirect";
    case EventType::kMonitor:
      return "monitor";
  }
  return "?";
}

const char* eventActionName(EventAction a) {
  switch (a) {
    case EventAction::kDrop:
      return "drop";
    case EventAction::kReset:
      return "reset";
    case EventAction::kRedirect:
      return "redirect";
    case EventAction::kNxdomain:
      return "nxdomain";
    case EventAction::kSinkhole:
      return "sinkhole";
    case EventAction::kRefused:
      return "refused";
    case EventAction::kPass:
      return "pass";
    case EventAction::kPage:
      return "page";
    case EventAction::kNodata:
      return "nodata";
  }
  return "?";
}

const char* appProtoName(AppProto a) {
  switch (a) {
    case AppProto::kDns:
      return "dns";
    case AppProto::kTls:
      return "tls";
    case AppProto::kQuic:
      return "quic";
    case AppProto::kHttp:
      return "http";
    case AppProto::kIp:
      return "ip";
  }
  return "?";
}

std::string formatTimestamp(uint64_t ns) {
  const time_t secs = static_cast<time_t>(ns / 1000000000ull);
  const unsigned micros = static_cast<unsigned>(ns % 1000000000ull / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, micros);
  return buf;
}

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 section 4: no overlongs, no
// surrogates, at most U+10FFFF), or 0 when the bytes there are not one.
size_t utf8Length(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = at(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size() || at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((at(i + k) & 0xc0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

void appendJsonEscaped(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b == '"' || b == '\\') {
      out->push_back('\\');
      out->push_back(s[i++]);
    } else if (b >= 0x20 && b < 0x7f) {
      out->push_back(s[i++]);
    } else if (const size_t n = b >= 0x80 ? utf8Length(s, i) : 0; n) {
      // Well-formed UTF-8 (a rule written in Unicode) goes through as is: JSON is Unicode.
      out->append(s.substr(i, n));
      i += n;
    } else {
      // Control characters, DEL and bytes that are not UTF-8 (packet data can be anything)
      // are written as \u00XX, so every line stays valid JSON.
      out->append("\\u00");
      out->push_back(kHex[b >> 4]);
      out->push_back(kHex[b & 15]);
      ++i;
    }
  }
}

namespace {

void field(std::string* out, const char* key, std::string_view value) {
  out->push_back('"');
  out->append(key);
  out->append("\":\"");
  appendJsonEscaped(value, out);
  out->push_back('"');
}

}  // namespace

void formatEvent(const EventRecord& e, std::string* out) {
  out->push_back('{');
  field(out, "timestamp", formatTimestamp(e.ts_ns));
  out->push_back(',');
  field(out, "event_type", eventTypeName(e.type));
  out->push_back(',');
  field(out, "action", eventActionName(e.action));
  out->push_back(',');
  field(out, "app_proto", appProtoName(e.app));
  out->push_back(',');
  field(out, "proto", e.ip_proto == 6 ? "TCP" : e.ip_proto == 17 ? "UDP" : "IP");
  out->push_back(',');
  field(out, "src_ip", ipToString(e.src));
  if (e.ip_proto == 6 || e.ip_proto == 17) out->append(",\"src_port\":" + std::to_string(e.sport));
  out->push_back(',');
  field(out, "dest_ip", ipToString(e.dst));
  if (e.ip_proto == 6 || e.ip_proto == 17) {
    out->append(",\"dest_port\":" + std::to_string(e.dport));
  }
  if (e.host_len) {
    out->push_back(',');
    field(out, "host", {e.host, e.host_len});
  }
  if (e.app == AppProto::kHttp && e.host_len) {
    out->push_back(',');
    std::string url = "http://";
    url.append(e.host, e.host_len);
    url.append(e.path, e.path_len);
    field(out, "url", url);
  }
  if (e.ech) out->append(",\"ech\":true");
  if (e.rule) {
    const rules::Rule& r = *e.rule;
    out->append(",\"rule\":{");
    field(out, "pattern", r.exception ? "@@" + std::string(r.pattern) : std::string(r.pattern));
    out->push_back(',');
    field(out, "list", r.list());
    out->push_back(',');
    field(out, "id", r.id);
    if (!r.ref.empty()) {
      out->push_back(',');
      field(out, "ref", r.ref);
    }
    out->push_back('}');
  }
  out->push_back('}');
}

EventLog::~EventLog() {
  if (f_) std::fflush(f_);
  if (owned_ && f_) std::fclose(f_);
}

void EventLog::open(const std::string& path) {
  if (path == "-") {
    f_ = stdout;
    owned_ = false;
    return;
  }
  // 0640: events name subscribers' addresses; not for every local user.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  f_ = fd >= 0 ? ::fdopen(fd, "w") : nullptr;
  if (!f_) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(path + ": cannot open event log: " + std::strerror(errno));
  }
  owned_ = true;
  path_ = path;
}

bool EventLog::reopen() {
  if (!owned_ || !f_) return true;
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  FILE* next = fd >= 0 ? ::fdopen(fd, "a") : nullptr;
  if (!next) {
    if (fd >= 0) ::close(fd);
    return false;
  }
  std::fclose(f_);
  f_ = next;
  std::fseek(f_, 0, SEEK_END);
  size_ = static_cast<uint64_t>(std::max(0L, std::ftell(f_)));
  return true;
}

void EventLog::write(const EventRecord& e) {
  if (!f_) return;
  line_.clear();
  formatEvent(e, &line_);
  line_.push_back('\n');
  if (max_bytes_ && owned_ && size_ + line_.size() > max_bytes_ && size_ > 0) rotate();
  std::fwrite(line_.data(), 1, line_.size(), f_);
  size_ += line_.size();
  ++written_;
}

void EventLog::rotate() {
  std::fflush(f_);
  // PATH.keep is dropped; PATH.k -> PATH.k+1; PATH -> PATH.1 (rename is atomic per step, so a
  // reader never sees a half-rotated file).
  std::remove((path_ + "." + std::to_string(keep_)).c_str());
  for (unsigned k = keep_; k > 1; --k) {
    std::rename((path_ + "." + std::to_string(k - 1)).c_str(),
                (path_ + "." + std::to_string(k)).c_str());
  }
  std::rename(path_.c_str(), (path_ + ".1").c_str());
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  FILE* next = fd >= 0 ? ::fdopen(fd, "w") : nullptr;
  if (!next) {
    // Keep writing to the renamed file rather than lose events.
    if (fd >= 0) ::close(fd);
    return;
  }
  std::fclose(f_);
  f_ = next;
  size_ = 0;
  ++rotations_;
}

void EventLog::flush() {
  if (f_) std::fflush(f_);
}

}  // namespace cordon
