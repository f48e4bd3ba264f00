// AdapterServiceImpl.
#include "services/adapter/adapter_service.h"

#include "common/log.h"

namespace routeall::adapter {

AdapterServiceImpl::AdapterServiceImpl(std::map<llm::v1::Dialect, Provider*> providers,
                                       prometheus::Registry& registry)
    : providers_(std::move(providers)),
      calls_(prometheus::BuildCounter()
                 .Name("routeall_adapter_upstream_calls_total")
                 .Help("Upstream calls by provider, kind (unary|stream) and result (ok|retryable|rejected)")
                 .Register(registry)) {}

Provider* AdapterServiceImpl::Find(llm::v1::Dialect d) const {
  auto it = providers_.find(d);
  return it == providers_.end() ? nullptr : it->second;
}

void AdapterServiceImpl::Count(const v1::GenerateRequest& req, const char* kind, const char* result) {
  calls_.Add({{"provider", llm::v1::Dialect_Name(req.upstream().provider())}, {"kind", kind}, {"result", result}})
      .Increment();
}

grpc::Status AdapterServiceImpl::Generate(grpc::ServerContext* ctx, const v1::GenerateRequest* req,
                                          v1::GenerateResponse* res) {
  ScopedRequestId scoped(req->request_id());
  Provider* p = Find(req->upstream().provider());
  if (p == nullptr) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "no provider for " + llm::v1::Dialect_Name(req->upstream().provider()));
  }
  *res = p->Generate(*req, [ctx] { return ctx->IsCancelled(); });
  Count(*req, "unary", !res->has_error() ? "ok" : res->error().retryable() ? "retryable" : "rejected");
  return grpc::Status::OK;
}

grpc::Status AdapterServiceImpl::GenerateStream(grpc::ServerContext* ctx, const v1::GenerateRequest* req,
                                                grpc::ServerWriter<v1::GenerateStreamResponse>* writer) {
  ScopedRequestId scoped(req->request_id());
  Provider* p = Find(req->upstream().provider());
  if (p == nullptr) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "no provider for " + llm::v1::Dialect_Name(req->upstream().provider()));
  }
  const char* result = "ok";
  p->GenerateStream(*req, [&](v1::GenerateStreamResponse&& ev) {
    if (ev.has_error()) result = ev.error().retryable() ? "retryable" : "rejected";
    // A cancelled call (the gateway's client left) stops the upstream read at once.
    if (ctx->IsCancelled()) return false;
    return writer->Write(ev);
  }, [ctx] { return ctx->IsCancelled(); });
  Count(*req, "stream", result);
  return grpc::Status::OK;
}

}  // namespace routeall::adapter
