// UsagePublisher with a scripted producer: every event is written ahead before the producer sees
// it, acknowledged events leave no file behind, failed ones are replayed exactly once, a
// SIGKILL loses nothing, and a full disk or a damaged spool is counted, never silent.
#include "gateway/usage_publisher.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
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
    bool ok = up && !(fail_every > 0 && ++produced % fail_every == 0);
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
  std::atomic<bool> up{true};
  std::atomic<int> fail_every{0};  // > 0: every n-th message fails
  int produced = 0;
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
    SpoolOptions sopts;
    sopts.write = [this](int fd, const void* p, size_t n) -> ssize_t {
      if (disk_full_) {
        errno = ENOSPC;
        return -1;
      }
      return ::write(fd, p, n);
    };
    auto spool = Spool::Open(dir_, sopts);
    ASSERT_TRUE(spool.ok());
    UsagePublisherOptions opts;
    opts.replay_interval = std::chrono::hours(1);  // replay only when the test says so
    publisher_ = std::make_unique<UsagePublisher>(std::move(producer), std::move(*spool), opts);
  }
  // Runs the producer's callbacks in the background while a replay waits for them.
  std::thread Pump(ScriptedProducer* p, int ms = 400) {
    return std::thread([p, ms] {
      for (int i = 0; i < ms / 2; ++i) {
        p->RunPending();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) out.push_back(e.path().string());
    return out;
  }
  std::atomic<bool> disk_full_{false};
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
  EXPECT_EQ(publisher_->ReplayOnce(), 0);  // rotates: the acknowledged segment is deleted
  EXPECT_TRUE(Files().empty());
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
  EXPECT_TRUE(Files().empty());
  EXPECT_EQ(publisher_->spool_stats().unacked, 0);
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

// A producer that never reports an outcome: the event sits in its memory (librdkafka with the
// broker down, for message.timeout.ms).
class SilentProducer : public MessageProducer {
 public:
  absl::Status Produce(const std::string&, const std::string&, const std::string&, KafkaDeliveryCallback) override {
    return absl::OkStatus();
  }
  absl::Status Flush(std::chrono::milliseconds) override { return absl::OkStatus(); }
};

TEST_F(UsagePublisherTest, EventsInTheProducersMemoryAtSigkillAreReplayedAfterRestart) {
  publisher_.reset();  // no other thread while forking
  auto dir = dir_.string() + "_killed";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto spool = Spool::Open(dir);
    if (!spool.ok()) _exit(3);
    UsagePublisherOptions opts;
    opts.replay_interval = std::chrono::hours(1);
    auto* p = new UsagePublisher(std::make_unique<SilentProducer>(), std::move(*spool), opts);
    for (int i = 0; i < 25; ++i) p->Publish(Event("killed-" + std::to_string(i)));
    kill(getpid(), SIGKILL);  // the answers went out; Kafka never acked; no shutdown runs
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  auto producer = std::make_unique<ScriptedProducer>();
  auto* p = producer.get();
  auto spool = Spool::Open(dir);
  ASSERT_TRUE(spool.ok());
  UsagePublisherOptions opts;
  opts.replay_interval = std::chrono::hours(1);
  {
    UsagePublisher again(std::move(producer), std::move(*spool), opts);
    std::thread runner = Pump(p);
    EXPECT_EQ(again.ReplayOnce(), 25);
    runner.join();
    EXPECT_EQ(again.lost(), 0);
    std::set<std::string> ids(p->delivered_ids.begin(), p->delivered_ids.end());
    EXPECT_EQ(ids.size(), 25u);
    EXPECT_EQ(p->delivered_ids.size(), 25u);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "replayed and acknowledged: the segment is gone";
  std::filesystem::remove_all(dir);
}

TEST_F(UsagePublisherTest, DiskFullDuringReplayKeepsTheSpooledEvents) {
  producer_->up = false;
  for (int i = 0; i < 5; ++i) publisher_->Publish(Event("d" + std::to_string(i)));
  producer_->RunPending();
  EXPECT_EQ(publisher_->spooled(), 5);
  // The disk fills up while the broker is still down: the old replayer re-appended each event,
  // failed, and deleted the segment anyway.
  disk_full_ = true;
  std::thread runner = Pump(producer_);
  EXPECT_EQ(publisher_->ReplayOnce(), 0);
  runner.join();
  EXPECT_EQ(publisher_->lost(), 0);
  EXPECT_EQ(publisher_->spool_stats().unacked, 5);
  disk_full_ = false;
  producer_->up = true;
  runner = Pump(producer_);
  EXPECT_EQ(publisher_->ReplayOnce(), 5);
  runner.join();
  EXPECT_EQ(std::set<std::string>(producer_->delivered_ids.begin(), producer_->delivered_ids.end()).size(), 5u);
  EXPECT_TRUE(Files().empty());
}

TEST_F(UsagePublisherTest, DiskFullAtPublishDeliversFromMemoryAndCountsOnlyRealLosses) {
  disk_full_ = true;
  publisher_->Publish(Event("mem-ok"));
  producer_->RunPending();
  EXPECT_EQ(publisher_->delivered(), 1);
  EXPECT_EQ(publisher_->unprotected(), 1);
  EXPECT_EQ(publisher_->lost(), 0);
  // Broker down too: the event can be neither delivered nor kept.
  producer_->up = false;
  publisher_->Publish(Event("gone"));
  producer_->RunPending();
  EXPECT_EQ(publisher_->lost(), 1);
  // The disk recovers before the delivery fails: the event is kept after all.
  producer_->RunPending();
  publisher_->Publish(Event("saved-late"));
  disk_full_ = false;
  producer_->RunPending();
  EXPECT_EQ(publisher_->lost(), 1);
  EXPECT_EQ(publisher_->spooled(), 1);
  producer_->up = true;
  std::thread runner = Pump(producer_);
  EXPECT_EQ(publisher_->ReplayOnce(), 1);
  runner.join();
  EXPECT_EQ(producer_->delivered_ids.back(), "saved-late");
}

TEST_F(UsagePublisherTest, CorruptSpoolRecordIsCountedLost) {
  auto dir = dir_.string() + "_corrupt";
  {
    auto spool = Spool::Open(dir);
    ASSERT_TRUE(spool.ok());
    for (const char* id : {"c1", "c2", "c3"}) ASSERT_TRUE((*spool)->Append(Event(id).SerializeAsString()).ok());
  }
  auto seg = std::filesystem::directory_iterator(dir)->path();
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(9);  // inside the first record's payload
    f.put('\xff');
  }
  auto producer = std::make_unique<ScriptedProducer>();
  auto* p = producer.get();
  UsagePublisherOptions opts;
  opts.replay_interval = std::chrono::hours(1);
  UsagePublisher again(std::move(producer), std::move(*Spool::Open(dir)), opts);
  std::thread runner = Pump(p);
  EXPECT_EQ(again.ReplayOnce(), 2);
  runner.join();
  EXPECT_EQ(p->delivered_ids, (std::vector<std::string>{"c2", "c3"}));
  EXPECT_EQ(again.lost(), 1) << "a damaged record is a counted loss, not a silent one";
  std::filesystem::remove_all(dir);
}

TEST_F(UsagePublisherTest, ConcurrentPublishWithAFlakyBrokerDeliversEveryEventOnceAndLeavesNoFile) {
  auto dir = dir_.string() + "_concurrent";
  auto producer = std::make_unique<ScriptedProducer>();
  auto* p = producer.get();
  p->fail_every = 7;
  SpoolOptions sopts;
  sopts.max_segment_bytes = 4096;  // many rotations while events are in flight
  UsagePublisherOptions opts;
  opts.replay_interval = std::chrono::hours(1);
  UsagePublisher pub(std::move(producer), std::move(*Spool::Open(dir, sopts)), opts);
  std::atomic<bool> stop{false};
  std::thread pump([&] {
    while (!stop) {
      p->RunPending();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  constexpr int kThreads = 8, kEach = 500;
  std::vector<std::thread> publishers;
  for (int t = 0; t < kThreads; ++t) {
    publishers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) pub.Publish(Event("t" + std::to_string(t) + "-" + std::to_string(i)));
    });
  }
  for (auto& th : publishers) th.join();
  EXPECT_GT(pub.spooled(), 0);
  p->fail_every = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((pub.spool_stats().unacked > 0 || pub.spool_stats().segments > 0) &&
         std::chrono::steady_clock::now() < deadline) {
    pub.ReplayOnce();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  pump.join();
  {
    std::lock_guard<std::mutex> lock(p->mu);
    std::set<std::string> ids(p->delivered_ids.begin(), p->delivered_ids.end());
    EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
    EXPECT_EQ(p->delivered_ids.size(), static_cast<size_t>(kThreads * kEach)) << "each event delivered once";
  }
  EXPECT_EQ(pub.delivered() + pub.replayed(), kThreads * kEach);
  EXPECT_EQ(pub.lost(), 0);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

// Not a pass/fail test: prints what Publish costs the request thread (serialize, CRC, one
// write(2) to the spool, enqueue) with a producer that acknowledges at once.
TEST_F(UsagePublisherTest, PublishCostPerEvent) {
  class InstantProducer : public MessageProducer {
   public:
    absl::Status Produce(const std::string&, const std::string&, const std::string&,
                         KafkaDeliveryCallback cb) override {
      cb(absl::OkStatus());
      return absl::OkStatus();
    }
    absl::Status Flush(std::chrono::milliseconds) override { return absl::OkStatus(); }
  };
  auto dir = dir_.string() + "_bench";
  UsagePublisherOptions opts;
  opts.replay_interval = std::chrono::milliseconds(200);  // rotation and fsync run as in production
  UsagePublisher pub(std::make_unique<InstantProducer>(), std::move(*Spool::Open(dir)), opts);
  // A realistic event (what ChatPipeline::Settle fills in).
  billing::v1::UsageEvent e = Event("0123456789abcdef01234567");
  e.set_key_id(1234);
  e.set_model("gpt-4o-mini");
  e.set_channel_id(7);
  e.mutable_usage()->set_prompt_tokens(1523);
  e.mutable_usage()->set_cached_tokens(1024);
  e.mutable_usage()->set_completion_tokens(312);
  e.set_price_version(3);
  e.set_multiplier_ppm(1000000);
  e.set_hold_id("h-0123456789abcdef0123");
  e.set_stream(true);
  e.mutable_occurred_at()->set_seconds(1796300000);
  const int n = 50000;
  auto per_event = [&](auto&& fn) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) fn();
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(ns) / n;
  };
  double publish = per_event([&] { pub.Publish(e); });
  // The write-ahead part alone, and what the path costs without it (serialize + produce).
  auto raw = Spool::Open(dir + "_raw");
  std::string payload = e.SerializeAsString();
  double append = per_event([&] { (void)(*raw)->Append(payload); });
  InstantProducer bare;
  double without = per_event([&] {
    (void)bare.Produce("t", std::to_string(e.account_id()), e.SerializeAsString(), [](const absl::Status&) {});
  });
  raw->reset();
  std::filesystem::remove_all(dir + "_raw");
  std::printf("[usage] Publish %.0f ns/event (Spool::Append alone %.0f ns; serialize+produce without the spool "
              "%.0f ns), %zu-byte events, %d events\n",
              publish, append, without, payload.size(), n);
  EXPECT_EQ(pub.delivered(), n);
  pub.Shutdown(std::chrono::milliseconds(100));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace routeall::gateway
