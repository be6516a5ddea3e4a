// ByteReader (dataplane/common/byte_reader.h): every read succeeds on enough bytes, fails on
// one byte too few without touching its output, and failure is sticky.

#include "dataplane/common/byte_reader.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace cordon {
namespace {

TEST(ByteReaderTest, ReadsBigEndianIntegers) {
  const std::array<uint8_t, 10> b = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a};
  ByteReader r(b);
  uint8_t u8 = 0;
  uint16_t u16 = 0;
  uint32_t u24 = 0, u32 = 0;
  ASSERT_TRUE(r.readU8(&u8));
  ASSERT_TRUE(r.readU16(&u16));
  ASSERT_TRUE(r.readU24(&u24));
  ASSERT_TRUE(r.readU32(&u32));
  EXPECT_EQ(u8, 0x01);
  EXPECT_EQ(u16, 0x0203);
  EXPECT_EQ(u24, 0x040506u);
  EXPECT_EQ(u32, 0x0708090au);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.offset(), 10u);
}

TEST(ByteReaderTest, HighBitsDoNotSignExtend) {
  const std::array<uint8_t, 4> b = {0xff, 0xfe, 0xfd, 0xfc};
  ByteReader r(b);
  uint32_t v = 0;
  ASSERT_TRUE(r.readU32(&v));
  EXPECT_EQ(v, 0xfffefdfcu);
  ByteReader r2(b);
  uint16_t w = 0;
  ASSERT_TRUE(r2.readU16(&w));
  EXPECT_EQ(w, 0xfffe);
}

// RFC 9000 appendix A.1 sample encodings.
TEST(ByteReaderTest, ReadsVarInt62SamplesFromRfc9000) {
  struct Case {
    std::vector<uint8_t> bytes;
    uint64_t value;
  };
  const Case cases[] = {
      {{0x25}, 37},
      {{0x40, 0x25}, 37},
      {{0x7b, 0xbd}, 15293},
      {{0x9d, 0x7f, 0x3e, 0x7d}, 494878333},
      {{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}, 151288809941952652ull},
  };
  for (const Case& c : cases) {
    ByteReader r(c.bytes);
    uint64_t v = 0;
    ASSERT_TRUE(r.readVarInt62(&v));
    EXPECT_EQ(v, c.value);
    EXPECT_TRUE(r.empty());
  }
}

// One byte short for each fixed-size read: false, output untouched, reader failed.
TEST(ByteReaderTest, ReadU8WithBufferTooSmall) {
  ByteReader r(nullptr, 0);
  uint8_t v = 0xaa;
  EXPECT_FALSE(r.readU8(&v));
  EXPECT_EQ(v, 0xaa);
  EXPECT_TRUE(r.failed());
}

TEST(ByteReaderTest, ReadU16WithBufferTooSmall) {
  const std::array<uint8_t, 1> b = {0x01};
  ByteReader r(b);
  uint16_t v = 0xaaaa;
  EXPECT_FALSE(r.readU16(&v));
  EXPECT_EQ(v, 0xaaaa);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.offset(), 0u);
}

TEST(ByteReaderTest, ReadU24WithBufferTooSmall) {
  const std::array<uint8_t, 2> b = {0x01, 0x02};
  ByteReader r(b);
  uint32_t v = 0xaaaaaaaa;
  EXPECT_FALSE(r.readU24(&v));
  EXPECT_EQ(v, 0xaaaaaaaau);
  EXPECT_TRUE(r.failed());
}

TEST(ByteReaderTest, ReadU32WithBufferTooSmall) {
  const std::array<uint8_t, 3> b = {0x01, 0x02, 0x03};
  ByteReader r(b);
  uint32_t v = 0xaaaaaaaa;
  EXPECT_FALSE(r.readU32(&v));
  EXPECT_EQ(v, 0xaaaaaaaau);
  EXPECT_TRUE(r.failed());
}

