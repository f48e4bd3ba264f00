// AdminApi: path table, JSON <-> proto with protobuf's JSON mapping, token check.
#include "gateway/admin_api.h"

#include <openssl/crypto.h>

#include <google/protobuf/util/json_util.h>

#include <regex>

#include "common/crypto.h"
#include "common/log.h"
#include "gateway/openai_dialect.h"

namespace routeall::gateway {
namespace {

using google::protobuf::Message;

codecs::ApiError AdminError(int status, std::string message, std::string code) {
  std::string type = status == 401 ? "authentication_error" : status == 404 ? "not_found_error" : "invalid_request_error";
  if (status >= 500) type = "server_error";
  return codecs::ApiError{status, type, std::move(message), "", std::move(code)};
}

HttpResponse JsonResponse(int status, const Message& m) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(m, &json, opts);
  HttpResponse res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = json;
  return res;
}

// Parses body into m; an empty body is an empty message. Unknown fields are an error so a
// typo never silently does nothing.
bool ParseBody(const std::string& body, Message* m, std::string* error) {
  if (body.empty()) return true;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(body, m, opts);
  if (!st.ok()) {
    *error = std::string(st.message());
    return false;
  }
  return true;
}

template <class Res>
HttpResponse Finish(const grpc::Status& st, const Res& res, int ok_status = 200) {
  if (!st.ok()) {
    return OpenAIErrorResponse(AdminError(HttpStatusForGrpc(st.error_code()), st.error_message(),
                                          "grpc_" + std::to_string(static_cast<int>(st.error_code()))));
  }
  return JsonResponse(ok_status, res);
}

}  // namespace

int HttpStatusForGrpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::FAILED_PRECONDITION: return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 503;
    default: return 500;
  }
}

AdminApi::AdminApi(std::string token, std::shared_ptr<grpc::Channel> auth, std::shared_ptr<grpc::Channel> routing,
                   std::shared_ptr<grpc::Channel> billing)
    : token_hash_(token.empty() ? "" : Sha256Hex(token)),
      auth_(auth::v1::AuthService::NewStub(auth)),
      routing_(routing::v1::RoutingService::NewStub(routing)),
      billing_(billing::v1::BillingService::NewStub(billing)) {}

bool AdminApi::Authorized(const HttpRequest& req) const {
  if (token_hash_.empty()) return false;
  // Compare hashes in constant time so the token cannot be guessed byte by byte.
  std::string presented = Sha256Hex(BearerToken(req));
  return CRYPTO_memcmp(presented.data(), token_hash_.data(), token_hash_.size()) == 0;
}

bool AdminApi::Handle(const HttpRequest& req, ResponseWriter& out) {
  std::string_view target(req.target().data(), req.target().size());
  if (target.substr(0, 7) != "/admin/") return false;
  HttpResponse res;
  if (token_hash_.empty()) {
    res = OpenAIErrorResponse(AdminError(404, "The admin API is disabled (no admin token configured).", "admin_disabled"));
  } else if (!Authorized(req)) {
    res = OpenAIErrorResponse(AdminError(401, "Invalid admin token.", "invalid_admin_token"));
  } else {
    res = Dispatch(req);
  }
  out.Send(std::move(res));
  return true;
}

