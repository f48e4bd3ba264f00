// Wires the adapter service: one pooled HTTP client shared by every provider.
#include "common/http/http_client.h"
#include "common/service_main.h"
#include "services/adapter/adapter_service.h"
#include "services/adapter/anthropic_provider.h"
#include "services/adapter/gemini_provider.h"
#include "services/adapter/openai_provider.h"

int main(int argc, char** argv) {
  return routeall::RunService(
      {"adapter", 7103, 9103}, argc, argv, [](routeall::ServiceContext& ctx) -> absl::StatusOr<routeall::ServiceParts> {
        routeall::http::BeastHttpClientOptions opts;
        auto verify = ctx.config().GetBool("upstream-verify-tls", true);
        if (!verify.ok()) return verify.status();
        opts.verify_tls = *verify;
        opts.ca_file = ctx.config().GetString("upstream-ca-file", "");
        auto client = routeall::http::BeastHttpClient::Create(opts);
        if (!client.ok()) return client.status();
        std::shared_ptr<routeall::http::HttpClient> http(std::move(*client));
        auto openai = std::make_shared<routeall::adapter::OpenAIProvider>(*http);
        auto anthropic = std::make_shared<routeall::adapter::AnthropicProvider>(*http);
        auto gemini = std::make_shared<routeall::adapter::GeminiProvider>(*http);
        routeall::adapter::ProviderLimits limits;
        auto max_body = ctx.config().GetInt("upstream-max-body-bytes", static_cast<int64_t>(limits.max_body_bytes));
        auto idle = ctx.config().GetMillis("stream-idle-timeout-ms", limits.stream_idle_timeout);
        auto total = ctx.config().GetMillis("stream-total-timeout-ms", limits.stream_total_timeout);
        for (const absl::Status& s : {max_body.status(), idle.status(), total.status()}) {
          if (!s.ok()) return s;
        }
        limits.max_body_bytes = static_cast<size_t>(*max_body);
        limits.stream_idle_timeout = *idle;
        limits.stream_total_timeout = *total;
        for (routeall::adapter::HttpProvider* p :
             std::initializer_list<routeall::adapter::HttpProvider*>{openai.get(), anthropic.get(), gemini.get()}) {
          p->set_limits(limits);
        }
        routeall::ServiceParts parts;
        parts.services.push_back(std::make_shared<routeall::adapter::AdapterServiceImpl>(
            std::map<routeall::llm::v1::Dialect, routeall::adapter::Provider*>{
                {routeall::llm::v1::DIALECT_OPENAI, openai.get()},
                {routeall::llm::v1::DIALECT_ANTHROPIC, anthropic.get()},
                {routeall::llm::v1::DIALECT_GEMINI, gemini.get()}},
            ctx.registry()));
        parts.keep_alive = {http, openai, anthropic, gemini};
        return parts;
      });
}
