// Test helper implementations.
#include "common/testing.h"

#include <unistd.h>

#include <atomic>
#include <chrono>

namespace routeall::testing {

std::string UniqueSuffix() {
  static std::atomic<int> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::to_string(getpid()) + "_" + std::to_string(now % 1000000007) + "_" +
         std::to_string(counter++);
}

}  // namespace routeall::testing
