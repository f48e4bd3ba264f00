// Thin librdkafka wrappers: an idempotent producer with per-message delivery callbacks and
// a manual-commit consumer that hands out batches.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace RdKafka {
class Producer;
class KafkaConsumer;
class DeliveryReportCb;
}  // namespace RdKafka

namespace routeall {

using KafkaDeliveryCallback = std::function<void(const absl::Status&)>;

struct KafkaProducerOptions {
  std::string brokers;
  // Extra librdkafka properties; these override the defaults (acks=all, idempotence on).
  std::map<std::string, std::string> properties;
};

// What a component needs from a producer, so it can be tested without a broker.
class MessageProducer {
 public:
  virtual ~MessageProducer() = default;
  virtual absl::Status Produce(const std::string& topic, const std::string& key, const std::string& payload,
                               KafkaDeliveryCallback on_delivery) = 0;
  virtual absl::Status Flush(std::chrono::milliseconds timeout) = 0;
};

class KafkaProducer : public MessageProducer {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaProducer>> Create(const KafkaProducerOptions& options);
  ~KafkaProducer() override;

  // Enqueues without waiting for the broker; on_delivery runs later on the producer's
  // polling thread with the final outcome (after librdkafka's own retries).
  absl::Status Produce(const std::string& topic, const std::string& key, const std::string& payload,
                       KafkaDeliveryCallback on_delivery) override;
  // Waits until every enqueued message has a final outcome or the timeout passes.
  absl::Status Flush(std::chrono::milliseconds timeout) override;
  int OutstandingMessages() const;

 private:
  KafkaProducer() = default;
  void PollLoop();

  std::unique_ptr<RdKafka::DeliveryReportCb> dr_cb_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

struct KafkaMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string payload;
};

// Where a consumer stands on one assigned partition.
struct KafkaPartitionProgress {
  std::string topic;
  int32_t partition = 0;
  int64_t position = 0;  // the next offset this consumer hands out
  int64_t high = 0;      // the partition's high watermark: the offset of the next message produced
};

struct KafkaConsumerOptions {
  std::string brokers;
  std::string group_id;
  std::vector<std::string> topics;
  std::map<std::string, std::string> properties;
};

class KafkaConsumer {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(const KafkaConsumerOptions& options);
  ~KafkaConsumer();

  // Returns up to max_messages, waiting at most timeout for the first one.
  absl::StatusOr<std::vector<KafkaMessage>> PollBatch(size_t max_messages,
                                                      std::chrono::milliseconds timeout);
  // Commits, synchronously, the position after each partition's highest offset in batch.
  absl::Status CommitSync(const std::vector<KafkaMessage>& batch);
  // The assigned partitions with this consumer's position (after the last message handed
  // out; before any, the committed offset, else the low watermark) and the broker's high
  // watermark. UNAVAILABLE when the broker cannot be asked; empty while none is assigned.
  absl::StatusOr<std::vector<KafkaPartitionProgress>> Progress(std::chrono::milliseconds timeout);
  void Close();

 private:
  KafkaConsumer() = default;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  bool closed_ = false;
};

}  // namespace routeall
