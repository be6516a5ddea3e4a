#include "control/evidence/verify.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "control/evidence/crypto.h"

namespace cordon::evidence {
namespace {

namespace fs = std::filesystem;

// A triggering packet is one frame; 256 KiB covers jumbo and GRO-merged captures.
constexpr uint64_t kMaxPacketLen = 256 * 1024;
constexpr size_t kPcapRecordHeaderLen = 16;

bool readFile(const std::string& path, std::string* out, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool hasOnlyKeys(const json::Value& obj, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : obj.members) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) return false;
  }
  return true;
}

const std::string* stringMember(const json::Value& obj, std::string_view key) {
  const json::Value* v = obj.get(key);
  return v && v->isString() ? &v->str : nullptr;
}

bool isCheckpointReason(std::string_view r) {
  return r == "count" || r == "time" || r == "close" || r == "rotate" || r == "request";
}

class Verifier {
 public:
  Verifier(const std::string& path, const VerifyOptions& opts) : dir_(path), opts_(opts) {}

  ~Verifier() {
    for (auto& [name, fd] : pcap_fds_) {
      if (fd >= 0) ::close(fd);
    }
  }

  VerifyResult run() {
    std::error_code ec;
    if (!fs::is_directory(dir_, ec)) {
      r_.error = dir_ + ": not a directory";
      return r_;
    }
    r_.bundle = fs::exists(fs::path(dir_) / "bundle.json", ec);
    if (!loadKey()) return r_;
    if (r_.bundle) {
      runBundle();
    } else {
      runLedger();
    }
    finish();
    return r_;
  }

 private:
  bool loadKey() {
    std::string err;
    if (opts_.key) {
      key_ = opts_.key;
      r_.key_source = "the ledger's signing key";
    } else {
      const std::string path =
          opts_.pubkey_path.empty() ? (fs::path(dir_) / "pubkey.pem").string() : opts_.pubkey_path;
      owned_key_ = loadPublicKey(path, &err);
      if (!owned_key_) {
        r_.error = err + (opts_.pubkey_path.empty() ? " (give the key with --pubkey PEM)" : "");
        return false;
      }
      key_ = owned_key_.get();
      r_.key_source = path + (opts_.pubkey_path.empty() ? " (stored in the directory, not pinned)"
                                                        : " (pinned)");
    }
    r_.key_fingerprint = keyFingerprint(key_);
    return true;
  }

  // Marks the first bad record and stops. Always returns false.
  bool bad(uint64_t seq, const std::string& where, const std::string& reason) {
    if (r_.status != VerifyStatus::kBroken) {
      r_.status = VerifyStatus::kBroken;
      r_.bad_seq = seq;
      r_.bad_where = where;
      r_.reason = reason;
    }
    return false;
  }

