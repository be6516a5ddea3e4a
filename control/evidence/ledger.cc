#include "control/evidence/ledger.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/evidence/json.h"
#include "control/evidence/record.h"
#include "control/evidence/verify.h"
#include "control/sync_dir.h"

namespace cordon::evidence {
namespace {

namespace fs = std::filesystem;

// pcap (not pcapng): the format every tool reads. Snap length covers jumbo and GRO frames;
// longer packets are cut to it (orig_len keeps the real length).
constexpr uint32_t kPcapSnapLen = 256 * 1024;
constexpr uint32_t kLinkTypeEthernet = 1;
constexpr size_t kPcapHeaderLen = 24;

bool setErr(std::string* err, const std::string& why) {
  if (err) *err = why;
  return false;
}

std::string errnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

void putLe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

uint64_t realtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool writeFileSynced(const std::string& path, std::string_view data, mode_t mode,
                     std::string* err) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return setErr(err, errnoText(path));
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  return ok ? true : setErr(err, errnoText(path));
}

}  // namespace

std::unique_ptr<Ledger> Ledger::open(const LedgerOptions& opts, std::string* err) {
  std::unique_ptr<Ledger> l(new Ledger());
  l->opts_ = opts;
  if (!l->opts_.clock) l->opts_.clock = realtimeNs;
  const std::string& dir = opts.dir;
  if (dir.empty()) return setErr(err, "evidence: no ledger directory given"), nullptr;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return setErr(err, dir + ": cannot create ledger directory: " + ec.message()), nullptr;
    ::chmod(dir.c_str(), 0750);
  }
  const std::string lock = (fs::path(dir) / ".lock").string();
  l->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (l->lock_fd_ < 0) return setErr(err, errnoText(lock)), nullptr;
  if (::flock(l->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    l->closed_ = true;
    return setErr(err, dir + ": another process is writing this evidence ledger"), nullptr;
  }
  l->key_ = loadPrivateKey(opts.key_path, err);
  if (!l->key_) {
    l->closed_ = true;
    return nullptr;
  }
  l->fingerprint_ = evidence::keyFingerprint(l->key_.get());

  bool existing = false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (segmentIndex(entry.path().filename().string())) existing = true;
  }
  if (!existing && fs::exists(fs::path(dir) / "pubkey.pem", ec)) {
    // A ledger lived here and its segments are gone: do not start a new chain over it.
    l->closed_ = true;
    return setErr(err, dir +
                           ": holds pubkey.pem but no ledger segments (were they deleted?); "
                           "refusing to start a new ledger there: use an empty directory"),
           nullptr;
  }
  // The public half sits beside the records so a third party can verify; it must match.
  const std::string pub_path = (fs::path(dir) / "pubkey.pem").string();
  if (fs::exists(pub_path, ec)) {
    std::string perr;
    PKey pub = loadPublicKey(pub_path, &perr);
    if (!pub || evidence::keyFingerprint(pub.get()) != l->fingerprint_) {
      l->closed_ = true;
      return setErr(err, pub_path + ": the ledger's public key does not match " + opts.key_path +
                             " (a ledger is signed by one key; use a new directory for a new key)"),
             nullptr;
    }
  } else if (!writeFileSynced(pub_path, publicKeyPem(l->key_.get()), 0644, err)) {
    l->closed_ = true;
    return nullptr;
  }

  if (!(existing ? l->resume(err) : l->create(err))) {
    l->closed_ = true;
    return nullptr;
  }
  return l;
}

