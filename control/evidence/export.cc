#include "control/evidence/export.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "control/evidence/crypto.h"
#include "control/evidence/json.h"
#include "control/evidence/record.h"
#include "control/evidence/verify.h"

namespace cordon::evidence {
namespace {

namespace fs = std::filesystem;

// The standalone verifier (verify_evidence.py), embedded at build time.
constexpr const char* kVerifyScript =
#include "control/evidence/verify_script.inc"
    ;

constexpr const char* kReadme =
    "cordon evidence bundle\n"
    "======================\n"
    "\n"
    "This directory is an export of a cordon evidence ledger for one court order or case\n"
    "reference (see bundle.json 'ref'). It holds:\n"
    "\n"
    "  records.jsonl      the ledger records from a signed checkpoint (or the ledger's genesis)\n"
    "                     before the first event of this case to the first signed checkpoint\n"
    "                     after the last one. Events of this case are complete; every other\n"
    "                     event is redacted to the SHA-256 of its body, which keeps the hash\n"
    "                     chain verifiable without disclosing other cases.\n"
    "  packets.pcap       the triggering packets of this case's events (if the ledger kept\n"
    "                     packets); each record holds the SHA-256 of its packet.\n"
    "  bundle.json        what was exported, and where each packet sits in packets.pcap\n"
    "                     (a locator only: every fact is checked against records.jsonl).\n"
    "  pubkey.pem         the Ed25519 public key the operator's checkpoints are signed with.\n"
    "  verify_evidence.py a standalone verifier (Python 3 and the openssl command).\n"
    "\n"
    "How to verify\n"
    "-------------\n"
    "1. Pin the key. pubkey.pem travels with the data, so on its own it proves nothing: get\n"
    "   the operator's key fingerprint through another channel (the court file, a signed\n"
    "   letter) and compare it with\n"
    "       openssl pkey -pubin -in pubkey.pem -outform DER | sha256sum\n"
    "   (bundle.json 'key' and every checkpoint's 'key' hold the same fingerprint).\n"
    "2. Verify the chain and signatures, with either tool:\n"
    "       python3 verify_evidence.py . --pubkey pubkey.pem --fingerprint FINGERPRINT\n"
    "       cordonctl evidence verify . --pubkey pubkey.pem\n"
    "   Both exit 0 when every record links to the one before it by SHA-256, the first and\n"
    "   last records are checkpoints whose Ed25519 signatures verify, and every packet matches\n"
    "   the hash its record holds. Any edit, deletion, reordering or truncation makes them exit\n"
    "   non-zero and name the first bad record.\n"
    "\n"
    "Record format: see FORMAT.md in the cordon sources (control/evidence/FORMAT.md).\n"
    "Record hash = SHA-256 of \"cordon-evidence/1\\n<seq>\\n<time>\\n<type>\\n<prev>\\n"
    "<SHA-256 of the body bytes>\\n\".\n"
    "A checkpoint signs \"cordon-evidence/1 checkpoint\\n<ledger>\\n<seq>\\n<time>\\n<prev>\\n"
    "<reason>\\n\".\n";

bool writeFile(const fs::path& p, std::string_view data, std::string* err) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) {
    *err = p.string() + ": cannot write: " + std::strerror(errno);
    return false;
  }
  return true;
}

bool eventRef(const ParsedRecord& rec, std::string* ref) {
  if (rec.redacted || rec.header.type != kTypeEvent || !rec.body) return false;
  const json::Value* ev = rec.body->get("event");
  const json::Value* rule = ev ? ev->get("rule") : nullptr;
  const json::Value* r = rule ? rule->get("ref") : nullptr;
  if (!r || !r->isString()) return false;
  *ref = r->str;
  return true;
}

bool isAnchor(const ParsedRecord& rec) {
  return rec.header.type == kTypeCheckpoint || rec.header.type == kTypeGenesis;
}

}  // namespace

