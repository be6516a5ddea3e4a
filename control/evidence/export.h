#pragma once
// Export of the evidence for one court order / case (FORMAT.md "Export bundles").

#include <cstdint>
#include <string>
#include <vector>

namespace cordon::evidence {

struct ExportStats {
  uint64_t matched = 0;    // events whose rule.ref is the reference
  uint64_t first_seq = 0;  // the chain range in the bundle
  uint64_t last_seq = 0;
  uint64_t redacted = 0;  // other events, reduced to their hashes
  uint64_t packets = 0;
  bool sealed = false;  // the range ends at a signed checkpoint
};

// Verifies the ledger in `dir` and writes a bundle directory `out_dir` (which must not exist
// or be empty) holding the records of events whose rule.ref equals `ref`, the chain between
// signed checkpoints around them (other events redacted to their hashes), their packets,
// the public key, a README and a standalone verifier script. `pubkey_path` ("" = the ledger's
// pubkey.pem) is the key the ledger is verified with. False with *err when the ledger does
// not verify, no event matches, or a file cannot be written.
bool exportCase(const std::string& dir, const std::string& ref, const std::string& out_dir,
                const std::string& pubkey_path, ExportStats* stats, std::string* err);

}  // namespace cordon::evidence
