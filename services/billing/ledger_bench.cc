// Ledger throughput: produce N usage events to a fresh topic, then time one consumer from
// its first poll until every event is committed. Prints events/s. Not a test.
//   ROUTEALL_TEST_KAFKA_BROKERS=... ROUTEALL_TEST_PG_URL=... routeall_billing_ledger_bench [N]
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "common/kafka.h"
#include "common/testing.h"
#include "services/billing/billing_test_env.h"
#include "services/billing/kafka_usage_io.h"
#include "services/billing/pg_ledger_store.h"
#include "services/billing/pg_price_store.h"

int main(int argc, char** argv) {
  using namespace routeall::billing;  // NOLINT(google-build-using-namespace): a tool's main
  namespace bt = routeall::billing::testing;
  using routeall::KafkaConsumer;
  using routeall::KafkaProducer;
  const char* brokers = std::getenv("ROUTEALL_TEST_KAFKA_BROKERS");
  const char* url = std::getenv("ROUTEALL_TEST_PG_URL");
  if (!brokers || !url) {
    std::fprintf(stderr, "set ROUTEALL_TEST_KAFKA_BROKERS and ROUTEALL_TEST_PG_URL\n");
    return 2;
  }
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  auto env = bt::CreatePgSchema(url);
  if (!env.ok()) {
    std::fprintf(stderr, "%s\n", env.status().ToString().c_str());
    return 1;
  }
  PgLedgerStore ledger((*env)->pool(), (*env)->schema());
  PgPriceStore prices((*env)->pool(), (*env)->schema());
  ModelPrice price = *prices.AddVersion(bt::SimplePrice("gpt"));
  const std::string topic = "routeall.usage.bench." + routeall::testing::UniqueSuffix();

  auto producer = KafkaProducer::Create({brokers, {}});
  if (!producer.ok()) return 1;
  for (int i = 0; i < n; ++i) {
    auto e =
        bt::MakeEvent("req-" + std::to_string(i), 1 + i % 100, price, 500 + i % 1000, i % 400, 1764028800);
    while (
        !(*producer)->Produce(topic, std::to_string(e.account_id()), e.SerializeAsString(), nullptr).ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // local queue full
    }
  }
  if (!(*producer)->Flush(std::chrono::seconds(120)).ok()) return 1;

  prometheus::Registry registry;
  BillingMetrics metrics(registry);
  PriceCatalog catalog(&prices, [] { return absl::Now(); });
  BalanceBook book(&ledger, &catalog, &metrics, [] { return absl::Now(); }, [] { return "h"; });
  auto consumer = KafkaConsumer::Create({brokers, "bench-" + topic, {topic}, {}});
  if (!consumer.ok()) return 1;
  KafkaMessageSource kafka_source(std::move(*consumer));
  bt::ObservedSource source(&kafka_source);
  KafkaDeadLetterSink dlq(producer->get(), topic + ".dlq");
  UsageConsumer usage(&source, &dlq, &ledger, &catalog, &book, &metrics, [] { return absl::Now(); });

  // The clock starts at the first message polled: group join and partition assignment are
  // start-up costs, not ledger throughput.
  std::chrono::steady_clock::time_point first{};
  while (source.polled() == 0) {
    auto got = usage.RunOnce();
    if (got.ok() && *got > 0) first = std::chrono::steady_clock::now();
  }
  while (source.committed() < n) (void)usage.RunOnce();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - first).count();
  kafka_source.Close();
  std::printf("settled %d events in %.3f s: %.0f events/s (billed %.0f, batches %llu)\n", n, secs, n / secs,
              metrics.events_billed.Value(),
              static_cast<unsigned long long>(metrics.batch_seconds.Collect().histogram.sample_count));
  return metrics.events_billed.Value() == n ? 0 : 1;
}
