// RoutingServiceImpl called directly (no network): proto mapping, defaults and secrecy.
#include "services/routing/routing_service.h"

#include <gtest/gtest.h>

#include "services/routing/circuit_breaker_health.h"
#include "services/routing/fake_channel_store.h"

namespace routeall::routing {
namespace {

class RoutingServiceTest : public ::testing::Test {
 protected:
  RoutingServiceTest()
      : router_(std::make_shared<Router>(std::make_shared<FakeChannelStore>(), [] { return 0.0; })),
        service_(router_) {}

  v1::Channel Sample() {
    v1::Channel c;
    c.set_name("openai-main");
    c.set_provider(routeall::llm::v1::DIALECT_OPENAI);
    c.set_base_url("https://api.openai.com/v1");
    c.set_api_key("sk-upstream-secret");
    auto* m = c.add_models();
    m->set_model("gpt-4o");
    m->set_upstream_model("gpt-4o-2024-08-06");
    c.add_models()->set_model("gpt-4o-mini");
    c.set_weight(1);
    c.set_enabled(true);
    return c;
  }

  std::shared_ptr<Router> router_;
  RoutingServiceImpl service_;
  grpc::ServerContext ctx_;
};

TEST_F(RoutingServiceTest, ChannelWithoutWeightOrEnabledServesWithWeightOne) {
  v1::CreateChannelRequest create;
  *create.mutable_channel() = Sample();
  create.mutable_channel()->clear_weight();
  create.mutable_channel()->clear_enabled();
  v1::CreateChannelResponse created;
  ASSERT_TRUE(service_.CreateChannel(&ctx_, &create, &created).ok());
  EXPECT_TRUE(created.channel().enabled());
  EXPECT_EQ(created.channel().weight(), 1);
  v1::RouteRequest route_req;
  route_req.set_model("gpt-4o-mini");
  v1::RouteResponse route;
  EXPECT_TRUE(service_.Route(&ctx_, &route_req, &route).ok());
  EXPECT_EQ(route.candidates_size(), 1);
}

TEST_F(RoutingServiceTest, CreateListAndRouteMapBothWays) {
  v1::CreateChannelRequest create;
  *create.mutable_channel() = Sample();
  v1::CreateChannelResponse created;
  ASSERT_TRUE(service_.CreateChannel(&ctx_, &create, &created).ok());
  EXPECT_GT(created.channel().id(), 0);
  EXPECT_EQ(created.channel().api_key(), "");
  EXPECT_TRUE(created.channel().api_key_set());
  EXPECT_EQ(created.channel().timeout().seconds(), 600);  // unset -> default
  EXPECT_EQ(created.channel().models(1).upstream_model(), "gpt-4o-mini");

  v1::ListChannelsRequest list_req;
  v1::ListChannelsResponse list;
  ASSERT_TRUE(service_.ListChannels(&ctx_, &list_req, &list).ok());
  ASSERT_EQ(list.channels_size(), 1);
  EXPECT_EQ(list.DebugString().find("sk-upstream-secret"), std::string::npos);

  v1::RouteRequest route_req;
  route_req.set_model("gpt-4o");
  route_req.set_group("default");
  v1::RouteResponse route;
  ASSERT_TRUE(service_.Route(&ctx_, &route_req, &route).ok());
  ASSERT_EQ(route.candidates_size(), 1);
  EXPECT_EQ(route.candidates(0).api_key(), "sk-upstream-secret");
  EXPECT_EQ(route.candidates(0).upstream_model(), "gpt-4o-2024-08-06");
  EXPECT_EQ(route.candidates(0).provider(), routeall::llm::v1::DIALECT_OPENAI);
  EXPECT_EQ(route.candidates(0).timeout().seconds(), 600);

  route_req.set_model("nope");
  EXPECT_EQ(service_.Route(&ctx_, &route_req, &route).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(RoutingServiceTest, ExplicitTimeoutAndInvalidInputs) {
  v1::CreateChannelRequest create;
  *create.mutable_channel() = Sample();
  create.mutable_channel()->mutable_timeout()->set_seconds(1);
  create.mutable_channel()->mutable_timeout()->set_nanos(500'000'000);
  v1::CreateChannelResponse created;
  ASSERT_TRUE(service_.CreateChannel(&ctx_, &create, &created).ok());
  EXPECT_EQ(created.channel().timeout().seconds(), 1);
  EXPECT_EQ(created.channel().timeout().nanos(), 500'000'000);

  create.mutable_channel()->set_name("other");
  create.mutable_channel()->mutable_timeout()->set_seconds(0);
  create.mutable_channel()->mutable_timeout()->set_nanos(0);
  EXPECT_EQ(service_.CreateChannel(&ctx_, &create, &created).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ReportOutcomeRequest report;
  report.set_channel_id(created.channel().id());
  v1::ReportOutcomeResponse report_res;
  EXPECT_EQ(service_.ReportOutcome(&ctx_, &report, &report_res).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  report.set_outcome(v1::OUTCOME_SUCCESS);
  EXPECT_TRUE(service_.ReportOutcome(&ctx_, &report, &report_res).ok());
}

TEST(RoutingServiceHealthTest, ListChannelsCarriesHealth) {
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  auto health = std::make_shared<CircuitBreakerHealth>(CircuitOptions{}, [&now] { return now; });
  auto router = std::make_shared<Router>(std::make_shared<FakeChannelStore>(), [] { return 0.0; }, nullptr, health);
  RoutingServiceImpl service(router);
  grpc::ServerContext ctx;
  v1::CreateChannelRequest create;
  auto* c = create.mutable_channel();
  c->set_name("flaky");
  c->set_provider(routeall::llm::v1::DIALECT_OPENAI);
  c->set_base_url("http://127.0.0.1:1");
  c->add_models()->set_model("m");
  v1::CreateChannelResponse created;
  ASSERT_TRUE(service.CreateChannel(&ctx, &create, &created).ok());
  v1::ReportOutcomeRequest ok;
  ok.set_channel_id(created.channel().id());
  ok.set_outcome(v1::OUTCOME_SUCCESS);
  ok.mutable_latency()->set_nanos(250'000'000);
  v1::ReportOutcomeResponse res;
  ASSERT_TRUE(service.ReportOutcome(&ctx, &ok, &res).ok());
  v1::ReportOutcomeRequest bad = ok;
  bad.set_outcome(v1::OUTCOME_FAILURE);
  bad.set_http_status(503);
  bad.set_error_message("upstream overloaded");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(service.ReportOutcome(&ctx, &bad, &res).ok());

  v1::ListChannelsRequest list_req;
  v1::ListChannelsResponse list;
  ASSERT_TRUE(service.ListChannels(&ctx, &list_req, &list).ok());
  ASSERT_EQ(list.channels_size(), 1);
  const auto& h = list.channels(0).health();
  EXPECT_EQ(h.state(), v1::CIRCUIT_STATE_OPEN);
  EXPECT_EQ(h.consecutive_failures(), 3);
  EXPECT_EQ(h.window_requests(), 4);
  EXPECT_DOUBLE_EQ(h.error_rate(), 0.75);
  EXPECT_EQ(h.last_error(), "HTTP 503: upstream overloaded");
  EXPECT_EQ(h.opened_at().seconds(), 1'800'000'000);
  EXPECT_EQ(h.retry_at().seconds(), 1'800'000'010);
  EXPECT_EQ(h.latency().nanos(), 250'000'000);
}

}  // namespace
}  // namespace routeall::routing
