#include "rules/pattern_set.h"

#include <cstdlib>
#include <list>
#include <mutex>

#include "rules/digest.h"

namespace cordon::rules {

HsDatabase makeHsDatabase(hs_database_t* db) {
  return HsDatabase(
      db, [](const hs_database_t* d) { hs_free_database(const_cast<hs_database_t*>(d)); });
}

struct PatternCache::Impl {
  std::mutex mu;
  std::list<std::pair<std::string, HsDatabase>> lru;  // most recent first
  size_t hits = 0;
  size_t misses = 0;
};

PatternCache::PatternCache(size_t capacity)
    : impl_(std::make_shared<Impl>()), capacity_(capacity) {}

HsDatabase PatternCache::find(const std::string& key) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto it = impl_->lru.begin(); it != impl_->lru.end(); ++it) {
    if (it->first == key) {
      impl_->lru.splice(impl_->lru.begin(), impl_->lru, it);
      ++impl_->hits;
      return impl_->lru.front().second;
    }
  }
  ++impl_->misses;
  return nullptr;
}

void PatternCache::put(const std::string& key, HsDatabase db) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->lru.emplace_front(key, std::move(db));
  while (impl_->lru.size() > capacity_) impl_->lru.pop_back();
}

size_t PatternCache::hits() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->hits;
}

size_t PatternCache::misses() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->misses;
}

struct PatternSet::ScanState {
  const PatternSet* set;
  uint32_t block;
  uint32_t exception;
};

PatternSet::~PatternSet() = default;

void PatternSet::add(std::string regex, unsigned flags, uint32_t rule, bool exception) {
  regexes_.push_back(std::move(regex));
  flags_.push_back(flags | HS_FLAG_SINGLEMATCH);
  rules_.push_back(rule);
  exception_.push_back(exception ? 1 : 0);
  has_exceptions_ = has_exceptions_ || exception;
}

std::string PatternSet::check(const std::string& regex, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(regex.c_str(), flags | HS_FLAG_SINGLEMATCH, &info, &err) != HS_SUCCESS) {
    std::string msg = err != nullptr && err->message != nullptr ? err->message : "unknown error";
    hs_free_compile_error(err);
    return msg;
  }
  // hs_expression_info accepts some patterns that hs_compile refuses (those that can match
  // the empty buffer); compile the rare zero-width ones alone to get hs_compile's verdict,
  // so every bad line is named at parse time.
  const bool zero_width = info->min_width == 0;
  std::free(info);
  if (zero_width) {
    hs_database_t* db = nullptr;
    if (hs_compile(regex.c_str(), flags | HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, nullptr, &db, &err) !=
        HS_SUCCESS) {
      std::string msg = err != nullptr && err->message != nullptr ? err->message : "unknown error";
      hs_free_compile_error(err);
      return msg;
    }
    hs_free_database(db);
  }
  return "";
}

