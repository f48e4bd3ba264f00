// Test helpers: where the real PostgreSQL and Kafka started by scripts/test live.
#pragma once

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace routeall::testing {

// Returns the environment value, or "" after recording why the test cannot run. When
// ROUTEALL_TEST_REQUIRE_INTEGRATION=1 (scripts/test sets it) a missing value fails the test
// instead of skipping it, so CI can never pass by skipping.
inline std::string IntegrationEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v != nullptr && *v != '\0') return v;
  const char* req = std::getenv("ROUTEALL_TEST_REQUIRE_INTEGRATION");
  if (req != nullptr && std::string(req) == "1") {
    ADD_FAILURE() << name << " is not set but integration tests are required";
  }
  return "";
}

// A unique suffix per test process, so parallel runs never share schemas or topics.
std::string UniqueSuffix();

}  // namespace routeall::testing

#define ROUTEALL_REQUIRE_ENV(var, name)                                  \
  std::string var = ::routeall::testing::IntegrationEnv(name);           \
  if (var.empty()) GTEST_SKIP() << name << " not set (run scripts/test)"
