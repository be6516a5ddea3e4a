// Rule-list formats: detection and dispatch to the reader of each format
// (rules/formats/<format>.cc), the public entry points of rules/formats.h, and feed times.

#include "rules/formats.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "rules/formats/reader.h"

namespace cordon::rules {
namespace {

using fmt::isCsvHeader;
using fmt::LineReader;
using fmt::lowerCopy;
using fmt::tokens;
using fmt::trim;

// Bytes of a list looked at by detectFormat() and the binary check.
constexpr size_t kHeadBytes = 64 << 10;
// Meaningful lines of the head detectFormat() weighs.
constexpr int kDetectLines = 50;

// ---- detection -----------------------------------------------------------------------------

ListFormat parseWith(LineReader& r, ListFormat f, const CsvOptions& csv, EntrySink* sink) {
  // The caller has dropped a UTF-8 byte-order mark.
  const std::string_view head = r.peek(kHeadBytes);
  if (const void* z = std::memchr(head.data(), 0, std::min(head.size(), size_t{4096}))) {
    sink->error(0, "not a text file (NUL byte at offset " +
                       std::to_string(static_cast<const char*>(z) - head.data()) + ")");
    return f;
  }
  CsvOptions guessed;
  const CsvOptions* csv_opts = &csv;
  if (f == ListFormat::kAuto) {
    f = detectFormat(head);
    if (f == ListFormat::kCsv && csv.columns.empty()) {
      // Detected by its header: take the separator the header uses.
      const std::string_view first = head.substr(0, head.find('\n'));
      guessed = csv;
      guessed.header = true;
      if (first.find(',') == std::string_view::npos) guessed.separator = ';';
      csv_opts = &guessed;
    }
  }
  switch (f) {
    case ListFormat::kAuto:
    case ListFormat::kList:
      fmt::readNative(r, sink);
      break;
    case ListFormat::kHosts:
      fmt::readHosts(r, sink);
      break;
    case ListFormat::kRpz:
      fmt::readRpz(r, sink);
      break;
    case ListFormat::kAdguard:
      fmt::readAdguard(r, sink);
      break;
    case ListFormat::kCsv:
      fmt::readCsv(r, *csv_opts, sink);
      break;
    case ListFormat::kFeed:
      fmt::readFeed(r, sink);
      break;
  }
  return f;
}

}  // namespace

std::string_view formatName(ListFormat f) {
  switch (f) {
    case ListFormat::kAuto:
      return "auto";
    case ListFormat::kList:
      return "list";
    case ListFormat::kHosts:
      return "hosts";
    case ListFormat::kRpz:
      return "rpz";
    case ListFormat::kAdguard:
      return "adguard";
    case ListFormat::kCsv:
      return "csv";
    case ListFormat::kFeed:
      return "feed";
  }
  return "?";
}

bool parseFormatName(std::string_view name, ListFormat* out) {
  for (ListFormat f : {ListFormat::kAuto, ListFormat::kList, ListFormat::kHosts, ListFormat::kRpz,
                       ListFormat::kAdguard, ListFormat::kCsv, ListFormat::kFeed}) {
    if (formatName(f) == name) {
      *out = f;
      return true;
    }
  }
  return false;
}

ListFormat detectFormat(std::string_view head) {
  if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
  int lines = 0;
  int hosts = 0;
  int adguard = 0;
  int rpz = 0;
  int other = 0;
  size_t pos = 0;
  bool first = true;
  while (pos < head.size() && lines < kDetectLines) {
    size_t end = head.find('\n', pos);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view raw = head.substr(pos, end - pos);
    pos = end + 1;
    const std::string_view t = trim(raw);
    if (t.empty()) continue;
    if (t.starts_with("[Adblock") || t.starts_with("[uBlock") || t.front() == '!') {
      ++adguard;
      continue;
    }
    if (t.front() == '#' || t.front() == ';') {
      continue;
    }
    ++lines;
    if (first) {
      first = false;
      // Feeds announce themselves on the first meaningful line.
      if (t.front() == '{' || t == "---" || t.starts_with("entries:") ||
          t.starts_with("version:") || t.starts_with("feed:")) {
        return ListFormat::kFeed;
      }
    }
    if (t.front() == '$') {
      const std::string d = lowerCopy(t.substr(0, t.find_first_of(" \t")));
      if (d == "$origin" || d == "$ttl") ++rpz;
      continue;
    }
    const std::vector<std::string_view> tk = tokens(t.substr(0, t.find(';')));
    bool is_rr = false;
    for (size_t k = 1; k < tk.size() && k < 5; ++k) {
      const std::string ty = lowerCopy(tk[k]);
      if (ty == "soa" || ty == "cname" || ty == "ns") is_rr = true;
    }
    if (is_rr) {
      ++rpz;
      continue;
    }
    if (t.starts_with("||") || t.starts_with("@@||")) {
      ++adguard;
      continue;
    }
    if (lines == 1 && isCsvHeader(t)) return ListFormat::kCsv;
    IpAddr ip;
    if (tk.size() >= 2 && tk[1].front() != '#' && parseIp(std::string(tk[0]), &ip)) {
      ++hosts;
      continue;
    }
    ++other;
  }
  if (rpz > 0 && rpz >= hosts && rpz >= adguard) return ListFormat::kRpz;
  if (adguard > other && adguard >= hosts) return ListFormat::kAdguard;
  if (hosts > other) return ListFormat::kHosts;
  return ListFormat::kList;
}

ListFormat parseList(std::string_view content, ListFormat f, const CsvOptions& csv,
                     EntrySink* sink) {
  if (content.starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);
  LineReader r(content, sink);
  return parseWith(r, f, csv, sink);
}

ListFormat readList(const std::string& path, ListFormat f, const CsvOptions& csv, EntrySink* sink) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    sink->error(0, std::strerror(errno));
    return f;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    sink->error(0, std::strerror(S_ISDIR(st.st_mode) ? EISDIR : errno));
    ::close(fd);
    return f;
  }
  // A BOM is dropped by peeking it and skipping 3 bytes with a read.
  char bom[3];
  const ssize_t n = ::pread(fd, bom, 3, 0);
  if (n == 3 && std::memcmp(bom, "\xEF\xBB\xBF", 3) == 0) {
    if (::lseek(fd, 3, SEEK_SET) != 3) {
      sink->error(0, std::strerror(errno));
      ::close(fd);
      return f;
    }
  }
  LineReader r(fd, sink);
  const ListFormat used = parseWith(r, f, csv, sink);
  ::close(fd);
  return used;
}

