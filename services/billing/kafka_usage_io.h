// The consumer's MessageSource and DeadLetterSink on the Kafka wrappers of common/kafka.
#pragma once

#include <memory>
#include <string>

#include "common/kafka.h"
#include "services/billing/usage_consumer.h"

namespace routeall::billing {

class KafkaMessageSource final : public MessageSource {
 public:
  explicit KafkaMessageSource(std::unique_ptr<KafkaConsumer> consumer) : consumer_(std::move(consumer)) {}

  // MessageSource
  absl::StatusOr<std::vector<KafkaMessage>> Poll(size_t max_messages,
                                                 std::chrono::milliseconds timeout) override;
  absl::Status Commit(const std::vector<KafkaMessage>& batch) override;
  void Close() override;
  absl::StatusOr<std::vector<KafkaPartitionProgress>> Progress() override;

 private:
  std::unique_ptr<KafkaConsumer> consumer_;
};

class KafkaDeadLetterSink final : public DeadLetterSink {
 public:
  KafkaDeadLetterSink(KafkaProducer* producer, std::string topic,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60))
      : producer_(producer), topic_(std::move(topic)), timeout_(timeout) {}

  // DeadLetterSink
  absl::Status Send(const std::vector<KafkaMessage>& messages) override;

 private:
  KafkaProducer* producer_;
  std::string topic_;
  std::chrono::milliseconds timeout_;
};

}  // namespace routeall::billing
