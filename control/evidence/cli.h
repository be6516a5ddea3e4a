#pragma once
// `cordonctl evidence ...`: verify a ledger or bundle, export one case, print a key's pin.

namespace cordon::evidence {

// argv[0] is "evidence". Exit status: verify 0 intact and closed (a bundle: sealed),
// 1 tampered (the first bad record is named), 2 usage or I/O error, 3 intact but not closed
// cleanly (unsigned tail; 0 with --allow-open); export 0 written, 1 the ledger does not
// verify or no event matches, 2 usage or I/O error.
int runEvidenceCommand(int argc, char** argv);

}  // namespace cordon::evidence
