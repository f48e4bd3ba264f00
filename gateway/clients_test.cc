// The gateway's auth cache: bounded, negative answers apart, and a flood of unknown keys
// neither evicts valid keys nor reaches the auth service beyond the miss budget.
#include "gateway/clients.h"

#include <gtest/gtest.h>

namespace routeall::gateway {
namespace {

class CountingAuthClient : public GrpcAuthClient {
 public:
  CountingAuthClient(AuthCacheOptions o, SteadyClock clock) : GrpcAuthClient(nullptr, o, std::move(clock)) {}
  int lookups = 0;
  bool revoked = false;

 protected:
  absl::StatusOr<auth::v1::Principal> Lookup(const std::string& key_hash) override {
    ++lookups;
    if (key_hash.rfind("valid", 0) == 0 && !revoked) {
      auth::v1::Principal p;
      p.set_account_id(7);
      return p;
    }
    return absl::NotFoundError("unknown key");
  }
};

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  SteadyClock fn() {
    return [this] { return now; };
  }
};

TEST(AuthCache, FloodOfUnknownKeysNeverEvictsAValidKey) {
  FakeClock clock;
  AuthCacheOptions o;
  o.max_positive = 10;
  o.max_negative = 100;
  o.miss_rate_per_s = 1e9;
  o.miss_burst = 1e9;
  CountingAuthClient auth(o, clock.fn());
  ASSERT_TRUE(auth.Authorize("valid-1").ok());
  for (int i = 0; i < 50000; ++i) {
    EXPECT_EQ(auth.Authorize("junk-" + std::to_string(i)).status().code(), absl::StatusCode::kNotFound);
  }
  int before = auth.lookups;
  EXPECT_TRUE(auth.Authorize("valid-1").ok());
  EXPECT_EQ(auth.lookups, before) << "the valid key must still be cached";
}

TEST(AuthCache, FloodIsHeldToTheMissBudget) {
  FakeClock clock;
  AuthCacheOptions o;
  o.miss_rate_per_s = 100;
  o.miss_burst = 100;
  CountingAuthClient auth(o, clock.fn());
  ASSERT_TRUE(auth.Authorize("valid-1").ok());
  int throttled = 0;
  for (int i = 0; i < 10000; ++i) {
    if (auth.Authorize("junk-" + std::to_string(i)).status().code() == absl::StatusCode::kResourceExhausted) ++throttled;
  }
  EXPECT_LE(auth.lookups, 101) << "auth (and PostgreSQL) sees at most the burst";
  EXPECT_GE(throttled, 9899);
  EXPECT_TRUE(auth.Authorize("valid-1").ok()) << "cached keys are never throttled";
  clock.now += std::chrono::seconds(1);
  EXPECT_EQ(auth.Authorize("junk-x").status().code(), absl::StatusCode::kNotFound) << "the budget refills";
}

TEST(AuthCache, CachesAreBoundedAndExpire) {
  FakeClock clock;
  AuthCacheOptions o;
  o.max_positive = 3;
  o.max_negative = 3;
  o.ttl = std::chrono::milliseconds(10000);
  o.negative_ttl = std::chrono::milliseconds(1000);
  CountingAuthClient auth(o, clock.fn());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(auth.Authorize("valid-" + std::to_string(i)).ok());
  EXPECT_EQ(auth.lookups, 5);
  ASSERT_TRUE(auth.Authorize("valid-4").ok());
  EXPECT_EQ(auth.lookups, 5);
  ASSERT_TRUE(auth.Authorize("valid-0").ok());  // evicted: asked again
  EXPECT_EQ(auth.lookups, 6);
  // A revoked key stops working within the positive TTL.
  auth.revoked = true;
  EXPECT_TRUE(auth.Authorize("valid-4").ok());
  clock.now += std::chrono::milliseconds(10001);
  EXPECT_EQ(auth.Authorize("valid-4").status().code(), absl::StatusCode::kNotFound);
}

TEST(LruCache, EvictsLeastRecentlyUsed) {
  LruCache<int, int> c(2);
  c.Put(1, 10);
  c.Put(2, 20);
  EXPECT_EQ(c.Get(1), 10);  // 1 is now most recent
  c.Put(3, 30);
  EXPECT_FALSE(c.Get(2).has_value());
  EXPECT_EQ(c.Get(1), 10);
  EXPECT_EQ(c.Get(3), 30);
  EXPECT_EQ(c.evictions(), 1u);
}

}  // namespace
}  // namespace routeall::gateway
