// AdminApi's top-up endpoint against an in-process fake billing service: the reference
// (the top-up's idempotency key) is required and forwarded as given.
#include "gateway/admin_api.h"

#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <map>
#include <mutex>

namespace routeall::gateway {
namespace {

// Billing's TopUp contract in miniature: keyed by reference, a replay is a no-op.
class FakeBilling final : public billing::v1::BillingService::Service {
 public:
  grpc::Status TopUp(grpc::ServerContext*, const billing::v1::TopUpRequest* req,
                     billing::v1::TopUpResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    if (req->reference().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "reference is required"};
    if (references.emplace(req->reference(), req->amount_micros()).second) balance += req->amount_micros();
    resp->set_balance_micros(balance);
    return grpc::Status::OK;
  }
  std::mutex mu;
  int calls = 0;
  int64_t balance = 0;
  std::map<std::string, int64_t> references;
};

class Recorder final : public ResponseWriter {
 public:
  bool Send(HttpResponse r) override {
    status = r.result_int();
    body = r.body();
    return true;
  }
  bool BeginStream(http::response_header<>) override { return false; }
  bool Write(std::string_view) override { return false; }
  bool EndStream(const http::fields*) override { return false; }
  bool Started() const override { return status != 0; }
  unsigned status = 0;
  std::string body;
};

class AdminApiTopUpTest : public ::testing::Test {
 protected:
  AdminApiTopUpTest() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&billing_);
    server_ = b.BuildAndStart();
    auto ch = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
    api_ = std::make_unique<AdminApi>("admin-token", ch, ch, ch);
  }
  ~AdminApiTopUpTest() override { server_->Shutdown(); }

  Recorder Post(const std::string& body) {
    HttpRequest req{http::verb::post, "/admin/topups", 11};
    req.set(http::field::authorization, "Bearer admin-token");
    req.body() = body;
    Recorder out;
    EXPECT_TRUE(api_->Handle(req, out));
    return out;
  }

  FakeBilling billing_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<AdminApi> api_;
};

TEST_F(AdminApiTopUpTest, MissingReferenceIs400AndNeverReachesBilling) {
  for (const char* body : {R"({"account_id":1,"amount_micros":500})",
                           R"({"account_id":1,"amount_micros":500,"reference":""})"}) {
    Recorder r = Post(body);
    EXPECT_EQ(r.status, 400u) << body;
    EXPECT_NE(r.body.find("reference is required"), std::string::npos) << r.body;
  }
  EXPECT_EQ(billing_.calls, 0);
}

TEST_F(AdminApiTopUpTest, ReferenceIsForwardedSoAReplayIsANoOp) {
  const std::string body = R"({"account_id":1,"amount_micros":500,"note":"card","reference":"pay-1"})";
  Recorder first = Post(body);
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_NE(first.body.find(R"("balance_micros":"500")"), std::string::npos) << first.body;
  Recorder replay = Post(body);
  ASSERT_EQ(replay.status, 200u) << replay.body;
  EXPECT_NE(replay.body.find(R"("balance_micros":"500")"), std::string::npos) << replay.body;
  EXPECT_EQ(billing_.calls, 2);
  EXPECT_EQ(billing_.references.count("pay-1"), 1u);
}

}  // namespace
}  // namespace routeall::gateway
