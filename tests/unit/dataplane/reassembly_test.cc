// First-flight reassembly buffer: ordering, overlap, holes, window and range caps.

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "dataplane/flow/reassembly.h"

namespace cordon {
namespace {

std::vector<uint8_t> bytes(size_t n) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(ReassemblyTest, InOrderAndOutOfOrder) {
  auto buf = std::make_unique<ReasmBuffer>();
  buf->reset(0);
  const auto data = bytes(100);
  std::span<const uint8_t> s(data);
  EXPECT_EQ(buf->insert(50, s.subspan(50)), ReasmBuffer::Insert::kAdded);
  EXPECT_EQ(buf->contiguous(), 0u);
  EXPECT_EQ(buf->insert(0, s.first(30)), ReasmBuffer::Insert::kAdded);
  EXPECT_EQ(buf->contiguous(), 30u);
  EXPECT_EQ(buf->insert(20, s.subspan(20, 40)), ReasmBuffer::Insert::kAdded);  // overlaps both
  ASSERT_EQ(buf->contiguous(), 100u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), buf->prefix().begin()));
}

TEST(ReassemblyTest, RandomPermutationsOfTinySegments) {
  const auto data = bytes(1800);  // a post-quantum ClientHello's size
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<size_t> starts;
    for (size_t i = 0; i < data.size(); i += 16) starts.push_back(i);
    std::shuffle(starts.begin(), starts.end(), rng);
    auto buf = std::make_unique<ReasmBuffer>();
    buf->reset(0);
    size_t inserted = 0;
    for (size_t st : starts) {
      const size_t len = std::min<size_t>(16, data.size() - st);
      const auto r =
          buf->insert(static_cast<int64_t>(st), std::span<const uint8_t>(data).subspan(st, len));
      // Random order creates many holes: either accepted or refused as too many ranges.
      if (r == ReasmBuffer::Insert::kTooManyRanges) break;
      ++inserted;
    }
    if (inserted == starts.size()) {
      ASSERT_EQ(buf->contiguous(), data.size());
      EXPECT_TRUE(std::equal(data.begin(), data.end(), buf->prefix().begin()));
    }
  }
}

TEST(ReassemblyTest, TooManyHolesIsRefused) {
  auto buf = std::make_unique<ReasmBuffer>();
  buf->reset(0);
  const uint8_t b = 1;
  for (int i = 0; i < kMaxReasmRanges; ++i) {
    ASSERT_EQ(buf->insert(10 + i * 10, {&b, 1}), ReasmBuffer::Insert::kAdded);
  }
  EXPECT_EQ(buf->insert(1000, {&b, 1}), ReasmBuffer::Insert::kTooManyRanges);
  EXPECT_EQ(buf->insert(10, {&b, 1}), ReasmBuffer::Insert::kAdded);  // no new range
}

TEST(ReassemblyTest, WindowClipping) {
  auto buf = std::make_unique<ReasmBuffer>();
  buf->reset(0);
  const auto data = bytes(64);
  EXPECT_EQ(buf->insert(-32, data), ReasmBuffer::Insert::kAdded);  // old half dropped
  EXPECT_EQ(buf->contiguous(), 32u);
  EXPECT_EQ(buf->prefix()[0], 32);
  EXPECT_EQ(buf->insert(kReasmWindowBytes, data), ReasmBuffer::Insert::kOutsideWindow);
  EXPECT_EQ(buf->insert(-64, data), ReasmBuffer::Insert::kOutsideWindow);
}

TEST(ReassemblyTest, ConsumeShiftsRemainder) {
  auto buf = std::make_unique<ReasmBuffer>();
  buf->reset(0);
  const auto data = bytes(100);
  ASSERT_EQ(buf->insert(0, std::span<const uint8_t>(data).first(60)), ReasmBuffer::Insert::kAdded);
  ASSERT_EQ(buf->insert(80, std::span<const uint8_t>(data).subspan(80)),
            ReasmBuffer::Insert::kAdded);
  buf->consume(40);
  EXPECT_EQ(buf->contiguous(), 20u);
  EXPECT_EQ(buf->prefix()[0], 40);
  buf->consume(1000);  // past everything (an HTTP body skipped)
  EXPECT_TRUE(buf->empty());
}

TEST(ReassemblyPoolTest, ExhaustionAndReuse) {
  ReasmPool pool(2);
  const int32_t a = pool.acquire(0), b = pool.acquire(0);
  EXPECT_GE(a, 0);
  EXPECT_GE(b, 0);
  EXPECT_EQ(pool.acquire(0), -1);
  pool.release(a);
  EXPECT_EQ(pool.acquire(5), a);
  EXPECT_EQ(pool.at(a).startedNs(), 5u);
}

}  // namespace
}  // namespace cordon
