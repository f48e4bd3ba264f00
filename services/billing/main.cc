// Wires the billing service together; the only file that knows all its components.
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/service_main.h"
#include "common/status.h"
#include "services/billing/balance_book.h"
#include "services/billing/billing_metrics.h"
#include "services/billing/billing_service.h"
#include "services/billing/kafka_usage_io.h"
#include "services/billing/pg_ledger_store.h"
#include "services/billing/pg_price_store.h"
#include "services/billing/price_catalog.h"
#include "services/billing/usage_consumer.h"

namespace routeall::billing {
namespace {

// Everything the process runs, declared in dependency order so it is destroyed in reverse.
struct BillingApp {
  std::shared_ptr<PgPool> pg;
  std::unique_ptr<PgPriceStore> price_store;
  std::unique_ptr<PgLedgerStore> ledger_store;
  std::unique_ptr<BillingMetrics> metrics;
  SettlementWatermark settled;
  std::shared_ptr<PriceCatalog> catalog;
  std::shared_ptr<BalanceBook> book;
  std::unique_ptr<KafkaProducer> dlq_producer;
  std::unique_ptr<KafkaDeadLetterSink> dlq;
  std::unique_ptr<KafkaMessageSource> source;
  std::unique_ptr<UsageConsumer> consumer;
  std::thread consumer_thread;
  std::thread reaper_thread;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;

  void Shutdown() {
    if (consumer) consumer->Stop();
    if (consumer_thread.joinable()) consumer_thread.join();
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    cv.notify_all();
    if (reaper_thread.joinable()) reaper_thread.join();
  }
  ~BillingApp() { Shutdown(); }
};

IdGenerator RandomIds() {
  auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return [rng, mu] {
    std::lock_guard<std::mutex> lock(*mu);
    return absl::StrCat(absl::Hex((*rng)(), absl::kZeroPad16), absl::Hex((*rng)(), absl::kZeroPad16));
  };
}

absl::StatusOr<ServiceParts> Wire(ServiceContext& ctx) {
  const Config& cfg = ctx.config();
  const std::string brokers = cfg.GetString("kafka-brokers", "127.0.0.1:19092");
  const std::string topic = cfg.GetString("usage-topic", "routeall.usage.v1");
  const std::string group = cfg.GetString("consumer-group", "routeall-billing");
  auto hold_ttl = cfg.GetMillis("hold-ttl-ms", std::chrono::milliseconds(1800000));
  if (!hold_ttl.ok()) return hold_ttl.status();
  auto hold_max_age = cfg.GetMillis("hold-max-age-ms", std::chrono::milliseconds(86400000));
  if (!hold_max_age.ok()) return hold_max_age.status();
  if (*hold_max_age < *hold_ttl) {
    return absl::InvalidArgumentError("--hold-max-age-ms must be >= --hold-ttl-ms");
  }
  auto run_consumer = cfg.GetBool("consumer", true);
  if (!run_consumer.ok()) return run_consumer.status();

  auto app = std::make_shared<BillingApp>();
  ASSIGN_OR_RETURN(app->pg, ctx.OpenDatabase("billing", Migrations()));
  Clock clock = [] { return absl::Now(); };
  app->price_store = std::make_unique<PgPriceStore>(app->pg, "billing");
  app->ledger_store = std::make_unique<PgLedgerStore>(app->pg, "billing");
  app->metrics = std::make_unique<BillingMetrics>(ctx.registry());
  app->catalog = std::make_shared<PriceCatalog>(app->price_store.get(), clock);
  // With a consumer, hold expiry waits for settlement to catch up past it; without one
  // (--consumer=false) nothing here settles usage, so the TTL alone applies.
  BalanceBookOptions book_options{absl::FromChrono(*hold_ttl), *run_consumer ? &app->settled : nullptr,
                                  absl::FromChrono(*hold_max_age)};
  app->book = std::make_shared<BalanceBook>(app->ledger_store.get(), app->catalog.get(), app->metrics.get(),
                                            clock, RandomIds(), book_options);

  if (*run_consumer) {
    // Neither call waits for a broker: an unreachable Kafka shows up as poll errors in the
    // consumer thread's log, never as a failed or stuck start.
    ASSIGN_OR_RETURN(app->dlq_producer, KafkaProducer::Create({brokers, {}}));
    ASSIGN_OR_RETURN(auto kafka_consumer, KafkaConsumer::Create({brokers, group, {topic}, {}}));
    app->dlq = std::make_unique<KafkaDeadLetterSink>(app->dlq_producer.get(), topic + ".dlq");
    app->source = std::make_unique<KafkaMessageSource>(std::move(kafka_consumer));
    UsageConsumerOptions consumer_options;
    consumer_options.watermark = &app->settled;
    app->consumer =
        std::make_unique<UsageConsumer>(app->source.get(), app->dlq.get(), app->ledger_store.get(),
                                        app->catalog.get(), app->book.get(), app->metrics.get(), clock,
                                        consumer_options);
    app->consumer_thread = std::thread([raw = app.get()] { raw->consumer->Run(); });
    LogInfo("usage consumer started", {{"brokers", brokers}, {"topic", topic}, {"group", group}});
  }
  // Expired holds are also dropped lazily per account; this sweep counts the rest.
  app->reaper_thread = std::thread([raw = app.get()] {
    std::unique_lock<std::mutex> lock(raw->mu);
    while (!raw->cv.wait_for(lock, std::chrono::seconds(10), [raw] { return raw->stopping; })) {
      lock.unlock();
      raw->book->ExpireHolds();
      lock.lock();
    }
  });

  ServiceParts parts;
  parts.services.push_back(std::make_shared<BillingServiceImpl>(app->book, app->catalog));
  parts.on_shutdown = [raw = app.get()] { raw->Shutdown(); };
  parts.keep_alive.push_back(app);
  return parts;
}

}  // namespace
}  // namespace routeall::billing

int main(int argc, char** argv) {
  return routeall::RunService({"billing", 7104, 9104}, argc, argv, routeall::billing::Wire);
}
