// The strict JSON reader under the ledger.

#include "control/evidence/json.h"

#include <gtest/gtest.h>

namespace cordon::evidence {
namespace {

TEST(EvidenceJson, KeepsRawBytesOfValues) {
  json::Value v;
  std::string err;
  ASSERT_TRUE(json::parse(R"({"a":{"b":[1,2.5e3,"x\u00e9"]},"c":true,"d":null})", &v, &err)) << err;
  ASSERT_TRUE(v.isObject());
  EXPECT_EQ(v.get("a")->raw, R"({"b":[1,2.5e3,"x\u00e9"]})");
  EXPECT_EQ(v.get("a")->get("b")->items[2].str, "x\xc3\xa9");
  EXPECT_TRUE(v.get("c")->boolean);
  EXPECT_EQ(v.get("zz"), nullptr);
}

TEST(EvidenceJson, RejectsWhatCouldMeanTwoThings) {
  json::Value v;
  std::string err;
  for (const char* bad : {R"({"a":1,"a":2})", R"({"a":01})", R"({"a":1} x)", R"({"a":"\ud800"})",
                          "{\"a\":\"\x01\"}", "{", "", R"({"a":tru})", R"([1,])"}) {
    EXPECT_FALSE(json::parse(bad, &v, &err)) << bad;
  }
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(json::parse(deep, &v, &err));
  EXPECT_NE(err.find("nesting too deep"), std::string::npos);
}

TEST(EvidenceJson, Uint64) {
  json::Value v;
  std::string err;
  uint64_t n = 0;
  ASSERT_TRUE(json::parse("18446744073709551615", &v, &err));
  EXPECT_TRUE(v.asU64(&n));
  EXPECT_EQ(n, UINT64_MAX);
  ASSERT_TRUE(json::parse("18446744073709551616", &v, &err));
  EXPECT_FALSE(v.asU64(&n));
  ASSERT_TRUE(json::parse("-1", &v, &err));
  EXPECT_FALSE(v.asU64(&n));
  EXPECT_EQ(json::quote("a\"b\n"), "\"a\\\"b\\u000a\"");
}

}  // namespace
}  // namespace cordon::evidence
