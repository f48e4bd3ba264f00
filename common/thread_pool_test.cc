// ElasticThreadPool grows to its cap and refuses beyond it.
#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace routeall {
namespace {

TEST(ElasticThreadPoolTest, GrowsUpToCapThenRefuses) {
  ElasticThreadPool pool(1, 3);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> started{0};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(pool.Submit([&, gate] { ++started; gate.wait(); }));
  }
  while (started.load() < 3) std::this_thread::yield();
  EXPECT_EQ(pool.threads(), 3);
  EXPECT_EQ(pool.busy(), 3);
  EXPECT_FALSE(pool.Submit([] {}));
  release.set_value();
  pool.Stop();
  EXPECT_FALSE(pool.Submit([] {}));
}

TEST(ElasticThreadPoolTest, ReusesIdleThreadsAndRunsEverything) {
  ElasticThreadPool pool(2, 8);
  std::atomic<int> done{0};
  for (int round = 0; round < 50; ++round) {
    std::promise<void> p;
    ASSERT_TRUE(pool.Submit([&] { ++done; p.set_value(); }));
    p.get_future().wait();
    while (pool.busy() != 0) std::this_thread::yield();
  }
  EXPECT_EQ(done.load(), 50);
  EXPECT_EQ(pool.threads(), 2);
}

}  // namespace
}  // namespace routeall
