// JSON log line shape.
#include "common/log.h"

#include <gtest/gtest.h>

namespace routeall {
namespace {

TEST(LogTest, LineIsOneJsonObjectWithRequestId) {
  std::string line = FormatLogLine("2026-01-01T00:00:00.000Z", LogLevel::kWarn, "auth", "req-1",
                                   "key \"revoked\"\n", {{"key_id", 7}, {"msg", "spoof"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["service"], "auth");
  EXPECT_EQ(j["request_id"], "req-1");
  EXPECT_EQ(j["msg"], "key \"revoked\"\n");  // a field cannot overwrite the message
  EXPECT_EQ(j["key_id"], 7);
}

TEST(LogTest, InvalidUtf8DoesNotThrow) {
  std::string bad = "\xff\xfe";
  std::string line = FormatLogLine("t", LogLevel::kInfo, "s", "", bad, nullptr);
  auto j = nlohmann::json::parse(line);
  EXPECT_FALSE(j.contains("request_id"));
}

TEST(LogTest, ScopedRequestIdRestoresPrevious) {
  ScopedRequestId outer("a");
  {
    ScopedRequestId inner("b");
    EXPECT_EQ(CurrentRequestId(), "b");
  }
  EXPECT_EQ(CurrentRequestId(), "a");
}

}  // namespace
}  // namespace routeall
