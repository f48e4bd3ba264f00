// Authorizer against FakeKeyStore: key checks, Principal contents and admin validation.
#include "services/auth/authorizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/auth/fake_key_store.h"
#include "services/auth/key_generator.h"

namespace routeall::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class AuthorizerTest : public ::testing::Test {
 protected:
  AuthorizerTest() : store_(std::make_shared<FakeKeyStore>()), authorizer_(store_, [this] { return now_; }) {}

  // A group, an account in it and an active key; returns the secret.
  std::string Arrange(std::optional<absl::Time> expires_at = std::nullopt) {
    auto g = authorizer_.CreateGroup(Group{"vip", 800'000, "20% off"});
    EXPECT_TRUE(g.ok()) << g.status();
    auto a = authorizer_.CreateAccount("alice", "vip");
    EXPECT_TRUE(a.ok()) << a.status();
    account_id_ = a->id;
    auto k = authorizer_.CreateKey(KeyRequest{a->id, "ci", {"gpt-4o", "claude"}, 60, expires_at});
    EXPECT_TRUE(k.ok()) << k.status();
    key_id_ = k->key.id;
    return k->secret;
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::shared_ptr<FakeKeyStore> store_;
  Authorizer authorizer_;
  int64_t account_id_ = 0;
  int64_t key_id_ = 0;
};

TEST_F(AuthorizerTest, ActiveKeyYieldsPrincipalWithGroupTerms) {
  std::string secret = Arrange();
  auto p = authorizer_.Authorize(HashApiKey(secret));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->account_id, account_id_);
  EXPECT_EQ(p->key_id, key_id_);
  EXPECT_EQ(p->group, "vip");
  EXPECT_EQ(p->multiplier_ppm, 800'000);
  EXPECT_THAT(p->allowed_models, ElementsAre("gpt-4o", "claude"));
  EXPECT_EQ(p->rpm_limit, 60);
}

TEST_F(AuthorizerTest, UnknownKeyIsNotFound) {
  Arrange();
  auto p = authorizer_.Authorize(HashApiKey("sk-ra-not-a-real-key"));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(p.status().message(), "invalid API key");
}

TEST_F(AuthorizerTest, MalformedHashIsInvalidArgument) {
  EXPECT_EQ(authorizer_.Authorize("sk-ra-raw-key-sent-by-mistake").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthorizerTest, DisabledKeyIsDeniedAndReenabledKeyWorks) {
  std::string secret = Arrange();
  ASSERT_TRUE(authorizer_.SetKeyStatus(key_id_, KeyStatus::kDisabled).ok());
  auto p = authorizer_.Authorize(HashApiKey(secret));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(p.status().message(), "API key is disabled");
  ASSERT_TRUE(authorizer_.SetKeyStatus(key_id_, KeyStatus::kActive).ok());
  EXPECT_TRUE(authorizer_.Authorize(HashApiKey(secret)).ok());
}

TEST_F(AuthorizerTest, KeyExpiresExactlyAtExpiresAt) {
  std::string secret = Arrange(now_ + absl::Hours(1));
  now_ += absl::Hours(1) - absl::Seconds(1);
  EXPECT_TRUE(authorizer_.Authorize(HashApiKey(secret)).ok());
  now_ += absl::Seconds(1);
  auto p = authorizer_.Authorize(HashApiKey(secret));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(p.status().message(), "API key has expired");
}

TEST_F(AuthorizerTest, DisabledAccountIsDenied) {
  std::string secret = Arrange();
  ASSERT_TRUE(authorizer_.SetAccountDisabled(account_id_, true).ok());
  auto p = authorizer_.Authorize(HashApiKey(secret));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(p.status().message(), "account is disabled");
}

TEST_F(AuthorizerTest, CreateKeyUsesInjectedGeneratorAndStoresOnlyTheHash) {
  Authorizer fixed(
      store_, [this] { return now_; },
      [] { return absl::StatusOr<std::string>("sk-ra-" + std::string(48, 'Q')); });
  auto a = fixed.CreateAccount("bob", "");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->group, "default");
  auto k = fixed.CreateKey(KeyRequest{a->id, "", {}, 0, std::nullopt});
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->secret, "sk-ra-" + std::string(48, 'Q'));
  EXPECT_EQ(k->key.prefix, "sk-ra-QQQQQQ");
  auto found = store_->FindKeyByHash(HashApiKey(k->secret));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->key.id, k->key.id);
  auto p = fixed.Authorize(HashApiKey(k->secret));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->multiplier_ppm, kOneX);
  EXPECT_TRUE(p->allowed_models.empty());
}

TEST_F(AuthorizerTest, AllowedModelsAreDeduplicatedInOrder) {
  auto a = authorizer_.CreateAccount("carol", "default");
  ASSERT_TRUE(a.ok());
  auto k = authorizer_.CreateKey(KeyRequest{a->id, "k", {"b", "a", "b"}, 0, std::nullopt});
  ASSERT_TRUE(k.ok());
  EXPECT_THAT(k->key.allowed_models, ElementsAre("b", "a"));
}

TEST_F(AuthorizerTest, GroupValidation) {
  EXPECT_EQ(authorizer_.CreateGroup(Group{"", kOneX, ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(authorizer_.CreateGroup(Group{"has space", kOneX, ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto neg = authorizer_.CreateGroup(Group{"cheap", -1, ""});
  EXPECT_EQ(neg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(neg.status().message()), HasSubstr("multiplier_ppm"));
  EXPECT_TRUE(authorizer_.CreateGroup(Group{"free", 0, ""}).ok());
  EXPECT_EQ(authorizer_.CreateGroup(Group{"free", 5, ""}).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(AuthorizerTest, AccountValidation) {
  EXPECT_EQ(authorizer_.CreateAccount("", "default").status().code(), absl::StatusCode::kInvalidArgument);
  auto missing = authorizer_.CreateAccount("dave", "nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("\"nope\""));
  EXPECT_EQ(authorizer_.SetAccountDisabled(0, true).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(authorizer_.SetAccountDisabled(999, true).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthorizerTest, KeyValidation) {
  auto a = authorizer_.CreateAccount("erin", "default");
  ASSERT_TRUE(a.ok());
  auto neg = authorizer_.CreateKey(KeyRequest{a->id, "k", {}, -1, std::nullopt});
  EXPECT_EQ(neg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(neg.status().message()), HasSubstr("rpm_limit"));
  EXPECT_EQ(authorizer_.CreateKey(KeyRequest{a->id, "k", {}, 0, now_}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(authorizer_.CreateKey(KeyRequest{a->id, "k", {""}, 0, std::nullopt}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(authorizer_.CreateKey(KeyRequest{424242, "k", {}, 0, std::nullopt}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(authorizer_.CreateKey(KeyRequest{0, "k", {}, 0, std::nullopt}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(authorizer_.SetKeyStatus(1, static_cast<KeyStatus>(0)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(authorizer_.SetKeyStatus(77, KeyStatus::kDisabled).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(authorizer_.ListKeys(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthorizerTest, GeneratorFailureCreatesNothing) {
  Authorizer broken(
      store_, [this] { return now_; },
      [] { return absl::StatusOr<std::string>(absl::InternalError("no entropy")); });
  auto a = broken.CreateAccount("frank", "default");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(broken.CreateKey(KeyRequest{a->id, "k", {}, 0, std::nullopt}).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_TRUE(store_->ListKeys(a->id)->empty());
}

}  // namespace
}  // namespace routeall::auth
