#include "rules/pattern_set.h"

#include <algorithm>
#include <cstdlib>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>

#include "rules/digest.h"

namespace cordon::rules {

HsDatabase makeHsDatabase(hs_database_t* db) {
  return HsDatabase(
      db, [](const hs_database_t* d) { hs_free_database(const_cast<hs_database_t*>(d)); });
}

struct PatternCache::Impl {
  std::mutex mu;
  std::list<std::pair<std::string, HsShardsPtr>> lru;  // most recent first
  size_t hits = 0;
  size_t misses = 0;
};

PatternCache::PatternCache(size_t capacity)
    : impl_(std::make_shared<Impl>()), capacity_(capacity) {}

HsShardsPtr PatternCache::find(const std::string& key) {
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

void PatternCache::put(const std::string& key, HsShardsPtr shards) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->lru.emplace_front(key, std::move(shards));
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

// Lowest matching add() indices of one scan (UINT32_MAX: none).
struct PatternSet::ScanState {
  const PatternSet* set;
  uint32_t block;
  uint32_t exception;
};

size_t PatternSet::shardCount(size_t patterns, size_t threads) {
  const size_t by_size = std::max<size_t>(1, patterns / kMinShardPatterns);
  return std::clamp<size_t>(std::min(threads, by_size), 1, kMaxShards);
}

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
    const uint64_t forced = forced_shards_;
    h.update(&forced, sizeof forced);
    for (size_t i = 0; i < regexes_.size(); ++i) {
      const uint64_t head[2] = {flags_[i], regexes_[i].size()};
      h.update(head, sizeof head);
      h.update(regexes_[i]);
    }
    key = h.final();
    if (HsShardsPtr found = cache->find(key)) {
      shards_ = std::move(found);
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
  const size_t n = regexes_.size();
  const size_t k = forced_shards_ != 0 ? std::min(forced_shards_, n)
                                       : shardCount(n, std::thread::hardware_concurrency());
  auto shards = std::make_shared<HsShards>();
  for (size_t j = 0; j <= k; ++j) shards->begin.push_back(static_cast<uint32_t>(n * j / k));
  struct Result {
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
  };
  std::vector<Result> results(k);
  const auto work = [&](size_t j) {
    const uint32_t b = shards->begin[j];
    const uint32_t e = shards->begin[j + 1];
    if (hs_compile_multi(exprs.data() + b, flags_.data() + b, ids.data() + b, e - b, HS_MODE_BLOCK,
                         nullptr, &results[j].db, &results[j].err) != HS_SUCCESS) {
      results[j].db = nullptr;
    }
  };
  std::vector<std::thread> threads;
  for (size_t j = 1; j < k; ++j) {
    try {
      threads.emplace_back(work, j);
    } catch (const std::system_error&) {
      work(j);  // no thread to be had: compile it here
    }
  }
  work(0);
  for (std::thread& t : threads) t.join();
  bool ok = true;
  for (size_t j = 0; j < k; ++j) {
    if (results[j].db == nullptr && ok) {
      ok = false;
      const hs_compile_error_t* err = results[j].err;
      *message = err != nullptr && err->message != nullptr ? err->message : "unknown error";
      // err->expression indexes this shard's arrays.
      if (err != nullptr && err->expression >= 0) *bad_index = err->expression + shards->begin[j];
    }
    if (results[j].err != nullptr) hs_free_compile_error(results[j].err);
    if (results[j].db != nullptr) shards->dbs.push_back(makeHsDatabase(results[j].db));
  }
  if (!ok) return false;
  shards_ = std::move(shards);
  if (cache != nullptr) cache->put(key, shards_);
  return true;
}

bool PatternSet::write(ByteWriter* w, std::string* error) const {
  w->putVec(rules_);
  w->putVec(exception_);
  w->put<uint8_t>(has_exceptions_);
  const size_t k = shards();
  w->put<uint32_t>(static_cast<uint32_t>(k));
  for (size_t j = 0; j < k; ++j) {
    char* bytes = nullptr;
    size_t len = 0;
    if (hs_serialize_database(shards_->dbs[j].get(), &bytes, &len) != HS_SUCCESS) {
      *error = "hs_serialize_database failed";
      return false;
    }
    w->put<uint32_t>(shards_->begin[j]);
    w->putBytes({bytes, len});
    std::free(bytes);
  }
  return true;
}

bool PatternSet::read(ByteReader* r, uint32_t rule_count, std::string* error) {
  uint8_t has_ex = 0;
  uint32_t k = 0;
  if (!r->getVec(&rules_) || !r->getVec(&exception_) || !r->get(&has_ex) || !r->get(&k)) {
    *error = "truncated pattern set";
    return false;
  }
  has_exceptions_ = has_ex != 0;
  if (exception_.size() != rules_.size() || (k == 0) != rules_.empty() || k > rules_.size()) {
    *error = "inconsistent pattern set";
    return false;
  }
  for (uint32_t rule : rules_) {
    if (rule >= rule_count) {
      *error = "pattern rule index out of range";
      return false;
    }
  }
  auto shards = std::make_shared<HsShards>();
  for (uint32_t j = 0; j < k; ++j) {
    uint32_t begin = 0;
    std::string bytes;
    if (!r->get(&begin) || !r->getBytes(&bytes)) {
      *error = "truncated pattern set";
      return false;
    }
    // Shards are non-empty, consecutive and start at 0.
    if ((j == 0) != (begin == 0) || (j > 0 && begin <= shards->begin.back()) ||
        begin >= rules_.size() || bytes.empty()) {
      *error = "inconsistent pattern set";
      return false;
    }
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
    shards->begin.push_back(begin);
    shards->dbs.push_back(makeHsDatabase(db));
  }
  if (k == 0) return true;
  shards->begin.push_back(static_cast<uint32_t>(rules_.size()));
  shards_ = std::move(shards);
  return true;
}

std::vector<uint32_t> PatternSet::scanAll(std::string_view text, hs_scratch_t* scratch) const {
  std::vector<uint32_t> ids;
  if (shards_ == nullptr || scratch == nullptr) return {};
  for (const HsDatabase& db : shards_->dbs) {
    hs_scan(
        db.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch,
        [](unsigned id, unsigned long long, unsigned long long, unsigned, void* c) -> int {
          static_cast<std::vector<uint32_t>*>(c)->push_back(id);
          return 0;
        },
        &ids);
  }
  std::sort(ids.begin(), ids.end());
  std::vector<uint32_t> out;
  out.reserve(ids.size());
  for (uint32_t id : ids) out.push_back(rules_[id]);
  return out;
}

bool PatternSet::allocScratch(hs_scratch_t** scratch) const {
  if (shards_ == nullptr) return true;
  for (const HsDatabase& db : shards_->dbs) {
    if (hs_alloc_scratch(db.get(), scratch) != HS_SUCCESS) return false;
  }
  return true;
}

int PatternSet::onMatch(unsigned id, unsigned long long /*from*/, unsigned long long /*to*/,
                        unsigned /*flags*/, void* ctx) {
  // Every match of the shard is seen (SINGLEMATCH: once per pattern) to keep the lowest
  // index; Hyperscan reports in end-offset order, not index order.
  auto* st = static_cast<ScanState*>(ctx);
  if (st->set->exception_[id]) {
    st->exception = std::min<uint32_t>(st->exception, id);
  } else {
    st->block = std::min<uint32_t>(st->block, id);
  }
  return 0;
}

void PatternSet::scan(std::string_view text, hs_scratch_t* scratch, uint32_t* block,
                      uint32_t* exception) const {
  if (shards_ == nullptr || scratch == nullptr) return;
  ScanState st{this, UINT32_MAX, UINT32_MAX};
  // Errors cannot happen with a matching scratch; a scan that fails reports nothing
  // (fail open), as a malformed packet would.
  for (const HsDatabase& db : shards_->dbs) {
    hs_scan(db.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch, onMatch, &st);
    // A later shard only holds higher indices: an exception, or a block in a set without
    // exceptions, found here is final (a block of a later shard never lowers st.block).
    if (st.exception != UINT32_MAX) break;
    if (st.block != UINT32_MAX && !has_exceptions_) break;
  }
  if (st.exception != UINT32_MAX) {
    *exception = rules_[st.exception];
  } else if (st.block != UINT32_MAX && *block == kNoRule) {
    *block = rules_[st.block];
  }
}

}  // namespace cordon::rules