  void runLedger() {
    std::error_code ec;
    std::set<unsigned> segments;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      const unsigned idx = segmentIndex(entry.path().filename().string());
      if (idx) segments.insert(idx);
    }
    if (ec) {
      r_.error = dir_ + ": cannot list: " + ec.message();
      return;
    }
    if (segments.empty()) {
      bad(0, segmentName(1), "missing: the directory holds no ledger segments");
      return;
    }
    const unsigned last = *segments.rbegin();
    r_.last_segment = last;
    unsigned first = 1;
    if (opts_.tail_only && last > 1) {
      if (!readGenesisOnly()) return;
      first = last;
      anchor_any_ = true;
    }
    for (unsigned i = first; i <= last; ++i) {
      if (!segments.count(i)) {
        bad(expected_, segmentName(i), "segment file is missing (records were deleted)");
        return;
      }
      if (!runFile(segmentName(i), i, i == last)) return;
    }
  }

  // tail_only: the ledger id and key from the genesis record (first line of segment 1).
  bool readGenesisOnly() {
    const std::string name = segmentName(1);
    std::ifstream in(fs::path(dir_) / name, std::ios::binary);
    std::string line;
    ParsedRecord rec;
    std::string err;
    if (!in || !std::getline(in, line) || !parseRecordLine(line, &rec, &err)) {
      return bad(0, name + ":1",
                 "cannot read the genesis record" + (err.empty() ? "" : ": " + err));
    }
    return checkGenesis(rec, name + ":1");
  }

  void runBundle() {
    std::string text, err;
    const std::string manifest = (fs::path(dir_) / "bundle.json").string();
    json::Value m;
    if (!readFile(manifest, &text, &err) || !json::parse(text, &m, &err) || !m.isObject()) {
      r_.error = manifest + ": not a bundle manifest: " + err;
      return;
    }
    if (const json::Value* pk = m.get("packets"); pk && pk->isObject()) {
      for (const auto& [k, v] : pk->members) {
        uint64_t off = 0;
        if (v.asU64(&off)) bundle_packets_[k] = off;
      }
    }
    anchor_any_ = true;
    runFile("records.jsonl", 0, true);
  }

  // Verifies one file of records. False when verification must stop.
  bool runFile(const std::string& name, unsigned seg, bool last_file) {
    std::string text, err;
    if (!readFile((fs::path(dir_) / name).string(), &text, &err)) {
      return bad(expected_, name, err);
    }
    size_t pos = 0;
    uint64_t lineno = 0;
    bool rotated = false;
    while (pos < text.size()) {
      ++lineno;
      const std::string where = name + ":" + std::to_string(lineno);
      const size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) {
        if (last_file) {
          r_.torn_tail = true;
          r_.torn_offset = pos;
        }
        return bad(expected_, where,
                   "record is cut short (no end of line): the ledger was truncated mid-record");
      }
      const std::string_view line(text.data() + pos, nl - pos);
      pos = nl + 1;
      if (rotated) {
        return bad(expected_, where, "record after the segment's rotate checkpoint");
      }
      ParsedRecord rec;
      if (!parseRecordLine(line, &rec, &err)) {
        return bad(expected_, where, "malformed record: " + err);
      }
      std::string packet_path;
      uint64_t packet_offset = 0;
      if (!checkRecord(rec, where, seg, &packet_path, &packet_offset)) return false;
      if (opts_.on_record) {
        const RecordView view{rec, line, name, packet_path, packet_offset};
        if (!opts_.on_record(view, &err)) {
          r_.error = err;
          r_.status = VerifyStatus::kError;
          stopped_ = true;
          return false;
        }
      }
      rotated = rec.header.type == kTypeCheckpoint && last_reason_ == "rotate" && seg != 0;
    }
    if (!last_file && !rotated) {
      return bad(expected_, segmentName(seg + 1) + ":1",
                 "segment " + name +
                     " does not end with its rotate checkpoint: records were removed from its end");
    }
    return true;
  }

  bool checkGenesis(const ParsedRecord& rec, const std::string& where) {
    const RecordHeader& h = rec.header;
    if (h.type != kTypeGenesis) return bad(h.seq, where, "the first record is not the genesis");
    if (h.seq != 0 || h.prev != kZeroHash) {
      return bad(h.seq, where, "genesis record must have seq 0 and a zero prev");
    }
    const json::Value& b = *rec.body;
    const std::string* format = stringMember(b, "format");
    const std::string* ledger = stringMember(b, "ledger");
    const std::string* key = stringMember(b, "key");
    if (!hasOnlyKeys(b, {"format", "ledger", "key"}) || !format || *format != kFormatName ||
        !ledger || !isLowerHex(*ledger, 32) || !key || !isLowerHex(*key, kSha256HexLen)) {
      return bad(0, where, "malformed genesis body");
    }
    if (*key != r_.key_fingerprint) {
      return bad(0, where,
                 "the ledger was created for key " + *key + ", not the key being used to verify (" +
                     r_.key_fingerprint + "): wrong --pubkey, or pubkey.pem was replaced");
    }
    r_.ledger_id = *ledger;
    return true;
  }

  bool checkRecord(const ParsedRecord& rec, const std::string& where, unsigned seg,
                   std::string* packet_path, uint64_t* packet_offset) {
    const RecordHeader& h = rec.header;
    if (!have_head_) {
      if (anchor_any_) {
        // A bundle starts at a signed checkpoint (or the genesis); a tail check at the first
        // record of the last segment. Its seq and prev are taken as given; a checkpoint's
        // signature below authenticates them.
        if (r_.bundle && h.type != kTypeCheckpoint && h.type != kTypeGenesis) {
          return bad(h.seq, where, "a bundle must start with a checkpoint or the genesis record");
        }
        expected_ = h.seq;
        head_ = h.prev;
      } else {
        expected_ = 0;
        head_ = std::string(kZeroHash);
      }
      r_.first_seq = h.seq;
    }
    if (h.seq != expected_) {
      return bad(expected_, where,
                 "seq " + std::to_string(h.seq) + " found where seq " + std::to_string(expected_) +
                     " was expected: record " + std::to_string(expected_) +
                     " is missing, or records are out of order");
    }
    if (h.prev != head_) {
      const uint64_t culprit = h.seq ? h.seq - 1 : 0;
      return bad(culprit, prev_where_.empty() ? where : prev_where_,
                 "record " + std::to_string(culprit) +
                     " does not hash to the prev stored in record " + std::to_string(h.seq) + " (" +
                     where + "): record " + std::to_string(culprit) +
                     " was altered (or that prev was)");
    }
    if (h.seq == 0 || h.type == kTypeGenesis) {
      if (!checkGenesis(rec, where)) return false;
    } else if (h.type == kTypeEvent) {
      if (!checkEvent(rec, where, seg, packet_path, packet_offset)) return false;
    } else if (h.type == kTypeCheckpoint) {
      if (!checkCheckpoint(rec, where)) return false;
    } else if (h.type == kTypeOpen) {
      const json::Value& b = *rec.body;
      const std::string* ledger = stringMember(b, "ledger");
      const json::Value* clean = b.get("clean");
      if (!hasOnlyKeys(b, {"ledger", "clean", "unsealed", "recovered"}) || !ledger ||
          (!r_.ledger_id.empty() && *ledger != r_.ledger_id) || !clean ||
          clean->kind != json::Value::Kind::kBool) {
        return bad(h.seq, where, "malformed open record (or one from another ledger)");
      }
      if (r_.ledger_id.empty()) r_.ledger_id = *ledger;
      if (!clean->boolean) ++r_.unclean_restarts;
    }
    head_ = recordHash(h, rec.body_sha256);
    prev_where_ = where;
    have_head_ = true;
    ++expected_;
    ++r_.records;
    r_.last_seq = h.seq;
    r_.head = head_;
    if (h.type == kTypeCheckpoint) {
      r_.unsealed = 0;
    } else {
      ++r_.unsealed;
    }
    last_type_ = h.type;
    return true;
  }

  bool checkEvent(const ParsedRecord& rec, const std::string& where, unsigned seg,
                  std::string* packet_path, uint64_t* packet_offset) {
    const uint64_t seq = rec.header.seq;
    ++r_.events;
    if (rec.redacted) {
      if (!r_.bundle) return bad(seq, where, "redacted record inside a ledger");
      ++r_.redacted;
      return true;
    }
    const json::Value& b = *rec.body;
    const json::Value* ev = b.get("event");
    if (!hasOnlyKeys(b, {"event", "packet"}) || !ev || !ev->isObject()) {
      return bad(seq, where, "malformed event body");
    }
    const json::Value* pk = b.get("packet");
    if (!pk) return true;
    const std::string* file = pk->isObject() ? stringMember(*pk, "file") : nullptr;
    const std::string* sha = pk->isObject() ? stringMember(*pk, "sha256") : nullptr;
    const json::Value* off = pk->isObject() ? pk->get("offset") : nullptr;
    const json::Value* len = pk->isObject() ? pk->get("len") : nullptr;
    uint64_t offset = 0, length = 0;
    if (!file || !isPacketsName(*file) || !sha || !isLowerHex(*sha, kSha256HexLen) || !off ||
        !off->asU64(&offset) || !len || !len->asU64(&length) || length > kMaxPacketLen ||
        !hasOnlyKeys(*pk, {"file", "offset", "len", "sha256"})) {
      return bad(seq, where, "malformed packet reference");
    }
    std::string name = *file;
    if (r_.bundle) {
      const auto it = bundle_packets_.find(std::to_string(seq));
      if (it == bundle_packets_.end()) {
        return bad(seq, where, "its packet is not in the bundle (bundle.json 'packets')");
      }
      name = "packets.pcap";
      offset = it->second;
    }
    std::string err;
    if (!checkPacket(name, offset, length, *sha, &err)) {
      return bad(seq, where, "packet " + name + "@" + std::to_string(offset) + ": " + err);
    }
    ++r_.packets;
    *packet_path = (fs::path(dir_) / name).string();
    *packet_offset = offset;
    if (!r_.bundle && seg == r_.last_segment && name == packetsName(seg)) {
      r_.packets_end = std::max(r_.packets_end, offset + kPcapRecordHeaderLen + length);
    }
    return true;
  }

  bool checkPacket(const std::string& name, uint64_t offset, uint64_t len, const std::string& sha,
                   std::string* err) {
    auto it = pcap_fds_.find(name);
    if (it == pcap_fds_.end()) {
      const std::string path = (fs::path(dir_) / name).string();
      it = pcap_fds_.emplace(name, ::open(path.c_str(), O_RDONLY | O_CLOEXEC)).first;
    }
    if (it->second < 0) {
      *err = "file is missing or unreadable";
      return false;
    }
    uint8_t hdr[kPcapRecordHeaderLen];
    if (::pread(it->second, hdr, sizeof hdr, static_cast<off_t>(offset)) !=
        static_cast<ssize_t>(sizeof hdr)) {
      *err = "truncated (no pcap record header)";
      return false;
    }
    // pcap record header: ts_sec, ts_usec, incl_len, orig_len, little-endian as written.
    const uint32_t incl = static_cast<uint32_t>(hdr[8]) | static_cast<uint32_t>(hdr[9]) << 8 |
                          static_cast<uint32_t>(hdr[10]) << 16 |
                          static_cast<uint32_t>(hdr[11]) << 24;
    if (incl != len) {
      *err = "pcap record length " + std::to_string(incl) + " != " + std::to_string(len);
      return false;
    }
    std::vector<uint8_t> data(len);
    if (len &&
        ::pread(it->second, data.data(), len, static_cast<off_t>(offset + kPcapRecordHeaderLen)) !=
            static_cast<ssize_t>(len)) {
      *err = "truncated packet data";
      return false;
    }
    if (sha256Hex(std::span<const uint8_t>(data)) != sha) {
      *err = "packet bytes do not match the SHA-256 in the record";
      return false;
    }
    return true;
  }

  bool checkCheckpoint(const ParsedRecord& rec, const std::string& where) {
    const RecordHeader& h = rec.header;
    const json::Value& b = *rec.body;
    const std::string* ledger = stringMember(b, "ledger");
    const std::string* reason = stringMember(b, "reason");
    const std::string* key = stringMember(b, "key");
    const std::string* sig = stringMember(b, "sig");
    if (!hasOnlyKeys(b, {"ledger", "reason", "key", "sig"}) || !ledger ||
        !isLowerHex(*ledger, 32) || !reason || !isCheckpointReason(*reason) || !key || !sig) {
      return bad(h.seq, where, "malformed checkpoint body");
    }
    if (!r_.ledger_id.empty() && *ledger != r_.ledger_id) {
      return bad(h.seq, where, "checkpoint of another ledger (" + *ledger + ")");
    }
    if (*key != r_.key_fingerprint) {
      return bad(h.seq, where,
                 "checkpoint names signing key " + *key + ", not the key being used to verify (" +
                     r_.key_fingerprint + ")");
    }
    if (!verifyHex(key_, checkpointMessage(*ledger, h.seq, h.time, h.prev, *reason), *sig)) {
      return bad(h.seq, where,
                 "checkpoint signature does not verify: the checkpoint was altered or signed by "
                 "another key");
    }
    r_.ledger_id = *ledger;
    ++r_.checkpoints;
    r_.has_checkpoint = true;
    r_.last_checkpoint_seq = h.seq;
    r_.last_checkpoint_reason = *reason;
    last_reason_ = *reason;
    return true;
  }

  void finish() {
    if (!r_.error.empty() || stopped_) {
      r_.status = VerifyStatus::kError;
      return;
    }
    if (r_.status == VerifyStatus::kBroken) return;
    if (r_.records == 0) {
      bad(0, r_.bundle ? "records.jsonl" : segmentName(1), "no records");
      return;
    }
    const bool closed =
        last_type_ == kTypeCheckpoint && (r_.bundle || r_.last_checkpoint_reason == "close");
    r_.status = closed ? VerifyStatus::kSealed : VerifyStatus::kUnsealed;
  }

  std::string dir_;
  const VerifyOptions& opts_;
  VerifyResult r_;
  PKey owned_key_;
  EVP_PKEY* key_ = nullptr;
  bool anchor_any_ = false;
  bool have_head_ = false;
  bool stopped_ = false;
  uint64_t expected_ = 0;
  std::string head_;
  std::string prev_where_;
  std::string last_type_;
  std::string last_reason_;
  std::map<std::string, uint64_t> bundle_packets_;
  std::map<std::string, int> pcap_fds_;
};

}  // namespace

