// Config precedence and parsing.
#include "common/config.h"

#include <gtest/gtest.h>

namespace routeall {
namespace {

TEST(ConfigTest, FlagBeatsEnvBeatsDefault) {
  const char* argv[] = {"bin", "--grpc-port=7001", "--log-level", "debug", "--verbose"};
  const char* envp[] = {"ROUTEALL_GRPC_PORT=9000", "ROUTEALL_METRICS_PORT=9100", "HOME=/x", nullptr};
  auto c = Config::FromArgs(5, argv, envp);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c->GetInt("grpc-port", 1), 7001);
  EXPECT_EQ(*c->GetInt("metrics-port", 1), 9100);
  EXPECT_EQ(*c->GetInt("other-port", 42), 42);
  EXPECT_EQ(c->GetString("log-level", "info"), "debug");
  EXPECT_TRUE(*c->GetBool("verbose", false));
  EXPECT_FALSE(c->Has("home"));
}

TEST(ConfigTest, RejectsBadValuesWithTheFlagName) {
  auto c = Config::FromMaps({{"grpc-port", "eighty"}, {"drain-ms", "-5"}}, {});
  auto port = c.GetInt("grpc-port", 0);
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("grpc-port"), std::string_view::npos);
  EXPECT_FALSE(c.GetMillis("drain-ms", std::chrono::milliseconds(1)).ok());
  EXPECT_FALSE(c.GetBool("grpc-port", false).ok());
}

TEST(ConfigTest, RejectsPositionalArguments) {
  const char* argv[] = {"bin", "stray"};
  EXPECT_FALSE(Config::FromArgs(2, argv, nullptr).ok());
}

TEST(ConfigTest, EnvName) { EXPECT_EQ(Config::EnvName("pg-url"), "ROUTEALL_PG_URL"); }

}  // namespace
}  // namespace routeall