bool exportCase(const std::string& dir, const std::string& ref, const std::string& out_dir,
                const std::string& pubkey_path, ExportStats* stats, std::string* err) {
  ExportStats st;
  if (ref.empty()) {
    *err = "export needs a non-empty --ref";
    return false;
  }
  // Pass 1: verify, and find the case's events and the signed anchors around them.
  std::vector<uint64_t> anchors;
  std::vector<uint64_t> matched;
  VerifyOptions vo;
  vo.pubkey_path = pubkey_path;
  vo.on_record = [&](const RecordView& v, std::string*) {
    std::string r;
    if (isAnchor(v.record)) anchors.push_back(v.record.header.seq);
    if (eventRef(v.record, &r) && r == ref) matched.push_back(v.record.header.seq);
    return true;
  };
  VerifyResult res = verifyLedger(dir, vo);
  if (res.bundle) {
    *err = dir + ": is an export bundle, not a ledger directory";
    return false;
  }
  if (res.status != VerifyStatus::kSealed && res.status != VerifyStatus::kUnsealed) {
    *err = "the ledger does not verify, nothing exported:\n" + res.describe(dir);
    return false;
  }
  if (matched.empty()) {
    *err = dir + ": no event with rule.ref '" + ref + "'";
    return false;
  }
  uint64_t lo = 0;
  for (const uint64_t a : anchors) {
    if (a <= matched.front()) lo = a;
  }
  uint64_t hi = res.last_seq;
  for (const uint64_t a : anchors) {
    if (a > matched.back()) {
      hi = a;
      break;
    }
  }
  st.sealed = hi != res.last_seq || res.status == VerifyStatus::kSealed;

  std::error_code ec;
  const fs::path out(out_dir);
  if (fs::exists(out, ec) && !(fs::is_directory(out, ec) && fs::is_empty(out, ec))) {
    *err = out_dir + ": already exists and is not an empty directory";
    return false;
  }
  fs::create_directories(out, ec);
  if (ec) {
    *err = out_dir + ": cannot create: " + ec.message();
    return false;
  }

  // Pass 2: write the range, redacting other cases' events, copying this case's packets.
  std::ofstream records(out / "records.jsonl", std::ios::binary | std::ios::trunc);
  std::ofstream pcap;
  uint64_t pcap_size = 0;
  std::map<uint64_t, uint64_t> packet_offsets;
  std::string matched_json;
  vo.on_record = [&](const RecordView& v, std::string* e) {
    const ParsedRecord& rec = v.record;
    const uint64_t seq = rec.header.seq;
    if (seq < lo || seq > hi) return true;
    std::string r;
    const bool mine = eventRef(rec, &r) && r == ref;
    if (rec.header.type == kTypeEvent && !mine) {
      records << formatRedactedLine(rec.header, rec.body_sha256) << '\n';
      ++st.redacted;
      return true;
    }
    records << v.line << '\n';
    if (!mine) return true;
    ++st.matched;
    matched_json += (matched_json.empty() ? "" : ",") + std::to_string(seq);
    if (v.packet_path.empty()) return true;
    std::ifstream src(v.packet_path, std::ios::binary);
    char hdr[16];
    src.seekg(static_cast<std::streamoff>(v.packet_offset));
    if (!src.read(hdr, sizeof hdr)) {
      *e = v.packet_path + ": cannot read packet";
      return false;
    }
    const uint32_t len = static_cast<uint8_t>(hdr[8]) | static_cast<uint8_t>(hdr[9]) << 8 |
                         static_cast<uint8_t>(hdr[10]) << 16 |
                         static_cast<uint32_t>(static_cast<uint8_t>(hdr[11])) << 24;
    std::string data(len, '\0');
    if (!src.read(data.data(), len)) {
      *e = v.packet_path + ": cannot read packet";
      return false;
    }
    if (!pcap.is_open()) {
      // Same global header as the ledger's packet files: pcap 2.4, LE, Ethernet.
      std::ifstream ghdr(v.packet_path, std::ios::binary);
      char g[24];
      if (!ghdr.read(g, sizeof g)) {
        *e = v.packet_path + ": cannot read pcap header";
        return false;
      }
      pcap.open(out / "packets.pcap", std::ios::binary | std::ios::trunc);
      pcap.write(g, sizeof g);
      pcap_size = sizeof g;
    }
    packet_offsets[seq] = pcap_size;
    pcap.write(hdr, sizeof hdr);
    pcap.write(data.data(), len);
    pcap_size += sizeof hdr + len;
    ++st.packets;
    return true;
  };
  res = verifyLedger(dir, vo);
  records.close();
  if (pcap.is_open()) pcap.close();
  if (res.status != VerifyStatus::kSealed && res.status != VerifyStatus::kUnsealed) {
    *err = "export failed: " + (res.error.empty() ? res.describe(dir) : res.error);
    return false;
  }
  if (!records || (pcap_size && !pcap)) {
    *err = out_dir + ": cannot write the bundle";
    return false;
  }
  st.first_seq = lo;
  st.last_seq = hi;

  // The key: the one the ledger verified with.
  PKey key = pubkey_path.empty() ? loadPublicKey((fs::path(dir) / "pubkey.pem").string(), err)
                                 : loadPublicKey(pubkey_path, err);
  if (!key) return false;
  std::string packets_json;
  for (const auto& [seq, off] : packet_offsets) {
    packets_json +=
        (packets_json.empty() ? "\"" : ",\"") + std::to_string(seq) + "\":" + std::to_string(off);
  }
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const std::string manifest =
      "{\"format\":\"" + std::string(kBundleFormatName) + "\",\"ref\":" + json::quote(ref) +
      ",\"ledger\":\"" + res.ledger_id + "\",\"key\":\"" + keyFingerprint(key.get()) +
      "\",\"source\":" + json::quote(fs::absolute(dir, ec).string()) + ",\"created\":\"" +
      formatTime(static_cast<uint64_t>(now.tv_sec) * 1000000000ull +
                 static_cast<uint64_t>(now.tv_nsec)) +
      "\",\"first_seq\":" + std::to_string(lo) + ",\"last_seq\":" + std::to_string(hi) +
      ",\"sealed\":" + (st.sealed ? "true" : "false") + ",\"matched\":[" + matched_json +
      "],\"packets\":{" + packets_json + "}}\n";
  if (!writeFile(out / "bundle.json", manifest, err) ||
      !writeFile(out / "pubkey.pem", publicKeyPem(key.get()), err) ||
      !writeFile(out / "README.txt", kReadme, err) ||
      !writeFile(out / "verify_evidence.py", kVerifyScript, err)) {
    return false;
  }
  fs::permissions(out / "verify_evidence.py", fs::perms::owner_exec | fs::perms::group_exec,
                  fs::perm_options::add, ec);
  if (stats) *stats = st;
  return true;
}

}  // namespace cordon::evidence
