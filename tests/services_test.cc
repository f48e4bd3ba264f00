// Every service binary starts against the real PostgreSQL, reports SERVING on the standard
// gRPC health service, serves /metrics, and exits 0 on SIGTERM.
#include <gtest/gtest.h>

#include <csignal>

#include <grpcpp/grpcpp.h>

#include "common/subprocess.h"
#include "common/testing.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace routeall {
namespace {

using routeall::testing::Subprocess;

struct Binary {
  const char* name;
  const char* path;
};

void PrintTo(const Binary& b, std::ostream* os) { *os << b.name; }

class ServiceStartTest : public ::testing::TestWithParam<Binary> {};

TEST_P(ServiceStartTest, StartsHealthyServesMetricsAndDrainsOnSigterm) {
  ROUTEALL_REQUIRE_ENV(pg_url, "ROUTEALL_TEST_PG_URL");
  const Binary& b = GetParam();
  std::string spool = ::testing::TempDir() + "spool_" + routeall::testing::UniqueSuffix();
  Subprocess proc({b.path, "--grpc-port=0", "--metrics-port=0", "--http-port=0", "--pg-url", pg_url,
                   "--spool-dir", spool, "--consumer=false"},
                  {"ROUTEALL_LOG_LEVEL=info"});
  ASSERT_TRUE(proc.started());
  auto serving = proc.WaitForLogLine("serving", std::chrono::seconds(30));
  ASSERT_TRUE(serving.has_value()) << proc.output();
  int metrics_port = (*serving)["metrics_port"].get<int>();
  ASSERT_GT(metrics_port, 0);

  auto metrics = routeall::testing::HttpGet(metrics_port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(std::string("routeall_") + b.name + "_up 1"), std::string::npos) << metrics.body;

  if (serving->contains("grpc_port")) {
    int port = (*serving)["grpc_port"].get<int>();
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse res;
    grpc::Status st = stub->Check(&ctx, req, &res);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(res.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  } else {
    int port = (*serving)["http_port"].get<int>();
    auto health = routeall::testing::HttpGet(port, "/healthz");
    EXPECT_EQ(health.status, 200);
  }

  EXPECT_EQ(proc.Stop(SIGTERM, std::chrono::seconds(20)), 0) << proc.output();
  EXPECT_NE(proc.output().find("\"msg\":\"stopped\""), std::string::npos) << proc.output();
}

INSTANTIATE_TEST_SUITE_P(AllServices, ServiceStartTest,
                         ::testing::Values(Binary{"auth", ROUTEALL_AUTH_BIN},
                                           Binary{"routing", ROUTEALL_ROUTING_BIN},
                                           Binary{"adapter", ROUTEALL_ADAPTER_BIN},
                                           Binary{"billing", ROUTEALL_BILLING_BIN},
                                           Binary{"gateway", ROUTEALL_GATEWAY_BIN}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ServiceStartTest, BadConfigurationExitsWithCode2) {
  Subprocess proc({ROUTEALL_AUTH_BIN, "--grpc-port=notaport"});
  ASSERT_TRUE(proc.started());
  auto line = proc.WaitForLogLine("bad configuration", std::chrono::seconds(10));
  ASSERT_TRUE(line.has_value()) << proc.output();
  EXPECT_NE((*line)["error"].get<std::string>().find("grpc-port"), std::string::npos);
  EXPECT_EQ(proc.Stop(0, std::chrono::seconds(10)), 2);
}

TEST(ServiceStartTest, UnreachableDatabaseFailsStartWithoutHanging) {
  Subprocess proc({ROUTEALL_BILLING_BIN, "--grpc-port=0", "--metrics-port=0",
                   "--pg-url=host=127.0.0.1 port=1 user=postgres dbname=routeall connect_timeout=2"});
  ASSERT_TRUE(proc.started());
  auto line = proc.WaitForLogLine("cannot start", std::chrono::seconds(20));
  ASSERT_TRUE(line.has_value()) << proc.output();
  EXPECT_EQ(proc.Stop(0, std::chrono::seconds(10)), 1);
}

}  // namespace
}  // namespace routeall