Ledger::~Ledger() {
  if (!closed_) {
    std::string ignored;
    close(&ignored);
  }
  if (seg_fd_ >= 0) ::close(seg_fd_);
  if (pcap_fd_ >= 0) ::close(pcap_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

uint64_t Ledger::now() const {
  return opts_.clock();
}

bool Ledger::create(std::string* err) {
  uint8_t id[16];
  if (RAND_bytes(id, sizeof id) != 1) return setErr(err, "evidence: no randomness for ledger id");
  ledger_id_ = toHex({id, sizeof id});
  if (!openSegment(1, true, err)) return false;
  if (opts_.packets && !openPackets(0, err)) return false;
  head_ = std::string(kZeroHash);
  next_seq_ = 0;
  const std::string body = "{\"format\":\"" + std::string(kFormatName) + "\",\"ledger\":\"" +
                           ledger_id_ + "\",\"key\":\"" + fingerprint_ + "\"}";
  if (!writeRecord(kTypeGenesis, body, err)) return false;
  last_checkpoint_ns_ = now();
  return syncAll(err);
}

bool Ledger::resume(std::string* err) {
  VerifyOptions vo;
  vo.key = key_.get();
  vo.tail_only = true;
  const VerifyResult r = verifyLedger(opts_.dir, vo);
  if (r.status == VerifyStatus::kError) return setErr(err, opts_.dir + ": " + r.error);
  std::string recovered;
  if (r.status == VerifyStatus::kBroken) {
    if (!(r.torn_tail && opts_.recover_torn_tail && r.records > 0)) {
      return setErr(err, opts_.dir +
                             ": refusing to append to a broken evidence ledger: first bad "
                             "record is seq " +
                             std::to_string(r.bad_seq) + " (" + r.bad_where + "): " + r.reason +
                             ". Run 'cordonctl evidence verify " + opts_.dir +
                             "', keep the directory as evidence and configure a new one");
    }
    // A crash cut the last record short. Keep its bytes beside the segment, cut the segment
    // back to the last complete record and say so in the "open" record.
    const std::string seg = (fs::path(opts_.dir) / segmentName(r.last_segment)).string();
    std::ifstream in(seg, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string tail = ss.str().substr(r.torn_offset);
    const std::string torn = seg + ".torn-" + std::to_string(r.last_seq + 1);
    if (!writeFileSynced(torn, tail, 0640, err)) return false;
    if (::truncate(seg.c_str(), static_cast<off_t>(r.torn_offset)) != 0) {
      return setErr(err, errnoText(seg));
    }
    recovered = ",\"recovered\":{\"file\":\"" + fs::path(torn).filename().string() +
                "\",\"bytes\":" + std::to_string(tail.size()) + ",\"sha256\":\"" + sha256Hex(tail) +
                "\"}";
  }
  ledger_id_ = r.ledger_id;
  next_seq_ = r.last_seq + 1;
  head_ = r.head;
  since_checkpoint_ = r.unsealed;
  // A segment ends with its rotate checkpoint; the next record starts the next segment.
  const bool rotated = r.unsealed == 0 && r.last_checkpoint_reason == "rotate";
  const unsigned seg = rotated ? r.last_segment + 1 : r.last_segment;
  if (!openSegment(seg, rotated, err)) return false;
  if (opts_.packets && !openPackets(rotated ? 0 : r.packets_end, err)) return false;
  const bool clean = r.status == VerifyStatus::kSealed;
  const std::string body = "{\"ledger\":\"" + ledger_id_ +
                           "\",\"clean\":" + (clean ? "true" : "false") +
                           ",\"unsealed\":" + std::to_string(r.unsealed) + recovered + "}";
  if (!writeRecord(kTypeOpen, body, err)) return false;
  last_checkpoint_ns_ = now();
  return syncAll(err);
}

bool Ledger::openSegment(unsigned index, bool create, std::string* err) {
  if (seg_fd_ >= 0) ::close(seg_fd_);
  const std::string path = (fs::path(opts_.dir) / segmentName(index)).string();
  seg_fd_ =
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0640);
  if (seg_fd_ < 0) return setErr(err, errnoText(path));
  struct stat st {};
  if (::fstat(seg_fd_, &st) != 0) return setErr(err, errnoText(path));
  seg_size_ = static_cast<uint64_t>(st.st_size);
  seg_index_ = index;
  if (create && !syncDir(opts_.dir)) return setErr(err, errnoText(opts_.dir));
  return true;
}

bool Ledger::openPackets(uint64_t keep_bytes, std::string* err) {
  if (pcap_fd_ >= 0) ::close(pcap_fd_);
  const std::string path = (fs::path(opts_.dir) / packetsName(seg_index_)).string();
  pcap_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (pcap_fd_ < 0) return setErr(err, errnoText(path));
  struct stat st {};
  if (::fstat(pcap_fd_, &st) != 0) return setErr(err, errnoText(path));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < kPcapHeaderLen) {
    uint8_t h[kPcapHeaderLen] = {};
    putLe32(h, 0xa1b2c3d4);  // microsecond timestamps
    h[4] = 2;                // version 2.4
    h[6] = 4;
    putLe32(h + 16, kPcapSnapLen);
    putLe32(h + 20, kLinkTypeEthernet);
    if (::ftruncate(pcap_fd_, 0) != 0 || ::pwrite(pcap_fd_, h, sizeof h, 0) != sizeof h) {
      return setErr(err, errnoText(path));
    }
    size = kPcapHeaderLen;
  } else {
    // Packets written after the last complete record (a crash between the two writes) are
    // not referenced by any record: drop them so the file stays a clean pcap.
    const uint64_t keep = keep_bytes > kPcapHeaderLen ? keep_bytes : kPcapHeaderLen;
    if (size > keep) {
      if (::ftruncate(pcap_fd_, static_cast<off_t>(keep)) != 0) return setErr(err, errnoText(path));
      size = keep;
    }
  }
  pcap_size_ = size;
  return true;
}

bool Ledger::fail(std::string* err, const std::string& why) {
  failure_ = why;
  return setErr(err, why);
}

bool Ledger::writeAll(int fd, std::string_view data, uint64_t* size, std::string* err) {
  const uint64_t before = *size;
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(before + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = errnoText("evidence ledger write");
      // Cut a partial write back so the file still ends at a complete record.
      if (::ftruncate(fd, static_cast<off_t>(before)) != 0) {
        return fail(err, why +
                             "; and cannot cut the partial write back: the ledger needs "
                             "recovery on the next open");
      }
      return setErr(err, why);
    }
    done += static_cast<size_t>(n);
  }
  *size = before + data.size();
  return true;
}