VerifyResult verifyLedger(const std::string& path, const VerifyOptions& opts) {
  return Verifier(path, opts).run();
}

std::string VerifyResult::describe(const std::string& path) const {
  std::ostringstream o;
  const char* what = bundle ? "bundle" : "ledger";
  switch (status) {
    case VerifyStatus::kError:
      o << path << ": cannot verify: " << error << "\n";
      return o.str();
    case VerifyStatus::kBroken:
      o << what << " " << path << ": BROKEN: first bad record is seq " << bad_seq << " ("
        << bad_where << "): " << reason << "\n";
      if (bad_seq > first_seq) {
        o << "records " << first_seq << ".." << bad_seq - 1 << " verified before it";
        if (has_checkpoint) o << "; last good signed checkpoint is seq " << last_checkpoint_seq;
        o << "\n";
      }
      break;
    case VerifyStatus::kSealed:
      o << what << " " << path << ": OK: " << records << " records (seq " << first_seq << ".."
        << last_seq << "), " << events << " events, " << checkpoints << " signed checkpoints"
        << (bundle ? ", anchored and sealed by signed checkpoints" : ", closed cleanly") << "\n";
      break;
    case VerifyStatus::kUnsealed:
      o << what << " " << path << ": NOT CLOSED CLEANLY: records " << first_seq << ".." << last_seq
        << " chain correctly, but ";
      if (unsealed) {
        o << "the last " << unsealed << " record(s) after "
          << (has_checkpoint ? "checkpoint seq " + std::to_string(last_checkpoint_seq)
                             : std::string("the start"))
          << " are not covered by any signature (unverified tail)";
      } else {
        o << "it ends at a '" << last_checkpoint_reason << "' checkpoint, not a close checkpoint";
      }
      o << ": the writer is still running or crashed, or records after the last checkpoint "
           "were removed\n";
      break;
  }
  if (bundle && redacted) o << "redacted events (other cases): " << redacted << "\n";
  if (packets) o << "packets verified: " << packets << "\n";
  if (unclean_restarts) {
    o << "note: " << unclean_restarts
      << " restart(s) recorded after an unclean shutdown (see 'open' records)\n";
  }
  if (!head.empty()) o << "head: seq " << last_seq << " sha256 " << head << "\n";
  if (!ledger_id.empty()) o << "ledger id: " << ledger_id << "\n";
  o << "key: ed25519 sha256:" << key_fingerprint << " from " << key_source << "\n";
  return o.str();
}

}  // namespace cordon::evidence
