// Text helpers and the line reader shared by the list readers.

#include "rules/formats/reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cordon::rules::fmt {

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

bool equalsNoCase(std::string_view a, std::string_view lower) {
  return a.size() == lower.size() && lowerCopy(a) == lower;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && isSpace(s[i])) ++i;
    const size_t start = i;
    while (i < s.size() && !isSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string quote(std::string_view s) {
  constexpr size_t kShown = 80;  // an error names the token, not a whole megabyte of it
  if (s.size() > kShown) return "'" + std::string(s.substr(0, kShown)) + "...'";
  return "'" + std::string(s) + "'";
}

bool LineReader::next(std::string_view* line) {
  for (;;) {
    std::string_view d = data();
    size_t nl = d.find('\n');
    while (nl == std::string_view::npos && !eof_ && d.size() <= kMaxLineBytes) {
      fill(d.size() + kReadChunk);
      d = data();
      nl = d.find('\n');
    }
    if (nl == std::string_view::npos && d.empty()) return false;
    ++line_no_;
    const size_t len = nl == std::string_view::npos ? d.size() : nl;
    if (len > kMaxLineBytes) {
      sink_->error(line_no_, "line longer than " + std::to_string(kMaxLineBytes) + " bytes");
      skipRestOfLine();
      continue;
    }
    std::string_view l = d.substr(0, len);
    pos_ += nl == std::string_view::npos ? len : len + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (const void* z = std::memchr(l.data(), 0, l.size())) {
      sink_->error(line_no_, "binary data (NUL byte at column " +
                                 std::to_string(static_cast<const char*>(z) - l.data() + 1) + ")");
      continue;
    }
    *line = l;
    return true;
  }
}

void LineReader::fill(size_t want) {
  if (fd_ < 0 || eof_) return;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  while (buf_.size() < want && !eof_) {
    const size_t old = buf_.size();
    buf_.resize(old + kReadChunk);
    const ssize_t n = ::read(fd_, buf_.data() + old, kReadChunk);
    if (n < 0 && errno == EINTR) {
      buf_.resize(old);
      continue;
    }
    if (n < 0) {
      buf_.resize(old);
      sink_->error(0, std::string("read error: ") + std::strerror(errno));
      eof_ = true;
      break;
    }
    buf_.resize(old + static_cast<size_t>(n));
    if (n == 0) eof_ = true;
  }
}

void LineReader::skipRestOfLine() {
  for (;;) {
    const std::string_view d = data();
    const size_t nl = d.find('\n');
    if (nl != std::string_view::npos) {
      pos_ += nl + 1;
      return;
    }
    pos_ += d.size();
    if (eof_) return;
    fill(kReadChunk);
  }
}

}  // namespace cordon::rules::fmt
