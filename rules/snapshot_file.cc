// The snapshot file: CompiledSnapshot::write/read (the payload) and saveSnapshot/loadSnapshot
// (header, checksum, atomic replace).

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <ios>
#include <memory>
#include <string>
#include <string_view>

#include "rules/compiled_snapshot.h"
#include "rules/compiler.h"
#include "rules/digest.h"
#include "rules/serial.h"

namespace cordon::rules {
namespace {

constexpr uint8_t kFileMagic[8] = {'C', 'O', 'R', 'D', 'S', 'N', 'A', 'P'};
// 2: pattern sets stored as shards (rules/pattern_set.h).
constexpr uint32_t kFileVersion = 2;
constexpr size_t kFileHeaderBytes = 8 + 4 + 4 + 8 + 32;

}  // namespace

namespace detail {

bool CompiledSnapshot::write(ByteWriter* w, std::string* error) const {
  w->put(as_of_);
  w->put(next_boundary_);
  w->putBytes(text_);
  w->putVec(lists_);
  w->putVec(records_);
  w->putVec(extras_);
  w->putVec(meta_records_);
  w->putVec(inactive_);
  w->putVec(shadows_);
  domains_.write(w);
  w->put<uint8_t>(domain_exceptions_);
  w->putVec(url_prefixes_);
  w->putVec(url_groups_);
  w->putBytes(url_paths_);
  url_hosts_.write(w);
  if (!host_re_.write(w, error) || !url_re_.write(w, error)) return false;
  ip_.write(w);
  return true;
}

bool CompiledSnapshot::read(ByteReader* r, std::string* error) {
  const auto bad = [error](const std::string& what) {
    *error = "malformed snapshot (" + what + ")";
    return false;
  };
  uint8_t dom_ex = 0;
  if (!r->get(&as_of_) || !r->get(&next_boundary_) || !r->getBytes(&text_) || !r->getVec(&lists_) ||
      !r->getVec(&records_) || !r->getVec(&extras_) || !r->getVec(&meta_records_) ||
      !r->getVec(&inactive_) || !r->getVec(&shadows_)) {
    return bad("rule table");
  }
  const auto n = static_cast<uint32_t>(records_.size());
  if (records_.size() >= kNoRule) return bad("rule count");
  const auto inText = [this](uint64_t off, uint64_t len) { return off + len <= text_.size(); };
  for (const ListRecord& l : lists_) {
    if (!inText(l.name_off, l.name_len) || !inText(l.file_off, l.file_len) ||
        static_cast<uint8_t>(l.action) > 1) {
      return bad("list table");
    }
  }
  for (const ExtraRecord& x : extras_) {
    if (!inText(x.id_off, x.id_len) || !inText(x.ref_off, x.ref_len) || x.id_len > UINT16_MAX ||
        (x.meta != kNoRule && x.meta >= meta_records_.size())) {
      return bad("rule metadata");
    }
  }
  for (const MetaRecord& m : meta_records_) {
    if (!inText(m.rights_off, m.rights_len) || !inText(m.category_off, m.category_len)) {
      return bad("rule metadata");
    }
  }
  for (const InactiveRecord& in : inactive_) {
    if (in.rule >= n || !inText(in.key_off, in.key_len) || !inText(in.path_off, in.path_len)) {
      return bad("inactive rules");
    }
  }
  for (const Shadow& sh : shadows_) {
    if (sh.kept >= n || sh.dropped >= n) return bad("duplicates");
  }
  if (!domains_.read(r, n) || !r->get(&dom_ex)) return bad("domain table");
  domain_exceptions_ = dom_ex != 0;
  for (const RuleRecord& rec : records_) {
    const uint64_t limit = rec.flags & kRecPatternInArena ? domains_.arena().size() : text_.size();
    if (rec.list >= lists_.size() || static_cast<uint8_t>(rec.kind) >= kRuleKindCount ||
        static_cast<uint8_t>(rec.action) > 1 ||
        static_cast<uint8_t>(rec.policy) > static_cast<uint8_t>(RuleAction::kSinkhole) ||
        uint64_t{rec.pattern_off} + rec.pattern_len > limit ||
        (rec.extra != kNoRule && rec.extra >= extras_.size())) {
      return bad("rule table");
    }
  }
  if (!r->getVec(&url_prefixes_) || !r->getVec(&url_groups_) || !r->getBytes(&url_paths_)) {
    return bad("URL table");
  }
  for (const UrlPrefix& up : url_prefixes_) {
    if (up.rule >= n || uint64_t{up.path_off} + up.path_len > url_paths_.size()) {
      return bad("URL table");
    }
  }
  for (size_t i = 0; i < url_groups_.size(); ++i) {
    if (url_groups_[i] > url_prefixes_.size() || (i > 0 && url_groups_[i] < url_groups_[i - 1])) {
      return bad("URL table");
    }
  }
  const auto groups = static_cast<uint32_t>(url_groups_.empty() ? 0 : url_groups_.size() - 1);
  if (!url_hosts_.read(r, groups)) return bad("URL hosts");
  if (!host_re_.read(r, n, error) || !url_re_.read(r, n, error)) return false;
  if (!ip_.read(r, n)) return bad("IP table");
  if (!r->atEnd()) return bad("trailing data");
  materialise();
  return true;
}

}  // namespace detail

// File layout: magic "CORDSNAP", u32 version, u32 reserved, u64 payload length, SHA-256 of
// the payload, payload (CompiledSnapshot::write).
bool saveSnapshot(const Snapshot& snap, const std::string& path, std::string* error) {
  const auto* c = dynamic_cast<const detail::CompiledSnapshot*>(&snap);
  if (c == nullptr) {
    *error = "not a compiled snapshot";
    return false;
  }
  ByteWriter payload;
  if (!c->write(&payload, error)) return false;
  ByteWriter file;
  file.put(kFileMagic);
  file.put(kFileVersion);
  file.put(uint32_t{0});
  file.put(static_cast<uint64_t>(payload.data().size()));
  file.data().append(Sha256::of(payload.data()));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(file.data().data(), static_cast<std::streamsize>(file.data().size()));
    out.write(payload.data().data(), static_cast<std::streamsize>(payload.data().size()));
    out.flush();
    if (!out) {
      *error = path + ": cannot write: " + std::strerror(errno);
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = path + ": cannot rename into place: " + std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

std::shared_ptr<const Snapshot> loadSnapshot(const std::string& path, std::string* error) {
  std::string data;
  {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
      *error = path + ": " + std::strerror(errno);
      return nullptr;
    }
    const std::streamoff size = in.tellg();
    if (size < 0) {
      *error = path + ": cannot determine the file size";
      return nullptr;
    }
    data.resize(static_cast<size_t>(size));
    in.seekg(0);
    in.read(data.data(), size);
    if (!in) {
      *error = path + ": read error";
      return nullptr;
    }
  }
  if (data.size() < kFileHeaderBytes) {
    *error = path + ": truncated snapshot (" + std::to_string(data.size()) +
             " bytes, shorter than the header)";
    return nullptr;
  }
  if (std::memcmp(data.data(), kFileMagic, sizeof kFileMagic) != 0) {
    *error = path + ": not a cordon snapshot (bad magic)";
    return nullptr;
  }
  uint32_t version = 0;
  uint32_t reserved = 0;
  uint64_t len = 0;
  std::memcpy(&version, data.data() + 8, 4);
  std::memcpy(&reserved, data.data() + 12, 4);
  std::memcpy(&len, data.data() + 16, 8);
  if (version != kFileVersion) {
    *error = path + ": snapshot format version " + std::to_string(version) +
             ", this build reads version " + std::to_string(kFileVersion) + " (recompile it)";
    return nullptr;
  }
  if (reserved != 0) {
    *error = path + ": snapshot header has unknown flags (corrupted or newer format)";
    return nullptr;
  }
  const std::string_view payload = std::string_view(data).substr(kFileHeaderBytes);
  if (payload.size() != len) {
    *error = path + ": " + (payload.size() < len ? "truncated" : "oversized") +
             " snapshot (header says " + std::to_string(len) + " payload bytes, file has " +
             std::to_string(payload.size()) + ")";
    return nullptr;
  }
  if (Sha256::of(payload) != std::string_view(data).substr(24, 32)) {
    *error = path + ": checksum mismatch (the file is corrupted)";
    return nullptr;
  }
  auto snap = std::make_shared<detail::CompiledSnapshot>();
  ByteReader r(payload);
  std::string why;
  try {
    if (!snap->read(&r, &why)) {
      *error = path + ": " + why;
      return nullptr;
    }
  } catch (const std::exception& e) {
    *error = path + ": malformed snapshot (" + e.what() + ")";
    return nullptr;
  }
  return snap;
}

}  // namespace cordon::rules
