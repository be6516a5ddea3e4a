#pragma once
// The ledger's record format (FORMAT.md): one JSON object per line,
//
//   {"seq":N,"time":"T","type":"event|checkpoint|genesis|open","prev":"HEX","body":{...}}
//
// and, in export bundles only, redacted event records whose body is replaced by its hash:
//
//   {"seq":N,"time":"T","type":"event","prev":"HEX","body_sha256":"HEX"}
//
// The record hash is taken over the header fields and the SHA-256 of the body's exact bytes,
// so a redacted record hashes to the same value as the full one and the chain survives
// redaction. Writers and readers share these functions so they cannot drift apart.

#include <cstdint>
#include <string>
#include <string_view>

#include "control/evidence/json.h"

namespace cordon::evidence {

inline constexpr std::string_view kFormatName = "cordon-evidence/1";
inline constexpr std::string_view kBundleFormatName = "cordon-evidence-bundle/1";
// prev of the genesis record.
inline constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

inline constexpr std::string_view kTypeGenesis = "genesis";
inline constexpr std::string_view kTypeOpen = "open";
inline constexpr std::string_view kTypeEvent = "event";
inline constexpr std::string_view kTypeCheckpoint = "checkpoint";

struct RecordHeader {
  uint64_t seq = 0;
  std::string time;  // ledger (wall-clock) time, formatTime()
  std::string type;
  std::string prev;  // hash of record seq-1 (kZeroHash for genesis)
};

// SHA-256 (hex) of "cordon-evidence/1\n<seq>\n<time>\n<type>\n<prev>\n<body_sha256>\n".
std::string recordHash(const RecordHeader& h, std::string_view body_sha256);

// The message a checkpoint's Ed25519 signature covers:
// "cordon-evidence/1 checkpoint\n<ledger>\n<seq>\n<time>\n<prev>\n<reason>\n".
// prev is the head of the chain: the hash of every record before the checkpoint.
std::string checkpointMessage(std::string_view ledger_id, uint64_t seq, std::string_view time,
                              std::string_view prev, std::string_view reason);

// One record line, without the newline.
std::string formatLine(const RecordHeader& h, std::string_view body_json);
std::string formatRedactedLine(const RecordHeader& h, std::string_view body_sha256);

// ISO-8601 UTC with microseconds: "2026-11-23T20:00:00.123456Z".
std::string formatTime(uint64_t ns);

struct ParsedRecord {
  RecordHeader header;
  json::Value root;
  const json::Value* body = nullptr;  // nullptr when redacted
  std::string body_sha256;
  bool redacted = false;
};

// Parses one line (without newline) and checks it is laid out exactly as formatLine() or
// formatRedactedLine() writes it. `line` must outlive *out (json raw views point into it).
bool parseRecordLine(std::string_view line, ParsedRecord* out, std::string* err);

// "ledger-000001.jsonl" / "packets-000001.pcap" for segment 1.
std::string segmentName(unsigned index);
std::string packetsName(unsigned index);
// The index of a segment file name, or 0 if `name` is not one.
unsigned segmentIndex(std::string_view name);
// True for a well-formed packets file name (no path components).
bool isPacketsName(std::string_view name);

}  // namespace cordon::evidence