bool Ledger::writeRecord(std::string_view type, std::string_view body, std::string* err) {
  RecordHeader h{next_seq_, formatTime(now()), std::string(type), head_};
  std::string line = formatLine(h, body);
  line.push_back('\n');
  if (!writeAll(seg_fd_, line, &seg_size_, err)) return false;
  head_ = recordHash(h, sha256Hex(body));
  ++next_seq_;
  ++since_checkpoint_;
  if (opts_.fsync == FsyncPolicy::kRecord) return syncAll(err);
  return true;
}

bool Ledger::writeCheckpoint(std::string_view reason, std::string* err) {
  RecordHeader h{next_seq_, formatTime(now()), std::string(kTypeCheckpoint), head_};
  std::string sig;
  if (!signHex(key_.get(), checkpointMessage(ledger_id_, h.seq, h.time, h.prev, reason), &sig,
               err)) {
    return false;
  }
  const std::string body = "{\"ledger\":\"" + ledger_id_ + "\",\"reason\":\"" +
                           std::string(reason) + "\",\"key\":\"" + fingerprint_ + "\",\"sig\":\"" +
                           sig + "\"}";
  std::string line = formatLine(h, body);
  line.push_back('\n');
  if (!writeAll(seg_fd_, line, &seg_size_, err)) return false;
  head_ = recordHash(h, sha256Hex(body));
  ++next_seq_;
  since_checkpoint_ = 0;
  last_checkpoint_ns_ = now();
  if (opts_.fsync != FsyncPolicy::kNone) return syncAll(err);
  return true;
}

bool Ledger::syncAll(std::string* err) {
  if (pcap_fd_ >= 0 && ::fdatasync(pcap_fd_) != 0) return fail(err, errnoText("evidence fsync"));
  if (seg_fd_ >= 0 && ::fdatasync(seg_fd_) != 0) return fail(err, errnoText("evidence fsync"));
  return true;
}