bool PatternSet::compile(int* bad_index, std::string* message, PatternCache* cache, bool* reused) {
  *bad_index = -1;
  if (reused != nullptr) *reused = false;
  if (regexes_.empty()) return true;
  // Content key: every expression with its flags, in database-id order.
  std::string key;
  if (cache != nullptr) {
    Sha256 h;
    for (size_t i = 0; i < regexes_.size(); ++i) {
      const uint64_t head[2] = {flags_[i], regexes_[i].size()};
      h.update(head, sizeof head);
      h.update(regexes_[i]);
    }
    key = h.final();
    if (HsDatabase db = cache->find(key)) {
      db_ = std::move(db);
      if (reused != nullptr) *reused = true;
      return true;
    }
  }
  std::vector<const char*> exprs;
  std::vector<unsigned> ids;
  exprs.reserve(regexes_.size());
  ids.reserve(regexes_.size());
  for (size_t i = 0; i < regexes_.size(); ++i) {
    exprs.push_back(regexes_[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_compile_error_t* err = nullptr;
  hs_database_t* db = nullptr;
  if (hs_compile_multi(exprs.data(), flags_.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    *message = err != nullptr && err->message != nullptr ? err->message : "unknown error";
    if (err != nullptr) *bad_index = err->expression;
    hs_free_compile_error(err);
    return false;
  }
  db_ = makeHsDatabase(db);
  if (cache != nullptr) cache->put(key, db_);
  return true;
}

bool PatternSet::write(ByteWriter* w, std::string* error) const {
  w->putVec(rules_);
  w->putVec(exception_);
  w->put<uint8_t>(has_exceptions_);
  if (db_ == nullptr) {
    w->putBytes({});
    return true;
  }
  char* bytes = nullptr;
  size_t len = 0;
  if (hs_serialize_database(db_.get(), &bytes, &len) != HS_SUCCESS) {
    *error = "hs_serialize_database failed";
    return false;
  }
  w->putBytes({bytes, len});
  std::free(bytes);
  return true;
}

bool PatternSet::read(ByteReader* r, uint32_t rule_count, std::string* error) {
  uint8_t has_ex = 0;
  std::string bytes;
  if (!r->getVec(&rules_) || !r->getVec(&exception_) || !r->get(&has_ex) || !r->getBytes(&bytes)) {
    *error = "truncated pattern set";
    return false;
  }
  has_exceptions_ = has_ex != 0;
  if (exception_.size() != rules_.size()) {
    *error = "inconsistent pattern set";
    return false;
  }
  for (uint32_t rule : rules_) {
    if (rule >= rule_count) {
      *error = "pattern rule index out of range";
      return false;
    }
  }
  if (bytes.empty() != rules_.empty()) {
    *error = "inconsistent pattern set";
    return false;
  }
  if (bytes.empty()) return true;
  hs_database_t* db = nullptr;
  const hs_error_t rc = hs_deserialize_database(bytes.data(), bytes.size(), &db);
  if (rc != HS_SUCCESS) {
    *error = rc == HS_DB_VERSION_ERROR ? "Hyperscan database of another Hyperscan version"
             : rc == HS_DB_PLATFORM_ERROR
                 ? "Hyperscan database built for another platform"
                 : "Hyperscan database is invalid (hs_deserialize_database "
                   "error " +
                       std::to_string(rc) + ")";
    return false;
  }
  db_ = makeHsDatabase(db);
  return true;
}

std::vector<uint32_t> PatternSet::scanAll(std::string_view text, hs_scratch_t* scratch) const {
  std::vector<uint32_t> out;
  if (db_ == nullptr || scratch == nullptr) return out;
  struct Ctx {
    const PatternSet* set;
    std::vector<uint32_t>* out;
  } ctx{this, &out};
  hs_scan(
      db_.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch,
      [](unsigned id, unsigned long long, unsigned long long, unsigned, void* c) -> int {
        auto* x = static_cast<Ctx*>(c);
        x->out->push_back(x->set->rules_[id]);
        return 0;
      },
      &ctx);
  return out;
}

bool PatternSet::allocScratch(hs_scratch_t** scratch) const {
  if (db_ == nullptr) return true;
  return hs_alloc_scratch(db_.get(), scratch) == HS_SUCCESS;
}

int PatternSet::onMatch(unsigned id, unsigned long long /*from*/, unsigned long long /*to*/,
                        unsigned /*flags*/, void* ctx) {
  auto* st = static_cast<ScanState*>(ctx);
  if (st->set->exception_[id]) {
    st->exception = st->set->rules_[id];
    return 1;  // an exception wins over everything: stop
  }
  if (st->block == kNoRule) {
    st->block = st->set->rules_[id];
    if (!st->set->has_exceptions_) return 1;  // nothing later can change the answer
  }
  return 0;
}

void PatternSet::scan(std::string_view text, hs_scratch_t* scratch, uint32_t* block,
                      uint32_t* exception) const {
  if (db_ == nullptr || scratch == nullptr) return;
  ScanState st{this, kNoRule, kNoRule};
  // Errors other than HS_SCAN_TERMINATED cannot happen with a matching scratch; a scan
  // that fails reports nothing (fail open), as a malformed packet would.
  hs_scan(db_.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch, onMatch, &st);
  if (st.exception != kNoRule) {
    *exception = st.exception;
  } else if (st.block != kNoRule && *block == kNoRule) {
    *block = st.block;
  }
}

}  // namespace cordon::rules