TEST(ByteReaderTest, ReadVarInt62WithBufferTooSmall) {
  // Each length prefix (1, 2, 4, 8 bytes) with one byte missing.
  const std::vector<std::vector<uint8_t>> cases = {
      {}, {0x40}, {0x80, 0x00, 0x00}, {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}};
  for (const auto& b : cases) {
    ByteReader r(b);
    uint64_t v = 0xaa;
    EXPECT_FALSE(r.readVarInt62(&v)) << b.size();
    EXPECT_EQ(v, 0xaau);
    EXPECT_TRUE(r.failed());
  }
}

TEST(ByteReaderTest, ReadBytesWithBufferTooSmall) {
  const std::array<uint8_t, 3> b = {1, 2, 3};
  ByteReader r(b);
  std::span<const uint8_t> s;
  EXPECT_FALSE(r.readBytes(4, &s));
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(r.failed());
  ByteReader ok(b);
  ASSERT_TRUE(ok.readBytes(3, &s));
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2], 3);
}

TEST(ByteReaderTest, ReadBytesZeroFromEmpty) {
  ByteReader r(nullptr, 0);
  std::span<const uint8_t> s;
  EXPECT_TRUE(r.readBytes(0, &s));
  EXPECT_TRUE(r.skip(0));
  EXPECT_FALSE(r.failed());
}

TEST(ByteReaderTest, SkipWithBufferTooSmall) {
  const std::array<uint8_t, 2> b = {1, 2};
  ByteReader r(b);
  EXPECT_FALSE(r.skip(3));
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.offset(), 0u);
}

TEST(ByteReaderTest, ReadPrefixed8WithBufferTooSmall) {
  {
    ByteReader r(nullptr, 0);  // no length byte
    ByteReader sub;
    EXPECT_FALSE(r.readPrefixed8(&sub));
    EXPECT_TRUE(r.failed());
  }
  {
    const std::array<uint8_t, 3> b = {3, 0xa, 0xb};  // length 3, two bytes
    ByteReader r(b);
    ByteReader sub;
    EXPECT_FALSE(r.readPrefixed8(&sub));
    EXPECT_TRUE(r.failed());
    EXPECT_EQ(sub.size(), 0u);
  }
  {
    const std::array<uint8_t, 4> b = {2, 0xa, 0xb, 0xc};
    ByteReader r(b);
    ByteReader sub;
    ASSERT_TRUE(r.readPrefixed8(&sub));
    EXPECT_EQ(sub.size(), 2u);
    EXPECT_EQ(r.remaining(), 1u);
  }
}

TEST(ByteReaderTest, ReadPrefixed16WithBufferTooSmall) {
  {
    const std::array<uint8_t, 1> b = {0};  // half a length
    ByteReader r(b);
    ByteReader sub;
    EXPECT_FALSE(r.readPrefixed16(&sub));
    EXPECT_TRUE(r.failed());
  }
  {
    const std::array<uint8_t, 4> b = {0x01, 0x00, 0xa, 0xb};  // length 256, two bytes
    ByteReader r(b);
    ByteReader sub;
    EXPECT_FALSE(r.readPrefixed16(&sub));
    EXPECT_TRUE(r.failed());
  }
}

TEST(ByteReaderTest, ReadPrefixed24WithBufferTooSmall) {
  {
    const std::array<uint8_t, 2> b = {0, 0};
    ByteReader r(b);
    ByteReader sub;
    EXPECT_FALSE(r.readPrefixed24(&sub));
    EXPECT_TRUE(r.failed());
  }
  {
    const std::array<uint8_t, 4> b = {0xff, 0xff, 0xff, 0};  // 16 MiB claimed
    ByteReader r(b);
    ByteReader sub;
    EXPECT_FALSE(r.readPrefixed24(&sub));
    EXPECT_TRUE(r.failed());
  }
  {
    const std::array<uint8_t, 5> b = {0, 0, 2, 7, 8};
    ByteReader r(b);
    ByteReader sub;
    ASSERT_TRUE(r.readPrefixed24(&sub));
    uint16_t v = 0;
    ASSERT_TRUE(sub.readU16(&v));
    EXPECT_EQ(v, 0x0708);
  }
}