bool Ledger::append(std::string_view event_json, std::span<const uint8_t> packet,
                    uint64_t packet_ts_ns, std::string* err) {
  if (closed_) return setErr(err, "evidence ledger is closed");
  if (!failure_.empty()) return setErr(err, "evidence ledger failed earlier: " + failure_);
  json::Value ev;
  std::string jerr;
  if (!json::parse(event_json, &ev, &jerr) || !ev.isObject()) {
    return setErr(err, "evidence: event is not a JSON object" + (jerr.empty() ? "" : ": " + jerr));
  }
  if (ev.raw.find_first_of("\r\n") != std::string_view::npos) {
    return setErr(err, "evidence: event JSON must be on one line");
  }
  std::string body = "{\"event\":";
  body.append(ev.raw);
  if (pcap_fd_ >= 0 && !packet.empty()) {
    const uint64_t ts = packet_ts_ns ? packet_ts_ns : now();
    const uint32_t stored = static_cast<uint32_t>(std::min<size_t>(packet.size(), kPcapSnapLen));
    std::string rec(16, '\0');
    auto* h = reinterpret_cast<uint8_t*>(rec.data());
    putLe32(h, static_cast<uint32_t>(ts / 1000000000ull));
    putLe32(h + 4, static_cast<uint32_t>(ts % 1000000000ull / 1000));
    putLe32(h + 8, stored);
    putLe32(h + 12, static_cast<uint32_t>(std::min<size_t>(packet.size(), UINT32_MAX)));
    rec.append(reinterpret_cast<const char*>(packet.data()), stored);
    const uint64_t offset = pcap_size_;
    if (!writeAll(pcap_fd_, rec, &pcap_size_, err)) return false;
    body += ",\"packet\":{\"file\":\"" + packetsName(seg_index_) +
            "\",\"offset\":" + std::to_string(offset) + ",\"len\":" + std::to_string(stored) +
            ",\"sha256\":\"" + sha256Hex(packet.first(stored)) + "\"}";
  }
  body.push_back('}');
  if (!writeRecord(kTypeEvent, body, err)) return false;
  if (opts_.checkpoint_every && since_checkpoint_ >= opts_.checkpoint_every) {
    if (!writeCheckpoint("count", err)) return false;
  } else if (!tick(err)) {
    return false;
  }
  if (seg_size_ >= opts_.segment_bytes) {
    if (!writeCheckpoint("rotate", err)) return false;
    if (!openSegment(seg_index_ + 1, true, err)) return fail(err, err ? *err : "rotate");
    if (pcap_fd_ >= 0 && !openPackets(0, err)) return fail(err, err ? *err : "rotate");
  }
  return true;
}

bool Ledger::checkpoint(std::string* err) {
  if (closed_) return setErr(err, "evidence ledger is closed");
  if (!failure_.empty()) return setErr(err, "evidence ledger failed earlier: " + failure_);
  if (since_checkpoint_ == 0) return true;
  return writeCheckpoint("request", err);
}

bool Ledger::tick(std::string* err) {
  if (closed_ || !failure_.empty() || since_checkpoint_ == 0 || !opts_.checkpoint_seconds) {
    return failure_.empty() ? true : setErr(err, failure_);
  }
  if (now() - last_checkpoint_ns_ < opts_.checkpoint_seconds * 1000000000ull) return true;
  return writeCheckpoint("time", err);
}

bool Ledger::close(std::string* err) {
  if (closed_) return true;
  closed_ = true;
  bool ok = failure_.empty() ? writeCheckpoint("close", err) && syncAll(err)
                             : setErr(err, "evidence ledger failed earlier: " + failure_);
  if (seg_fd_ >= 0) ::close(seg_fd_);
  if (pcap_fd_ >= 0) ::close(pcap_fd_);
  seg_fd_ = pcap_fd_ = -1;
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
  return ok;
}

}  // namespace cordon::evidence
