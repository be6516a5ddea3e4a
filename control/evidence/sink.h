#pragma once
// EvidenceSink: what cordond feeds the evidence ledger with. It takes the same EventRecord
// the event log gets (rendered with formatEvent(), so the ledger holds exactly the EVE line
// the log holds) plus, when the dataplane hands it over, the triggering packet's bytes.
//
// Failure policy: enforcement never waits on evidence. A failed append is counted and its
// error kept for the log and metrics; the ledger stops accepting records after an I/O
// error it cannot undo (Ledger::failed()), and cordond keeps enforcing.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "control/config.h"
#include "control/evidence/ledger.h"
#include "dataplane/act/event.h"

namespace cordon::evidence {

// The ledger options a config section asks for.
LedgerOptions ledgerOptions(const EvidenceConfig& cfg);

// For `cordond --check`: the key loads and is Ed25519. False with *err otherwise.
bool checkEvidenceConfig(const EvidenceConfig& cfg, std::string* err);

class EvidenceSink {
 public:
  // Opens (or continues) the ledger configured in `cfg`. nullptr with *err on failure
  // (missing or bad key, a broken ledger, another writer).
  static std::unique_ptr<EvidenceSink> open(const EvidenceConfig& cfg, std::string* err);

  // Appends one event with its triggering frame (empty span: none). Returns false (and
  // counts a failure) if the record could not be written; lastError() says why.
  bool record(const EventRecord& e, std::span<const uint8_t> packet = {});
  // Periodic work (time-based checkpoints); call about once a second.
  void poll();
  // The close checkpoint; call at shutdown. False with *err on failure.
  bool close(std::string* err);

  uint64_t recorded() const { return recorded_; }
  uint64_t failures() const { return failures_; }
  const std::string& lastError() const { return last_error_; }
  Ledger& ledger() { return *ledger_; }

 private:
  explicit EvidenceSink(std::unique_ptr<Ledger> l) : ledger_(std::move(l)) {}
  std::unique_ptr<Ledger> ledger_;
  std::string line_;
  uint64_t recorded_ = 0;
  uint64_t failures_ = 0;
  std::string last_error_;
};

}  // namespace cordon::evidence