TEST(ByteReaderTest, ReadSubWithBufferTooSmall) {
  const std::array<uint8_t, 2> b = {1, 2};
  ByteReader r(b);
  ByteReader sub;
  EXPECT_FALSE(r.readSub(3, &sub));
  EXPECT_TRUE(r.failed());
}

TEST(ByteReaderTest, SubReaderIsBoundedToItsField) {
  const std::array<uint8_t, 4> b = {1, 0xa, 0xb, 0xc};
  ByteReader r(b);
  ByteReader sub;
  ASSERT_TRUE(r.readPrefixed8(&sub));
  uint16_t v = 0;
  EXPECT_FALSE(sub.readU16(&v));  // the field is one byte, though the buffer has more
  EXPECT_TRUE(sub.failed());
  EXPECT_FALSE(r.failed());  // the parent is not affected
  uint16_t rest = 0;
  ASSERT_TRUE(r.readU16(&rest));
  EXPECT_EQ(rest, 0x0b0c);
}

TEST(ByteReaderTest, PeekU8WithBufferTooSmall) {
  ByteReader r(nullptr, 0);
  uint8_t v = 0xaa;
  EXPECT_FALSE(r.peekU8(&v));
  EXPECT_EQ(v, 0xaa);
  const std::array<uint8_t, 1> b = {7};
  ByteReader r2(b);
  ASSERT_TRUE(r2.peekU8(&v));
  EXPECT_EQ(v, 7);
  EXPECT_EQ(r2.offset(), 0u);  // peek does not consume
}

TEST(ByteReaderTest, PeekU16WithBufferTooSmall) {
  const std::array<uint8_t, 1> b = {7};
  ByteReader r(b);
  uint16_t v = 0xaaaa;
  EXPECT_FALSE(r.peekU16(&v));
  EXPECT_EQ(v, 0xaaaa);
  const std::array<uint8_t, 2> b2 = {7, 8};
  ByteReader r2(b2);
  ASSERT_TRUE(r2.peekU16(&v));
  EXPECT_EQ(v, 0x0708);
  EXPECT_EQ(r2.remaining(), 2u);
}

TEST(ByteReaderTest, SeekPastEndFails) {
  const std::array<uint8_t, 3> b = {1, 2, 3};
  ByteReader r(b);
  EXPECT_TRUE(r.seek(3));  // the end itself is a valid position
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.seek(1));
  uint8_t v = 0;
  ASSERT_TRUE(r.readU8(&v));
  EXPECT_EQ(v, 2);
  EXPECT_FALSE(r.seek(4));
  EXPECT_TRUE(r.failed());
}

TEST(ByteReaderTest, FailureIsSticky) {
  const std::array<uint8_t, 4> b = {1, 2, 3, 4};
  ByteReader r(b);
  uint32_t v32 = 0;
  uint8_t v8 = 0;
  uint16_t v16 = 0;
  uint64_t v64 = 0;
  std::span<const uint8_t> s;
  ByteReader sub;
  ASSERT_TRUE(r.readU8(&v8));
  ASSERT_FALSE(r.readU32(&v32));  // 3 bytes left: fails
  // Everything afterwards fails, even reads that would fit.
  EXPECT_FALSE(r.readU8(&v8));
  EXPECT_FALSE(r.readU16(&v16));
  EXPECT_FALSE(r.readU24(&v32));
  EXPECT_FALSE(r.readVarInt62(&v64));
  EXPECT_FALSE(r.readBytes(1, &s));
  EXPECT_FALSE(r.readBytes(0, &s));
  EXPECT_FALSE(r.skip(0));
  EXPECT_FALSE(r.readSub(0, &sub));
  EXPECT_FALSE(r.readPrefixed8(&sub));
  EXPECT_FALSE(r.peekU8(&v8));
  EXPECT_FALSE(r.peekU16(&v16));
  EXPECT_FALSE(r.seek(0));
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.offset(), 1u);  // the failed read consumed nothing
}

}  // namespace
}  // namespace cordon
