#pragma once
// Internals shared by the list readers in rules/formats/ (one file per format); the public
// interface is rules/formats.h. Control plane only.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/formats.h"

namespace cordon::rules::fmt {

// Bytes read per refill of a streamed list file.
inline constexpr size_t kReadChunk = size_t{1} << 20;

constexpr bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// ASCII lower case.
std::string lowerCopy(std::string_view s);
bool equalsNoCase(std::string_view a, std::string_view lower);
// Splits on runs of whitespace.
std::vector<std::string_view> tokens(std::string_view s);
// 'text' for an error message, cut at 80 bytes.
std::string quote(std::string_view s);

// Lines of a list, from memory or streamed from a file, with the caps of formats.h.
class LineReader {
 public:
  LineReader(std::string_view mem, EntrySink* sink) : mem_(mem), sink_(sink), eof_(true) {}
  LineReader(int fd, EntrySink* sink) : fd_(fd), sink_(sink) {}

  // Up to n bytes from the current position, without consuming them.
  std::string_view peek(size_t n) {
    if (fd_ >= 0) fill(n);
    const std::string_view d = data();
    return d.substr(0, std::min(n, d.size()));
  }

  // The next line without its "\n" or "\r\n". Lines over kMaxLineBytes and lines holding a
  // NUL byte are reported to the sink and skipped.
  bool next(std::string_view* line);
  uint32_t lineNo() const { return line_no_; }

 private:
  std::string_view data() const {
    return fd_ >= 0 ? std::string_view(buf_).substr(pos_) : mem_.substr(pos_);
  }

  // Reads until at least `want` unconsumed bytes are buffered or the file ends.
  void fill(size_t want);

  // Drops bytes up to and including the next '\n' (an over-long line), without keeping them.
  void skipRestOfLine();

  std::string_view mem_;
  int fd_ = -1;
  EntrySink* sink_;
  bool eof_ = false;
  std::string buf_;
  size_t pos_ = 0;
  uint32_t line_no_ = 0;
};

// One reader per format (rules/formats/<format>.cc).
void readNative(LineReader& r, EntrySink* sink);
void readHosts(LineReader& r, EntrySink* sink);
void readAdguard(LineReader& r, EntrySink* sink);
void readRpz(LineReader& r, EntrySink* sink);
void readCsv(LineReader& r, const CsvOptions& opt, EntrySink* sink);
void readFeed(LineReader& r, EntrySink* sink);

// A first line such as "id,domain,url,ip,reference" (format detection).
bool isCsvHeader(std::string_view line);

// Entry fields shared by the CSV and feed readers (entry_fields.cc).
// Applies an entry `action` value. False (with *why) when unknown.
bool applyAction(std::string_view value, Entry* e, std::string* why);
// False (with *why) when valid_until is not after valid_from.
bool checkWindow(const Entry& e, std::string* why);
// Parses one pattern in the native syntax into e->rule, keeping entry-level flags.
bool parsePattern(std::string_view text, Entry* e, std::string* why);

}  // namespace cordon::rules::fmt
