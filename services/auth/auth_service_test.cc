// AuthServiceImpl called directly (no network): proto mapping, secrets, status codes, metrics.
#include "services/auth/auth_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "services/auth/fake_key_store.h"
#include "services/auth/key_generator.h"

namespace routeall::auth {
namespace {

using ::testing::HasSubstr;

class AuthServiceTest : public ::testing::Test {
 protected:
  AuthServiceTest()
      : metrics_(registry_),
        store_(std::make_shared<FakeKeyStore>()),
        authorizer_(std::make_shared<Authorizer>(
            store_, [] { return absl::FromUnixSeconds(1'800'000'000); }, nullptr, &metrics_)),
        service_(authorizer_) {
    store_->set_now(absl::FromUnixSeconds(1'700'000'000) + absl::Milliseconds(250));
  }

  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  prometheus::Registry registry_;
  AuthMetrics metrics_;
  std::shared_ptr<FakeKeyStore> store_;
  std::shared_ptr<Authorizer> authorizer_;
  AuthServiceImpl service_;
};

TEST_F(AuthServiceTest, CreateKeyReturnsSecretOnceAndAuthorizeMapsPrincipal) {
  grpc::ServerContext ctx;
  v1::CreateAccountRequest acc_req;
  acc_req.set_name("alice");
  v1::CreateAccountResponse acc;
  ASSERT_TRUE(service_.CreateAccount(&ctx, &acc_req, &acc).ok());
  EXPECT_EQ(acc.account().group(), "default");
  EXPECT_EQ(acc.account().created_at().seconds(), 1'700'000'000);
  EXPECT_EQ(acc.account().created_at().nanos(), 250'000'000);

  v1::CreateKeyRequest key_req;
  key_req.set_account_id(acc.account().id());
  key_req.add_allowed_models("gpt-4o");
  key_req.set_rpm_limit(5);
  key_req.mutable_expires_at()->set_seconds(1'900'000'000);
  v1::CreateKeyResponse key;
  ASSERT_TRUE(service_.CreateKey(&ctx, &key_req, &key).ok());
  EXPECT_EQ(key.key().prefix(), key.secret().substr(0, 12));
  EXPECT_EQ(key.key().status(), v1::KEY_STATUS_ACTIVE);
  EXPECT_EQ(key.key().expires_at().seconds(), 1'900'000'000);

  v1::ListKeysRequest list_req;
  v1::ListKeysResponse list;
  ASSERT_TRUE(service_.ListKeys(&ctx, &list_req, &list).ok());
  ASSERT_EQ(list.keys_size(), 1);
  EXPECT_EQ(list.keys(0).DebugString().find(key.secret()), std::string::npos);
  EXPECT_EQ(list.keys(0).DebugString().find(HashApiKey(key.secret())), std::string::npos);

  v1::AuthorizeRequest auth_req;
  auth_req.set_key_hash(HashApiKey(key.secret()));
  v1::AuthorizeResponse auth;
  ASSERT_TRUE(service_.Authorize(&ctx, &auth_req, &auth).ok());
  EXPECT_EQ(auth.principal().account_id(), acc.account().id());
  EXPECT_EQ(auth.principal().key_id(), key.key().id());
  EXPECT_EQ(auth.principal().multiplier_ppm(), kOneX);
  EXPECT_EQ(auth.principal().rpm_limit(), 5);
  ASSERT_EQ(auth.principal().allowed_models_size(), 1);
  EXPECT_EQ(auth.principal().allowed_models(0), "gpt-4o");
}

TEST_F(AuthServiceTest, StatusCodesAndAuthorizeMetrics) {
  grpc::ServerContext ctx;
  v1::AuthorizeRequest req;
  v1::AuthorizeResponse res;
  req.set_key_hash(HashApiKey("sk-ra-unknown"));
  EXPECT_EQ(service_.Authorize(&ctx, &req, &res).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(service_.Authorize(&ctx, &req, &res).error_code(), grpc::StatusCode::NOT_FOUND);
  req.set_key_hash("short");
  EXPECT_EQ(service_.Authorize(&ctx, &req, &res).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::SetKeyStatusRequest st_req;
  st_req.set_key_id(1);
  v1::SetKeyStatusResponse st_res;
  EXPECT_EQ(service_.SetKeyStatus(&ctx, &st_req, &st_res).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  std::string text = Metrics();
  EXPECT_THAT(text, HasSubstr("# HELP routeall_auth_authorize_total"));
  EXPECT_THAT(text, HasSubstr("routeall_auth_authorize_total{result=\"not_found\"} 2"));
  EXPECT_THAT(text, HasSubstr("routeall_auth_authorize_total{result=\"error\"} 1"));
  EXPECT_THAT(text, HasSubstr("routeall_auth_authorize_total{result=\"ok\"} 0"));
}

}  // namespace
}  // namespace routeall::auth
