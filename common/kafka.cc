// KafkaProducer and KafkaConsumer on librdkafka's C++ API.
#include "common/kafka.h"

#include <librdkafka/rdkafkacpp.h>

#include "absl/strings/str_cat.h"

namespace routeall {
namespace {

class DeliveryReport : public RdKafka::DeliveryReportCb {
 public:
  // RdKafka::DeliveryReportCb
  void dr_cb(RdKafka::Message& message) override {
    auto* cb = static_cast<KafkaDeliveryCallback*>(message.msg_opaque());
    if (cb == nullptr) return;
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      (*cb)(absl::OkStatus());
    } else {
      (*cb)(absl::UnavailableError(absl::StrCat("kafka delivery: ", message.errstr())));
    }
    delete cb;
  }
};

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(
    const std::string& brokers, const std::map<std::string, std::string>& defaults,
    const std::map<std::string, std::string>& overrides) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  std::map<std::string, std::string> all = defaults;
  all["bootstrap.servers"] = brokers;
  for (const auto& [k, v] : overrides) all[k] = v;
  for (const auto& [k, v] : all) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("kafka property ", k, ": ", err));
    }
  }
  return conf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(
    const KafkaProducerOptions& options) {
  auto conf = MakeConf(options.brokers,
                       {{"enable.idempotence", "true"},
                        {"acks", "all"},
                        {"linger.ms", "5"},
                        {"compression.type", "lz4"},
                        // Keep retrying a down broker for a long time; the caller's spool
                        // covers what still fails.
                        {"message.timeout.ms", "30000"}},
                       options.properties);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<KafkaProducer> p(new KafkaProducer());
  p->dr_cb_ = std::make_unique<DeliveryReport>();
  std::string err;
  if ((*conf)->set("dr_cb", p->dr_cb_.get(), err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(err);
  }
  p->producer_.reset(RdKafka::Producer::create(conf->get(), err));
  if (!p->producer_) return absl::UnavailableError(absl::StrCat("kafka producer: ", err));
  p->poller_ = std::thread([raw = p.get()] { raw->PollLoop(); });
  return p;
}

void KafkaProducer::PollLoop() {
  while (!stop_.load()) producer_->poll(50);
}

KafkaProducer::~KafkaProducer() {
  if (producer_) producer_->flush(5000);
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  if (producer_) {
    // Fail callbacks of anything still queued so no owner waits forever.
    producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer_->poll(0);
  }
}

absl::Status KafkaProducer::Produce(const std::string& topic, const std::string& key,
                                    const std::string& payload, KafkaDeliveryCallback on_delivery) {
  auto* cb = on_delivery ? new KafkaDeliveryCallback(std::move(on_delivery)) : nullptr;
  RdKafka::ErrorCode rc = producer_->produce(
      topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
      const_cast<char*>(payload.data()), payload.size(), key.data(), key.size(), 0, cb);
  if (rc != RdKafka::ERR_NO_ERROR) {
    delete cb;
    return absl::UnavailableError(absl::StrCat("kafka produce: ", RdKafka::err2str(rc)));
  }
  return absl::OkStatus();
}

absl::Status KafkaProducer::Flush(std::chrono::milliseconds timeout) {
  RdKafka::ErrorCode rc = producer_->flush(static_cast<int>(timeout.count()));
  if (rc != RdKafka::ERR_NO_ERROR) {
    return absl::DeadlineExceededError(absl::StrCat("kafka flush: ", RdKafka::err2str(rc)));
  }
  return absl::OkStatus();
}

int KafkaProducer::OutstandingMessages() const { return producer_->outq_len(); }

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(
    const KafkaConsumerOptions& options) {
  auto conf = MakeConf(options.brokers,
                       {{"group.id", options.group_id},
                        {"enable.auto.commit", "false"},
                        {"enable.auto.offset.store", "false"},
                        {"auto.offset.reset", "earliest"},
                        {"enable.partition.eof", "false"},
                        // A consumer that starts before the first event must not wait for the
                        // default 5-minute metadata refresh to see its topic appear.
                        {"allow.auto.create.topics", "true"},
                        {"topic.metadata.refresh.interval.ms", "5000"},
                        // A consumer killed without leaving its group holds its partitions
                        // until the session expires: keep that short (the default is 45 s).
                        {"session.timeout.ms", "10000"},
                        {"heartbeat.interval.ms", "3000"}},
                       options.properties);
  if (!conf.ok()) return conf.status();
  std::string err;
  std::unique_ptr<KafkaConsumer> c(new KafkaConsumer());
  c->consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!c->consumer_) return absl::UnavailableError(absl::StrCat("kafka consumer: ", err));
  RdKafka::ErrorCode rc = c->consumer_->subscribe(options.topics);
  if (rc != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka subscribe: ", RdKafka::err2str(rc)));
  }
  return c;
}

