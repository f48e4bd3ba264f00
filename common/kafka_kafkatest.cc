// Kafka round trip through KafkaProducer and KafkaConsumer against the real broker.
#include "common/kafka.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "common/testing.h"

namespace routeall {
namespace {

TEST(KafkaTest, ProduceConsumeCommitAndResume) {
  ROUTEALL_REQUIRE_ENV(brokers, "ROUTEALL_TEST_KAFKA_BROKERS");
  const std::string topic = "routeall.test." + routeall::testing::UniqueSuffix();
  const std::string group = "g-" + topic;

  auto producer = KafkaProducer::Create({brokers, {}});
  ASSERT_TRUE(producer.ok()) << producer.status();
  std::atomic<int> delivered{0}, failed{0};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*producer)
                    ->Produce(topic, "acct-" + std::to_string(i % 3), "payload-" + std::to_string(i),
                              [&](const absl::Status& s) { s.ok() ? ++delivered : ++failed; })
                    .ok());
  }
  ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(20)).ok());
  EXPECT_EQ(delivered.load(), 20);
  EXPECT_EQ(failed.load(), 0);

  std::set<std::string> seen;
  {
    auto consumer = KafkaConsumer::Create({brokers, group, {topic}, {}});
    ASSERT_TRUE(consumer.ok()) << consumer.status();
    // Consume and commit only the first 10, then "crash" (close without committing more).
    std::vector<KafkaMessage> first;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (first.size() < 10 && std::chrono::steady_clock::now() < deadline) {
      auto batch = (*consumer)->PollBatch(10 - first.size(), std::chrono::milliseconds(500));
      if (!batch.ok()) continue;
      for (auto& m : *batch) first.push_back(m);
    }
    ASSERT_EQ(first.size(), 10u);
    for (auto& m : first) {
      EXPECT_EQ(m.topic, topic);
      EXPECT_EQ(m.key.rfind("acct-", 0), 0u);
      seen.insert(m.payload);
    }
    ASSERT_TRUE((*consumer)->CommitSync(first).ok());
    // Read more but do not commit them: they must come again.
    auto extra = (*consumer)->PollBatch(5, std::chrono::milliseconds(2000));
    ASSERT_TRUE(extra.ok());
    (*consumer)->Close();
  }
  {
    auto consumer = KafkaConsumer::Create({brokers, group, {topic}, {}});
    ASSERT_TRUE(consumer.ok());
    std::vector<KafkaMessage> rest;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (rest.size() < 10 && std::chrono::steady_clock::now() < deadline) {
      auto batch = (*consumer)->PollBatch(100, std::chrono::milliseconds(500));
      if (!batch.ok()) continue;
      for (auto& m : *batch) rest.push_back(m);
    }
    ASSERT_EQ(rest.size(), 10u) << "resumed exactly after the committed offset";
    for (auto& m : rest) EXPECT_TRUE(seen.insert(m.payload).second) << "duplicate " << m.payload;
    ASSERT_TRUE((*consumer)->CommitSync(rest).ok());
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(KafkaTest, ConsumerSubscribedBeforeTheTopicExistsSeesItsFirstMessage) {
  ROUTEALL_REQUIRE_ENV(brokers, "ROUTEALL_TEST_KAFKA_BROKERS");
  const std::string topic = "routeall.test.late." + routeall::testing::UniqueSuffix();
  auto consumer = KafkaConsumer::Create({brokers, "g-" + topic, {topic}, {}});
  ASSERT_TRUE(consumer.ok());
  (void)(*consumer)->PollBatch(1, std::chrono::milliseconds(500));  // subscribe, topic absent
  auto producer = KafkaProducer::Create({brokers, {}});
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Produce(topic, "k", "first", nullptr).ok());
  ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(20)).ok());
  std::vector<KafkaMessage> got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (got.empty() && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*consumer)->PollBatch(10, std::chrono::milliseconds(500));
    if (batch.ok()) got = *batch;
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "first");
}

TEST(KafkaTest, BadPropertyIsAnError) {
  auto p = KafkaProducer::Create({"127.0.0.1:1", {{"no.such.property", "1"}}});
  EXPECT_FALSE(p.ok());
}

}  // namespace
}  // namespace routeall
