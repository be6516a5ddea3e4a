#pragma once
// The evidence ledger writer (FORMAT.md): an append-only, hash-chained, Ed25519-checkpointed
// record of every enforcement event, optionally with the triggering packets in pcap files.
//
// Not thread-safe: one control-plane thread owns a Ledger. One process at a time may write
// a ledger directory (an flock on DIR/.lock). Every call reports failure through its return
// value and *err; after a write error the Ledger refuses further appends (the chain on disk
// is left ending at the last complete record) until it is reopened.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "control/evidence/crypto.h"

namespace cordon::evidence {

// When records reach the disk (write(2) always happens per record, so a crash of the process
// loses nothing; these bound what a crash of the machine can lose).
enum class FsyncPolicy {
  kNone,        // leave it to the kernel
  kCheckpoint,  // fsync at every checkpoint, rotation and close (default)
  kRecord,      // fsync after every record (slow; for low event rates)
};

struct LedgerOptions {
  std::string dir;                   // created (mode 0750) if missing
  std::string key_path;              // Ed25519 private key, PEM
  uint64_t checkpoint_every = 1000;  // a signed checkpoint after this many records (0: off)
  uint32_t checkpoint_seconds = 60;  // ... or when this much time has passed (0: off)
  bool packets = false;              // keep triggering packets in pcap files
  FsyncPolicy fsync = FsyncPolicy::kCheckpoint;
  uint64_t segment_bytes = 64ull << 20;  // rotate to a new segment file after this size
  // On open, a last record cut short by a crash is moved to ledger-NNNNNN.jsonl.torn-SEQ and
  // the chain continues (the "open" record says so); false refuses to open instead.
  bool recover_torn_tail = true;
  // Wall clock in ns since the Unix epoch; tests inject one. Default CLOCK_REALTIME.
  std::function<uint64_t()> clock;
};

class Ledger {
 public:
  // Opens (creating if needed) the ledger in opts.dir. An existing ledger must have been
  // created with the same key, and its last segment must verify; a broken ledger is refused
  // with an error naming the first bad record. nullptr with *err on failure.
  static std::unique_ptr<Ledger> open(const LedgerOptions& opts, std::string* err);

  // Writes the close checkpoint if close() was not called (errors are lost: call close()).
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends one event. `event_json` must be one JSON object (an EVE event line without its
  // newline). `packet` (may be empty) is the triggering frame, kept when opts.packets is set;
  // `packet_ts_ns` is its capture time for the pcap header (0: now). May write a checkpoint
  // or rotate the segment afterwards. False with *err on bad input or an I/O error.
  bool append(std::string_view event_json, std::span<const uint8_t> packet = {},
              uint64_t packet_ts_ns = 0, std::string* err = nullptr);

  // Writes a signed checkpoint now (reason "request"), fsyncs. No-op if nothing is pending.
  bool checkpoint(std::string* err);
  // Writes a "time" checkpoint if checkpoint_seconds have passed since the last one and
  // records are pending. Call it from the control loop (about once a second).
  bool tick(std::string* err);
  // Writes the "close" checkpoint, fsyncs and releases the directory. Idempotent.
  bool close(std::string* err);

  uint64_t nextSeq() const { return next_seq_; }
  const std::string& head() const { return head_; }
  const std::string& ledgerId() const { return ledger_id_; }
  const std::string& keyFingerprint() const { return fingerprint_; }
  uint64_t pending() const { return since_checkpoint_; }  // records not yet under a signature
  bool failed() const { return !failure_.empty(); }

 private:
  Ledger() = default;
  bool create(std::string* err);
  bool resume(std::string* err);
  bool openSegment(unsigned index, bool create, std::string* err);
  bool openPackets(uint64_t keep_bytes, std::string* err);
  bool writeRecord(std::string_view type, std::string_view body, std::string* err);
  bool writeCheckpoint(std::string_view reason, std::string* err);
  bool writeAll(int fd, std::string_view data, uint64_t* size, std::string* err);
  bool syncAll(std::string* err);
  bool fail(std::string* err, const std::string& why);
  uint64_t now() const;

  LedgerOptions opts_;
  PKey key_;
  std::string fingerprint_;
  std::string ledger_id_;
  int lock_fd_ = -1;
  int seg_fd_ = -1;
  unsigned seg_index_ = 0;
  uint64_t seg_size_ = 0;
  int pcap_fd_ = -1;
  uint64_t pcap_size_ = 0;
  uint64_t next_seq_ = 0;
  std::string head_;
  uint64_t since_checkpoint_ = 0;
  uint64_t last_checkpoint_ns_ = 0;
  std::string failure_;
  bool closed_ = false;
};

}  // namespace cordon::evidence
