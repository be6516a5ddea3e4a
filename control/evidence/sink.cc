#include "control/evidence/sink.h"

#include "control/event_log.h"

namespace cordon::evidence {

LedgerOptions ledgerOptions(const EvidenceConfig& cfg) {
  LedgerOptions o;
  o.dir = cfg.dir;
  o.key_path = cfg.key;
  o.checkpoint_every = cfg.checkpoint_every;
  o.checkpoint_seconds = cfg.checkpoint_seconds;
  o.packets = cfg.packets;
  o.fsync = cfg.fsync == "none"     ? FsyncPolicy::kNone
            : cfg.fsync == "record" ? FsyncPolicy::kRecord
                                    : FsyncPolicy::kCheckpoint;
  return o;
}

bool checkEvidenceConfig(const EvidenceConfig& cfg, std::string* err) {
  if (!cfg.enabled()) return true;
  return loadPrivateKey(cfg.key, err) != nullptr;
}

std::unique_ptr<EvidenceSink> EvidenceSink::open(const EvidenceConfig& cfg, std::string* err) {
  std::unique_ptr<Ledger> l = Ledger::open(ledgerOptions(cfg), err);
  if (!l) return nullptr;
  return std::unique_ptr<EvidenceSink>(new EvidenceSink(std::move(l)));
}

bool EvidenceSink::record(const EventRecord& e, std::span<const uint8_t> packet) {
  line_.clear();
  formatEvent(e, &line_);
  if (!ledger_->append(line_, packet, e.ts_ns, &last_error_)) {
    ++failures_;
    return false;
  }
  ++recorded_;
  return true;
}

void EvidenceSink::poll() {
  if (ledger_->failed()) return;  // already counted and reported
  std::string err;
  if (!ledger_->tick(&err)) {
    ++failures_;
    last_error_ = err;
  }
}

bool EvidenceSink::close(std::string* err) {
  return ledger_->close(err);
}

}  // namespace cordon::evidence
