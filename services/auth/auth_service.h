// gRPC front of the auth service: translates proto <-> domain and nothing more.
#pragma once

#include <memory>
#include <vector>

#include "common/migrations.h"
#include "routeall/auth/v1/auth_service.grpc.pb.h"
#include "services/auth/authorizer.h"

namespace routeall::auth {

class AuthServiceImpl final : public routeall::auth::v1::AuthService::Service {
 public:
  explicit AuthServiceImpl(std::shared_ptr<Authorizer> authorizer) : authorizer_(std::move(authorizer)) {}

  // AuthService
  grpc::Status Authorize(grpc::ServerContext* ctx, const v1::AuthorizeRequest* req,
                         v1::AuthorizeResponse* res) override;
  grpc::Status CreateGroup(grpc::ServerContext* ctx, const v1::CreateGroupRequest* req,
                           v1::CreateGroupResponse* res) override;
  grpc::Status ListGroups(grpc::ServerContext* ctx, const v1::ListGroupsRequest* req,
                          v1::ListGroupsResponse* res) override;
  grpc::Status CreateAccount(grpc::ServerContext* ctx, const v1::CreateAccountRequest* req,
                             v1::CreateAccountResponse* res) override;
  grpc::Status ListAccounts(grpc::ServerContext* ctx, const v1::ListAccountsRequest* req,
                            v1::ListAccountsResponse* res) override;
  grpc::Status SetAccountDisabled(grpc::ServerContext* ctx, const v1::SetAccountDisabledRequest* req,
                                  v1::SetAccountDisabledResponse* res) override;
  grpc::Status CreateKey(grpc::ServerContext* ctx, const v1::CreateKeyRequest* req,
                         v1::CreateKeyResponse* res) override;
  grpc::Status ListKeys(grpc::ServerContext* ctx, const v1::ListKeysRequest* req,
                        v1::ListKeysResponse* res) override;
  grpc::Status SetKeyStatus(grpc::ServerContext* ctx, const v1::SetKeyStatusRequest* req,
                            v1::SetKeyStatusResponse* res) override;

 private:
  std::shared_ptr<Authorizer> authorizer_;
};

// The SQL migrations of this service, embedded at build time from migrations/.
const std::vector<routeall::Migration>& Migrations();

}  // namespace routeall::auth