HttpResponse AdminApi::Dispatch(const HttpRequest& req) {
  std::string target(req.target().data(), req.target().size());
  std::string path = target.substr(0, target.find('?'));
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;
  const std::string& body = req.body();
  std::string err;
  auto bad = [&](const std::string& e) {
    return OpenAIErrorResponse(AdminError(400, "Invalid request body: " + e, "invalid_body"));
  };
  auto ctx = [] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return c;
  };
  static const std::regex kIdAction(R"(^/admin/(accounts|keys|channels)/(\d+)/(enable|disable)$)");
  static const std::regex kBalance(R"(^/admin/accounts/(\d+)/balance$)");
  std::smatch m;

  if (path == "/admin/groups" && get) {
    auth::v1::ListGroupsResponse res;
    auth::v1::ListGroupsRequest r;
    return Finish(auth_->ListGroups(ctx().get(), r, &res), res);
  }
  if (path == "/admin/groups" && post) {
    auth::v1::CreateGroupRequest r;
    if (!ParseBody(body, r.mutable_group(), &err)) return bad(err);
    auth::v1::CreateGroupResponse res;
    return Finish(auth_->CreateGroup(ctx().get(), r, &res), res, 201);
  }
  if (path == "/admin/accounts" && get) {
    auth::v1::ListAccountsRequest r;
    auth::v1::ListAccountsResponse res;
    return Finish(auth_->ListAccounts(ctx().get(), r, &res), res);
  }
  if (path == "/admin/accounts" && post) {
    auth::v1::CreateAccountRequest r;
    if (!ParseBody(body, &r, &err)) return bad(err);
    auth::v1::CreateAccountResponse res;
    return Finish(auth_->CreateAccount(ctx().get(), r, &res), res, 201);
  }
  if (path == "/admin/keys" && get) {
    auth::v1::ListKeysRequest r;
    std::string acct = QueryParam(target, "account_id");
    if (!acct.empty()) r.set_account_id(std::atoll(acct.c_str()));
    auth::v1::ListKeysResponse res;
    return Finish(auth_->ListKeys(ctx().get(), r, &res), res);
  }
  if (path == "/admin/keys" && post) {
    auth::v1::CreateKeyRequest r;
    if (!ParseBody(body, &r, &err)) return bad(err);
    auth::v1::CreateKeyResponse res;
    return Finish(auth_->CreateKey(ctx().get(), r, &res), res, 201);
  }
  if (path == "/admin/channels" && get) {
    routing::v1::ListChannelsRequest r;
    routing::v1::ListChannelsResponse res;
    return Finish(routing_->ListChannels(ctx().get(), r, &res), res);
  }
  if (path == "/admin/channels" && post) {
    routing::v1::CreateChannelRequest r;
    if (!ParseBody(body, r.mutable_channel(), &err)) return bad(err);
    routing::v1::CreateChannelResponse res;
    return Finish(routing_->CreateChannel(ctx().get(), r, &res), res, 201);
  }
  if (path == "/admin/prices" && get) {
    billing::v1::ListPricesRequest r;
    billing::v1::ListPricesResponse res;
    return Finish(billing_->ListPrices(ctx().get(), r, &res), res);
  }
  if (path == "/admin/prices" && post) {
    billing::v1::SetPriceRequest r;
    if (!ParseBody(body, r.mutable_price(), &err)) return bad(err);
    billing::v1::SetPriceResponse res;
    return Finish(billing_->SetPrice(ctx().get(), r, &res), res, 201);
  }
  if (path == "/admin/topups" && post) {
    billing::v1::TopUpRequest r;
    if (!ParseBody(body, &r, &err)) return bad(err);
    // The idempotency key: without one, a retried top-up would credit twice.
    if (r.reference().empty()) {
      return bad("reference is required (a unique id of this top-up, e.g. the payment id)");
    }
    billing::v1::TopUpResponse res;
    return Finish(billing_->TopUp(ctx().get(), r, &res), res);
  }
  if (get && std::regex_match(path, m, kBalance)) {
    billing::v1::GetBalanceRequest r;
    r.set_account_id(std::stoll(m[1]));
    billing::v1::GetBalanceResponse res;
    return Finish(billing_->GetBalance(ctx().get(), r, &res), res);
  }
  if (post && std::regex_match(path, m, kIdAction)) {
    int64_t id = std::stoll(m[2]);
    bool enable = m[3] == "enable";
    if (m[1] == "accounts") {
      auth::v1::SetAccountDisabledRequest r;
      r.set_account_id(id);
      r.set_disabled(!enable);
      auth::v1::SetAccountDisabledResponse res;
      return Finish(auth_->SetAccountDisabled(ctx().get(), r, &res), res);
    }
    if (m[1] == "keys") {
      auth::v1::SetKeyStatusRequest r;
      r.set_key_id(id);
      r.set_status(enable ? auth::v1::KEY_STATUS_ACTIVE : auth::v1::KEY_STATUS_DISABLED);
      auth::v1::SetKeyStatusResponse res;
      return Finish(auth_->SetKeyStatus(ctx().get(), r, &res), res);
    }
    routing::v1::SetChannelEnabledRequest r;
    r.set_channel_id(id);
    r.set_enabled(enable);
    routing::v1::SetChannelEnabledResponse res;
    return Finish(routing_->SetChannelEnabled(ctx().get(), r, &res), res);
  }
  return OpenAIErrorResponse(AdminError(404, "Unknown admin endpoint: " + std::string(req.method_string()) + " " + path,
                                        "unknown_url"));
}

}  // namespace routeall::gateway
