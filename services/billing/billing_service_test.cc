// BillingServiceImpl handlers called directly on fakes: the proto <-> domain mapping.
#include "services/billing/billing_service.h"

#include <gtest/gtest.h>

#include "services/billing/fake_ledger_store.h"
#include "services/billing/fake_price_store.h"

namespace routeall::billing {
namespace {

// A Reserve of up to 1000 output tokens of model "m" for account 1 at multiplier 1.
v1::ReserveRequest ReserveFor(const std::string& request_id) {
  v1::ReserveRequest req;
  req.set_request_id(request_id);
  req.set_account_id(1);
  req.set_model("m");
  req.set_max_output_tokens(1000);
  req.set_multiplier_ppm(1000000);
  return req;
}

class BillingServiceTest : public ::testing::Test {
 protected:
  BillingServiceTest()
      : metrics_(registry_),
        catalog_(std::make_shared<PriceCatalog>(&prices_, [this] { return now_; })),
        book_(std::make_shared<BalanceBook>(
            &ledger_, catalog_.get(), &metrics_, [this] { return now_; }, [] { return "hold-1"; })),
        service_(book_, catalog_) {}

  prometheus::Registry registry_;
  BillingMetrics metrics_;
  absl::Time now_ = absl::FromUnixSeconds(1764028800 + 3600);
  FakeLedgerStore ledger_;
  FakePriceStore prices_;
  std::shared_ptr<PriceCatalog> catalog_;
  std::shared_ptr<BalanceBook> book_;
  BillingServiceImpl service_;
  grpc::ServerContext ctx_;
};

TEST_F(BillingServiceTest, ReserveMapsPricesHoldsAndErrors) {
  v1::SetPriceRequest set;
  set.mutable_price()->set_model("m");
  set.mutable_price()->set_output_per_mtok(1000000);
  set.mutable_price()->set_reasoning_per_mtok(3000000);
  v1::SetPriceResponse set_resp;
  ASSERT_TRUE(service_.SetPrice(&ctx_, &set, &set_resp).ok());
  EXPECT_EQ(set_resp.price().version(), 1);

  v1::ReserveRequest req = ReserveFor("r1");
  v1::ReserveResponse resp;
  EXPECT_EQ(service_.Reserve(&ctx_, &req, &resp).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  v1::TopUpRequest top;
  top.set_account_id(1);
  top.set_amount_micros(1500);
  top.set_reference("t1");
  v1::TopUpResponse top_resp;
  ASSERT_TRUE(service_.TopUp(&ctx_, &top, &top_resp).ok());
  EXPECT_EQ(top_resp.balance_micros(), 1500);

  ASSERT_TRUE(service_.Reserve(&ctx_, &req, &resp).ok());
  EXPECT_EQ(resp.hold_id(), "hold-1");
  EXPECT_EQ(resp.hold_micros(), 1000);
  EXPECT_EQ(resp.available_micros(), 500);
  EXPECT_EQ(resp.price().version(), 1);
  EXPECT_EQ(resp.price().reasoning_per_mtok(), 3000000);

  v1::GetBalanceRequest greq;
  greq.set_account_id(1);
  v1::GetBalanceResponse gresp;
  ASSERT_TRUE(service_.GetBalance(&ctx_, &greq, &gresp).ok());
  EXPECT_EQ(gresp.balance_micros(), 1500);
  EXPECT_EQ(gresp.held_micros(), 1000);

  req.set_model("unpriced");
  req.set_request_id("r2");
  EXPECT_EQ(service_.Reserve(&ctx_, &req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(BillingServiceTest, TopUpRequiresAReferenceAndAReplayIsANoOp) {
  v1::TopUpRequest top;
  top.set_account_id(1);
  top.set_amount_micros(1500);
  v1::TopUpResponse resp;
  grpc::Status st = service_.TopUp(&ctx_, &top, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("reference is required"), std::string::npos) << st.error_message();

  top.set_reference("invoice-42");
  ASSERT_TRUE(service_.TopUp(&ctx_, &top, &resp).ok());
  EXPECT_EQ(resp.balance_micros(), 1500);
  // A client retrying after a timeout: the same reference credits nothing more.
  ASSERT_TRUE(service_.TopUp(&ctx_, &top, &resp).ok());
  EXPECT_EQ(resp.balance_micros(), 1500);
  EXPECT_EQ(ledger_.GetBalance(1)->balance_micros, 1500);
  top.set_amount_micros(1600);
  EXPECT_EQ(service_.TopUp(&ctx_, &top, &resp).error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(BillingServiceTest, ReleaseByRequestId) {
  v1::SetPriceRequest set;
  set.mutable_price()->set_model("m");
  set.mutable_price()->set_output_per_mtok(1000000);
  v1::SetPriceResponse set_resp;
  ASSERT_TRUE(service_.SetPrice(&ctx_, &set, &set_resp).ok());
  ASSERT_TRUE(book_->TopUp(1, 1000, "", "fund").ok());
  v1::ReserveRequest req = ReserveFor("r1");
  v1::ReserveResponse resp;
  ASSERT_TRUE(service_.Reserve(&ctx_, &req, &resp).ok());

  v1::ReleaseRequest rel;
  rel.set_account_id(1);
  rel.set_request_id("r1");  // no hold_id: the caller never saw the Reserve answer
  v1::ReleaseResponse rel_resp;
  ASSERT_TRUE(service_.Release(&ctx_, &rel, &rel_resp).ok());
  EXPECT_EQ(book_->GetBalance(1)->held_micros, 0);
  EXPECT_EQ(service_.Reserve(&ctx_, &req, &resp).error_code(), grpc::StatusCode::ABORTED);
  rel.clear_request_id();
  EXPECT_EQ(service_.Release(&ctx_, &rel, &rel_resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(BillingServiceTest, GetUsageFormatsChargesAndTimestamps) {
  UsageEntry e;
  e.request_id = "r1";
  e.account_id = 1;
  e.model = "m";
  e.charge_micros = 1710;
  e.occurred_at = absl::FromUnixMicros(1764028800123456);
  ASSERT_TRUE(ledger_.SettleUsage({e}).ok());
  v1::GetUsageRequest req;
  req.set_account_id(1);
  v1::GetUsageResponse resp;
  ASSERT_TRUE(service_.GetUsage(&ctx_, &req, &resp).ok());
  ASSERT_EQ(resp.records_size(), 1);
  EXPECT_EQ(resp.records(0).charge(), "0.001710");
  EXPECT_EQ(resp.records(0).occurred_at().seconds(), 1764028800);
  EXPECT_EQ(resp.records(0).occurred_at().nanos(), 123456000);
  ASSERT_EQ(resp.buckets_size(), 1);
  EXPECT_EQ(resp.buckets(0).day(), "2025-11-25");
  EXPECT_EQ(resp.buckets(0).charge(), "0.001710");

  req.mutable_from()->set_seconds(1764028800 + 1);  // after the record
  resp.Clear();
  ASSERT_TRUE(service_.GetUsage(&ctx_, &req, &resp).ok());
  EXPECT_EQ(resp.records_size(), 0);
}

}  // namespace
}  // namespace routeall::billing