KafkaConsumer::~KafkaConsumer() { Close(); }

void KafkaConsumer::Close() {
  if (consumer_ && !closed_) {
    closed_ = true;
    consumer_->close();
  }
}

absl::StatusOr<std::vector<KafkaMessage>> KafkaConsumer::PollBatch(
    size_t max_messages, std::chrono::milliseconds timeout) {
  std::vector<KafkaMessage> out;
  int wait_ms = static_cast<int>(timeout.count());
  while (out.size() < max_messages) {
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(wait_ms));
    wait_ms = 0;  // after the first wait, only take what is already here
    switch (m->err()) {
      case RdKafka::ERR_NO_ERROR: {
        KafkaMessage km;
        km.topic = m->topic_name();
        km.partition = m->partition();
        km.offset = m->offset();
        if (m->key()) km.key = *m->key();
        km.payload.assign(static_cast<const char*>(m->payload()), m->len());
        out.push_back(std::move(km));
        break;
      }
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        return out;
      default:
        if (!out.empty()) return out;
        // Transient errors (broker down, rebalance) are reported; the caller retries.
        return absl::UnavailableError(absl::StrCat("kafka consume: ", m->errstr()));
    }
  }
  return out;
}

absl::Status KafkaConsumer::CommitSync(const std::vector<KafkaMessage>& batch) {
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  for (const auto& m : batch) {
    auto& v = next[{m.topic, m.partition}];
    v = std::max(v, m.offset + 1);
  }
  std::vector<RdKafka::TopicPartition*> parts;
  for (const auto& [tp, off] : next) {
    parts.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, off));
  }
  RdKafka::ErrorCode rc = parts.empty() ? RdKafka::ERR_NO_ERROR : consumer_->commitSync(parts);
  RdKafka::TopicPartition::destroy(parts);
  if (rc != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka commit: ", RdKafka::err2str(rc)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KafkaPartitionProgress>> KafkaConsumer::Progress(
    std::chrono::milliseconds timeout) {
  const int timeout_ms = static_cast<int>(timeout.count());
  std::vector<RdKafka::TopicPartition*> parts;
  RdKafka::ErrorCode rc = consumer_->assignment(parts);
  std::vector<KafkaPartitionProgress> out;
  if (rc == RdKafka::ERR_NO_ERROR && !parts.empty()) rc = consumer_->position(parts);
  bool need_committed = false;
  for (const auto* p : parts) need_committed |= p->offset() < 0;
  if (rc == RdKafka::ERR_NO_ERROR && need_committed) {
    std::vector<RdKafka::TopicPartition*> committed;
    for (const auto* p : parts) {
      committed.push_back(RdKafka::TopicPartition::create(p->topic(), p->partition()));
    }
    rc = consumer_->committed(committed, timeout_ms);
    for (size_t i = 0; rc == RdKafka::ERR_NO_ERROR && i < parts.size(); ++i) {
      if (parts[i]->offset() < 0) parts[i]->set_offset(committed[i]->offset());
    }
    RdKafka::TopicPartition::destroy(committed);
  }
  for (const auto* p : parts) {
    if (rc != RdKafka::ERR_NO_ERROR) break;
    int64_t low = 0, high = 0;
    rc = consumer_->query_watermark_offsets(p->topic(), p->partition(), &low, &high, timeout_ms);
    if (rc != RdKafka::ERR_NO_ERROR) break;
    out.push_back({p->topic(), p->partition(), p->offset() < 0 ? low : p->offset(), high});
  }
  RdKafka::TopicPartition::destroy(parts);
  if (rc != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka progress: ", RdKafka::err2str(rc)));
  }
  return out;
}

}  // namespace routeall