bool parseTime(std::string_view text, int64_t* out) {
  std::string_view s = trim(text);
  if (s.empty()) return false;
  const auto digits = [](std::string_view d, int* v) {
    if (d.empty()) return false;
    *v = 0;
    for (char c : d) {
      if (c < '0' || c > '9') return false;
      *v = *v * 10 + (c - '0');
    }
    return true;
  };
  // Unix seconds.
  if (s.find_first_not_of("0123456789") == std::string_view::npos ||
      (s.front() == '-' && s.size() > 1 &&
       s.substr(1).find_first_not_of("0123456789") == std::string_view::npos)) {
    if (s.size() > 18) return false;
    *out = std::stoll(std::string(s));
    return true;
  }
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !digits(s.substr(0, 4), &y) ||
      !digits(s.substr(5, 2), &mo) || !digits(s.substr(8, 2), &d)) {
    return false;
  }
  int64_t offset = 0;
  if (s.size() > 10) {
    const char sep = s[10];
    if (sep != 'T' && sep != 't' && sep != ' ') return false;
    std::string_view t = s.substr(11);
    if (t.size() < 8 || t[2] != ':' || t[5] != ':' || !digits(t.substr(0, 2), &h) ||
        !digits(t.substr(3, 2), &mi) || !digits(t.substr(6, 2), &sec)) {
      return false;
    }
    t.remove_prefix(8);
    if (!t.empty() && t.front() == '.') {
      size_t k = 1;
      while (k < t.size() && t[k] >= '0' && t[k] <= '9') ++k;
      if (k == 1) return false;
      t.remove_prefix(k);
    }
    if (t == "Z" || t == "z") {
      offset = 0;
    } else if (t.size() == 6 && (t[0] == '+' || t[0] == '-') && t[3] == ':') {
      int oh, om;
      if (!digits(t.substr(1, 2), &oh) || !digits(t.substr(4, 2), &om) || oh > 23 || om > 59) {
        return false;
      }
      offset = (oh * 3600 + om * 60) * (t[0] == '-' ? -1 : 1);
    } else {
      return false;  // a time without a zone is ambiguous
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const time_t t = ::timegm(&tm);
  if (tm.tm_mday != d) return false;  // 2026-02-30 normalised into March
  *out = static_cast<int64_t>(t) - offset;
  return true;
}

std::string formatTime(int64_t t) {
  if (t == kNoTimeBound) return "-inf";
  if (t == kForever) return "never";
  const time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace cordon::rules
