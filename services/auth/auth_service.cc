// AuthServiceImpl: proto <-> domain conversions around Authorizer.
#include "services/auth/auth_service.h"

#include "common/status.h"

namespace routeall::auth {
namespace {

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t secs = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {  // Timestamp nanos must be non-negative
    rem += 1000000;
    --secs;
  }
  out->set_seconds(secs);
  out->set_nanos(static_cast<int32_t>(rem * 1000));
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void ToProto(const Group& g, v1::Group* out) {
  out->set_name(g.name);
  out->set_multiplier_ppm(g.multiplier_ppm);
  out->set_description(g.description);
}

void ToProto(const Account& a, v1::Account* out) {
  out->set_id(a.id);
  out->set_name(a.name);
  out->set_group(a.group);
  out->set_disabled(a.disabled);
  ToProto(a.created_at, out->mutable_created_at());
}

void ToProto(const ApiKey& k, v1::ApiKey* out) {
  out->set_id(k.id);
  out->set_account_id(k.account_id);
  out->set_name(k.name);
  out->set_prefix(k.prefix);
  out->set_status(k.status == KeyStatus::kActive ? v1::KEY_STATUS_ACTIVE : v1::KEY_STATUS_DISABLED);
  if (k.expires_at) ToProto(*k.expires_at, out->mutable_expires_at());
  for (const auto& m : k.allowed_models) out->add_allowed_models(m);
  out->set_rpm_limit(k.rpm_limit);
  ToProto(k.created_at, out->mutable_created_at());
}

}  // namespace

grpc::Status AuthServiceImpl::Authorize(grpc::ServerContext*, const v1::AuthorizeRequest* req,
                                        v1::AuthorizeResponse* res) {
  auto p = authorizer_->Authorize(req->key_hash());
  if (!p.ok()) return ToGrpcStatus(p.status());
  v1::Principal* out = res->mutable_principal();
  out->set_account_id(p->account_id);
  out->set_key_id(p->key_id);
  out->set_group(p->group);
  out->set_multiplier_ppm(p->multiplier_ppm);
  for (const auto& m : p->allowed_models) out->add_allowed_models(m);
  out->set_rpm_limit(p->rpm_limit);
  return grpc::Status::OK;
}

grpc::Status AuthServiceImpl::CreateGroup(grpc::ServerContext*, const v1::CreateGroupRequest* req,
                                          v1::CreateGroupResponse* res) {
  auto g = authorizer_->CreateGroup(
      Group{req->group().name(), req->group().multiplier_ppm(), req->group().description()});
  if (!g.ok()) return ToGrpcStatus(g.status());
  ToProto(*g, res->mutable_group());
  return grpc::Status::OK;
}

grpc::Status AuthServiceImpl::ListGroups(grpc::ServerContext*, const v1::ListGroupsRequest*,
                                         v1::ListGroupsResponse* res) {
  auto groups = authorizer_->ListGroups();
  if (!groups.ok()) return ToGrpcStatus(groups.status());
  for (const auto& g : *groups) ToProto(g, res->add_groups());
  return grpc::Status::OK;
}

grpc::Status AuthServiceImpl::CreateAccount(grpc::ServerContext*, const v1::CreateAccountRequest* req,
                                            v1::CreateAccountResponse* res) {
  auto a = authorizer_->CreateAccount(req->name(), req->group());
  if (!a.ok()) return ToGrpcStatus(a.status());
  ToProto(*a, res->mutable_account());
  return grpc::Status::OK;
}

grpc::Status AuthServiceImpl::ListAccounts(grpc::ServerContext*, const v1::ListAccountsRequest*,
                                           v1::ListAccountsResponse* res) {
  auto accounts = authorizer_->ListAccounts();
  if (!accounts.ok()) return ToGrpcStatus(accounts.status());
  for (const auto& a : *accounts) ToProto(a, res->add_accounts());
  return grpc::Status::OK;
}

grpc::Status AuthServiceImpl::SetAccountDisabled(grpc::ServerContext*,
                                                 const v1::SetAccountDisabledRequest* req,
                                                 v1::SetAccountDisabledResponse* res) {
  auto a = authorizer_->SetAccountDisabled(req->account_id(), req->disabled());
  if (!a.ok()) return ToGrpcStatus(a.status());
  ToProto(*a, res->mutable_account());
  return grpc::Status::OK;
}

grpc::Status AuthServiceImpl::CreateKey(grpc::ServerContext*, const v1::CreateKeyRequest* req,
                                        v1::CreateKeyResponse* res) {
  KeyRequest r;
  r.account_id = req->account_id();
  r.name = req->name();
  r.allowed_models.assign(req->allowed_models().begin(), req->allowed_models().end());
  r.rpm_limit = req->rpm_limit();
  if (req->has_expires_at()) r.expires_at = FromProto(req->expires_at());
  auto created = authorizer_->CreateKey(r);
  if (!created.ok()) return ToGrpcStatus(created.status());
  ToProto(created->key, res->mutable_key());
  res->set_secret(created->secret);
  return grpc::Status::OK;
}

grpc::Status AuthServiceImpl::ListKeys(grpc::ServerContext*, const v1::ListKeysRequest* req,
                                       v1::ListKeysResponse* res) {
  auto keys = authorizer_->ListKeys(req->account_id());
  if (!keys.ok()) return ToGrpcStatus(keys.status());
  for (const auto& k : *keys) ToProto(k, res->add_keys());
  return grpc::Status::OK;
}

grpc::Status AuthServiceImpl::SetKeyStatus(grpc::ServerContext*, const v1::SetKeyStatusRequest* req,
                                           v1::SetKeyStatusResponse* res) {
  // UNSPECIFIED (0) and unknown values reach the domain as invalid and are rejected there.
  auto k = authorizer_->SetKeyStatus(req->key_id(), static_cast<KeyStatus>(req->status()));
  if (!k.ok()) return ToGrpcStatus(k.status());
  ToProto(*k, res->mutable_key());
  return grpc::Status::OK;
}

}  // namespace routeall::auth
