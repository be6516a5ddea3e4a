#include "control/evidence/cli.h"

#include <iostream>
#include <string>
#include <vector>

#include "control/config.h"
#include "control/evidence/crypto.h"
#include "control/evidence/export.h"
#include "control/evidence/verify.h"

namespace cordon::evidence {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitBad = 1;
constexpr int kExitError = 2;
constexpr int kExitUnsealed = 3;

constexpr const char* kUsage =
    "usage: cordonctl evidence verify DIR [--pubkey PEM] [--allow-open]\n"
    "       cordonctl evidence export [DIR | --config FILE] --ref REF -o OUT [--pubkey PEM]\n"
    "       cordonctl evidence fingerprint PEM\n"
    "\n"
    "verify       checks the hash chain, every checkpoint signature and every kept packet of a\n"
    "             ledger directory or an export bundle, and names the first bad record.\n"
    "             --pubkey PEM pins the key (public or private PEM); without it the pubkey.pem\n"
    "             stored in DIR is used, which proves integrity only against someone who\n"
    "             cannot also replace that file.\n"
    "             exit: 0 intact and closed cleanly, 1 tampered (edit, deletion, reordering,\n"
    "             truncation, wrong key), 2 error, 3 intact but not closed cleanly: records\n"
    "             after the last signed checkpoint are unverified (the daemon is running or\n"
    "             crashed, or records were cut off); --allow-open turns 3 into 0.\n"
    "export       writes the bundle OUT for the events whose rule.ref is REF (the ledger dir\n"
    "             is DIR or the evidence.dir of --config FILE): their records and packets,\n"
    "             the chain between signed checkpoints with other events redacted to hashes,\n"
    "             the public key, a README and a standalone verifier. exit 0, 1 the ledger\n"
    "             does not verify or no event matches, 2 error.\n"
    "fingerprint  prints the SHA-256 pin of a key (of its DER public key) to record out of band.\n";

struct Args {
  std::vector<std::string> positional;
  std::string pubkey, ref, out, config;
  bool allow_open = false;
  bool help = false;
};

bool parseArgs(int argc, char** argv, int first, Args* a) {
  for (int i = first; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&](std::string* dst) {
      if (i + 1 >= argc) {
        std::cerr << "cordonctl evidence: " << s << " needs a value\n";
        return false;
      }
      *dst = argv[++i];
      return true;
    };
    if (s == "--help" || s == "-h") {
      a->help = true;
    } else if (s == "--pubkey") {
      if (!value(&a->pubkey)) return false;
    } else if (s == "--ref") {
      if (!value(&a->ref)) return false;
    } else if (s == "-o" || s == "--out" || s == "--output") {
      if (!value(&a->out)) return false;
    } else if (s == "--config" || s == "-c") {
      if (!value(&a->config)) return false;
    } else if (s == "--allow-open") {
      a->allow_open = true;
    } else if (s.size() > 1 && s[0] == '-') {
      std::cerr << "cordonctl evidence: unknown option '" << s << "'\n";
      return false;
    } else {
      a->positional.push_back(s);
    }
  }
  return true;
}

int runVerify(const Args& a) {
  if (a.positional.size() != 1) {
    std::cerr << "cordonctl evidence verify: expected one DIR\n" << kUsage;
    return kExitError;
  }
  VerifyOptions vo;
  vo.pubkey_path = a.pubkey;
  const VerifyResult r = verifyLedger(a.positional[0], vo);
  const std::string text = r.describe(a.positional[0]);
  switch (r.status) {
    case VerifyStatus::kSealed:
      std::cout << text;
      return kExitOk;
    case VerifyStatus::kUnsealed:
      (a.allow_open ? std::cout : std::cerr) << text;
      return a.allow_open ? kExitOk : kExitUnsealed;
    case VerifyStatus::kBroken:
      std::cerr << text;
      return kExitBad;
    case VerifyStatus::kError:
      std::cerr << "cordonctl evidence verify: " << text;
      return kExitError;
  }
  return kExitError;
}

int runExport(const Args& a) {
  std::string dir;
  if (a.positional.size() == 1 && a.config.empty()) {
    dir = a.positional[0];
  } else if (a.positional.empty() && !a.config.empty()) {
    try {
      dir = loadConfig(a.config).evidence.dir;
    } catch (const ConfigError& e) {
      std::cerr << e.what() << "\n";
      return kExitError;
    }
    if (dir.empty()) {
      std::cerr << a.config << ": no evidence section\n";
      return kExitError;
    }
  } else {
    std::cerr << "cordonctl evidence export: give the ledger DIR or --config FILE\n" << kUsage;
    return kExitError;
  }
  if (a.ref.empty() || a.out.empty()) {
    std::cerr << "cordonctl evidence export: --ref REF and -o OUT are required\n";
    return kExitError;
  }
  ExportStats st;
  std::string err;
  if (!exportCase(dir, a.ref, a.out, a.pubkey, &st, &err)) {
    std::cerr << "cordonctl evidence export: " << err << (err.ends_with("\n") ? "" : "\n");
    const bool bad = err.find("does not verify") != std::string::npos ||
                     err.find("no event with rule.ref") != std::string::npos;
    return bad ? kExitBad : kExitError;
  }
  std::cout << "exported " << st.matched << " event(s) for ref '" << a.ref << "' to " << a.out
            << ": records " << st.first_seq << ".." << st.last_seq << " (" << st.redacted
            << " other events redacted), " << st.packets << " packet(s)"
            << (st.sealed ? ", sealed by a signed checkpoint"
                          : "; WARNING: the last events are not yet under a signed checkpoint")
            << "\n";
  return kExitOk;
}

int runFingerprint(const Args& a) {
  if (a.positional.size() != 1) {
    std::cerr << "cordonctl evidence fingerprint: expected one PEM file\n";
    return kExitError;
  }
  std::string err;
  PKey k = loadPublicKey(a.positional[0], &err);
  if (!k) {
    std::cerr << "cordonctl evidence fingerprint: " << err << "\n";
    return kExitError;
  }
  std::cout << keyFingerprint(k.get()) << "\n";
  return kExitOk;
}

}  // namespace

int runEvidenceCommand(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitError;
  }
  const std::string sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  Args a;
  if (!parseArgs(argc, argv, 2, &a)) return kExitError;
  if (a.help) {
    std::cout << kUsage;
    return kExitOk;
  }
  if (sub == "verify") return runVerify(a);
  if (sub == "export") return runExport(a);
  if (sub == "fingerprint") return runFingerprint(a);
  std::cerr << "cordonctl evidence: unknown subcommand '" << sub << "'\n" << kUsage;
  return kExitError;
}

}  // namespace cordon::evidence
