// UsagePublisher with a scripted producer: delivered events are not spooled, failed ones
// are, and a replay after the broker returns delivers each spooled event exactly once.
#include "gateway/usage_publisher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/testing.h"

namespace routeall::gateway {
namespace {

class ScriptedProducer : public MessageProducer {
 public:
  absl::Status Produce(const std::string& topic, const std::string& key, const std::string& payload,
                       KafkaDeliveryCallback cb) override {
    std::lock_guard<std::mutex> lock(mu);
    if (refuse_enqueue) return absl::UnavailableError("queue full");
    // Deliver (or fail) asynchronously, like librdkafka's poll thread.
    bool ok = up;
    pending.emplace_back([=] {
      if (ok) {
        std::lock_guard<std::mutex> l(mu);
        billing::v1::UsageEvent e;
        e.ParseFromString(payload);
        delivered_ids.push_back(e.request_id());
        keys.push_back(key);
      }
      cb(ok ? absl::OkStatus() : absl::UnavailableError("broker down"));
    });
    return absl::OkStatus();
  }
  absl::Status Flush(std::chrono::milliseconds) override {
    RunPending();
    return absl::OkStatus();
  }
  void RunPending() {
    std::vector<std::function<void()>> run;
    {
      std::lock_guard<std::mutex> lock(mu);
      run.swap(pending);
    }
    for (auto& f : run) f();
  }
  std::mutex mu;
  bool up = true;
  bool refuse_enqueue = false;
  std::vector<std::function<void()>> pending;
  std::vector<std::string> delivered_ids, keys;
};

billing::v1::UsageEvent Event(const std::string& id) {
  billing::v1::UsageEvent e;
  e.set_request_id(id);
  e.set_account_id(42);
  e.set_charge_micros(1710);
  return e;
}

class UsagePublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("usage_spool_" + routeall::testing::UniqueSuffix());
    auto producer = std::make_unique<ScriptedProducer>();
    producer_ = producer.get();
    auto spool = Spool::Open(dir_);
    ASSERT_TRUE(spool.ok());
    UsagePublisherOptions opts;
    opts.replay_interval = std::chrono::hours(1);  // replay only when the test says so
    publisher_ = std::make_unique<UsagePublisher>(std::move(producer), std::move(*spool), opts);
  }
  void TearDown() override {
    publisher_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  ScriptedProducer* producer_ = nullptr;
  std::unique_ptr<UsagePublisher> publisher_;
};

TEST_F(UsagePublisherTest, DeliveredEventsAreKeyedByAccountAndNotSpooled) {
  publisher_->Publish(Event("r1"));
  producer_->RunPending();
  EXPECT_EQ(publisher_->delivered(), 1);
  EXPECT_EQ(publisher_->spooled(), 0);
  EXPECT_EQ(producer_->keys, std::vector<std::string>{"42"});
}

TEST_F(UsagePublisherTest, BrokerDownSpoolsThenReplayDeliversEachOnce) {
  producer_->up = false;
  for (int i = 0; i < 50; ++i) publisher_->Publish(Event("r" + std::to_string(i)));
  producer_->refuse_enqueue = true;
  for (int i = 50; i < 60; ++i) publisher_->Publish(Event("r" + std::to_string(i)));
  producer_->refuse_enqueue = false;
  producer_->RunPending();
  EXPECT_EQ(publisher_->spooled(), 60);
  EXPECT_EQ(publisher_->delivered(), 0);

  // Still down: a replay re-spools everything and loses nothing.
  std::thread runner([&] {
    for (int i = 0; i < 200; ++i) {
      producer_->RunPending();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  EXPECT_EQ(publisher_->ReplayOnce(), 0);
  producer_->up = true;
  EXPECT_EQ(publisher_->ReplayOnce(), 60);
  runner.join();
  std::set<std::string> ids(producer_->delivered_ids.begin(), producer_->delivered_ids.end());
  EXPECT_EQ(ids.size(), 60u);
  EXPECT_EQ(producer_->delivered_ids.size(), 60u) << "each event delivered exactly once";
  EXPECT_EQ(publisher_->lost(), 0);
  // Nothing left on disk.
  EXPECT_EQ(publisher_->ReplayOnce(), 0);
}

TEST_F(UsagePublisherTest, ShutdownSpoolsWhatTheBrokerNeverAcked) {
  producer_->up = false;
  publisher_->Publish(Event("late"));
  publisher_->Shutdown(std::chrono::milliseconds(10));
  EXPECT_EQ(publisher_->spooled(), 1);
  // A new publisher on the same folder (process restart) replays it.
  auto producer = std::make_unique<ScriptedProducer>();
  auto* p = producer.get();
  auto spool = Spool::Open(dir_);
  UsagePublisherOptions opts;
  opts.replay_interval = std::chrono::hours(1);
  UsagePublisher again(std::move(producer), std::move(*spool), opts);
  std::thread runner([&] {
    for (int i = 0; i < 100; ++i) {
      p->RunPending();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  EXPECT_EQ(again.ReplayOnce(), 1);
  runner.join();
  ASSERT_EQ(p->delivered_ids.size(), 1u);
  EXPECT_EQ(p->delivered_ids[0], "late");
}

}  // namespace
}  // namespace routeall::gateway
