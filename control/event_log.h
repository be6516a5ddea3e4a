#pragma once
// The EVE-style event log (ARCHITECTURE.md "Event log"): one JSON object per line per
// enforcement decision, drained from the workers' event rings by the control plane.

#include <cstdio>
#include <string>

#include "dataplane/act/event.h"

namespace cordon {

// Appends the JSON object for `e` (no trailing newline) to *out.
void formatEvent(const EventRecord& e, std::string* out);

// ISO-8601 UTC with microseconds: "2026-11-23T20:00:00.123456Z".
std::string formatTimestamp(uint64_t ns);

// Appends JSON string escaping of `s` (without quotes) to *out.
void appendJsonEscaped(std::string_view s, std::string* out);

class EventLog {
 public:
  EventLog() = default;
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Opens `path` for appending ("-" is stdout). Throws std::runtime_error naming the file.
  void open(const std::string& path);
  bool isOpen() const { return f_ != nullptr; }
  // Size-based rotation: once the file exceeds max_bytes, it becomes PATH.1 (PATH.1 becomes
  // PATH.2, ... up to PATH.keep, the oldest is removed) and a new PATH is started. 0: never.
  void setRotation(uint64_t max_bytes, unsigned keep) {
    max_bytes_ = max_bytes;
    keep_ = keep;
  }
  uint64_t rotations() const { return rotations_; }
  // Closes and reopens the same path for appending (after an external rotation, on SIGHUP).
  // A failure keeps the old stream and returns false.
  bool reopen();
  void write(const EventRecord& e);
  void flush();
  uint64_t written() const { return written_; }

 private:
  FILE* f_ = nullptr;
  bool owned_ = false;
  std::string path_;
  uint64_t max_bytes_ = 0;
  unsigned keep_ = 5;
  uint64_t size_ = 0;  // bytes in the current file
  uint64_t rotations_ = 0;
  void rotate();
  std::string line_;
  uint64_t written_ = 0;
};

}  // namespace cordon
