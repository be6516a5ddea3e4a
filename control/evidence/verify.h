#pragma once
// Verification of a ledger directory or an export bundle (FORMAT.md "Verification").

#include <openssl/evp.h>

#include <cstdint>
#include <functional>
#include <string>

#include "control/evidence/record.h"

namespace cordon::evidence {

enum class VerifyStatus {
  kSealed,    // chain intact and ends with a signed checkpoint that closes it (a ledger: the
              // "close" checkpoint of a clean shutdown; a bundle: any checkpoint)
  kUnsealed,  // chain intact so far, but the tail is not covered by a closing checkpoint:
              // the writer is running or crashed, or records after the last checkpoint
              // were removed. Records after the last checkpoint are unverified.
  kBroken,    // a record is altered, missing, reordered, truncated or wrongly signed
  kError,     // cannot verify at all (no such directory, no usable public key)
};

// One record that passed every check, in chain order (for export and tests).
struct RecordView {
  const ParsedRecord& record;
  std::string_view line;       // exactly as stored, without newline
  std::string_view file;       // segment (or records.jsonl) it was read from
  std::string packet_path;     // the pcap file holding its packet ("" when none)
  uint64_t packet_offset = 0;  // offset of the pcap record header in packet_path
};

struct VerifyOptions {
  // Public key to check signatures with: `key` if set, else the PEM file `pubkey_path`,
  // else the pubkey.pem stored in the directory.
  EVP_PKEY* key = nullptr;
  std::string pubkey_path;
  // Only the genesis record and the last segment (what Ledger::open checks before it
  // appends); the first record of the last segment is trusted as the chain anchor.
  bool tail_only = false;
  // Called for each good record; returning false stops verification with kError and the
  // message in *err.
  std::function<bool(const RecordView&, std::string* err)> on_record;
};

struct VerifyResult {
  VerifyStatus status = VerifyStatus::kError;
  bool bundle = false;
  std::string error;  // kError: why

  // kBroken: the first bad record, where it is and why.
  uint64_t bad_seq = 0;
  std::string bad_where;  // "ledger-000001.jsonl:18"
  std::string reason;
  // kBroken only because the final line of the last segment is cut short (no newline):
  // byte offset where that partial line starts.
  bool torn_tail = false;
  uint64_t torn_offset = 0;

  uint64_t records = 0;  // records that verified
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;  // seq of the last good record
  std::string head;       // hash of the last good record
  uint64_t checkpoints = 0;
  bool has_checkpoint = false;
  uint64_t last_checkpoint_seq = 0;
  std::string last_checkpoint_reason;
  uint64_t unsealed = 0;          // good records after the last checkpoint
  uint64_t unclean_restarts = 0;  // "open" records saying the previous run did not close
  uint64_t events = 0;
  uint64_t redacted = 0;
  uint64_t packets = 0;

  std::string ledger_id;
  std::string key_fingerprint;  // of the key signatures were checked with
  std::string key_source;       // where that key came from

  // Ledger directories: the last segment and, for Ledger::open, the end of the last packet
  // its records reference in that segment's pcap (0: none).
  unsigned last_segment = 0;
  uint64_t packets_end = 0;

  // Human-readable report, several lines, ending with a newline.
  std::string describe(const std::string& path) const;
};

// Verifies the ledger directory or export bundle (a directory holding bundle.json) at `path`.
VerifyResult verifyLedger(const std::string& path, const VerifyOptions& opts = {});

}  // namespace cordon::evidence
