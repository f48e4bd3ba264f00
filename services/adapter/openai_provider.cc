// OpenAIProvider: canonical -> OpenAI JSON over pooled HTTP, SSE chunks -> canonical chunks.
#include "services/adapter/openai_provider.h"

#include <nlohmann/json.hpp>

#include "common/codecs/openai_codec.h"
#include "common/http/sse_parser.h"

namespace routeall::adapter {

bool RetryableHttpStatus(int status) {
  return status == 408 || status == 429 || status == 401 || status == 403 || status >= 500;
}

std::string JoinUrl(const std::string& base, const std::string& path) {
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  std::string p = path;
  // "…/v1" + "/v1/…": drop the duplicate version segment.
  auto second = p.find('/', 1);
  if (second != std::string::npos) {
    std::string version = p.substr(0, second);  // "/v1" or "/v1beta"
    if (b.size() >= version.size() && b.compare(b.size() - version.size(), version.size(), version) == 0) {
      p = p.substr(second);
    }
  }
  return b + p;
}

v1::UpstreamError OpenAIHttpError(int status, const std::string& body) {
  v1::UpstreamError e;
  e.set_http_status(status);
  e.set_retryable(RetryableHttpStatus(status));
  e.set_body(body);
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& err = j["error"];
    if (err.contains("message") && err["message"].is_string()) e.set_message(err["message"].get<std::string>());
    if (err.contains("code") && err["code"].is_string()) e.set_type(err["code"].get<std::string>());
    else if (err.contains("type") && err["type"].is_string()) e.set_type(err["type"].get<std::string>());
  }
  if (e.message().empty()) e.set_message("upstream answered HTTP " + std::to_string(status));
  return e;
}

v1::UpstreamError TransportError(const absl::Status& st) {
  v1::UpstreamError e;
  e.set_http_status(0);
  // Nothing reached the gateway's client yet in either case, so another channel may serve it.
  e.set_retryable(st.code() == absl::StatusCode::kUnavailable || st.code() == absl::StatusCode::kDeadlineExceeded);
  e.set_message(std::string(st.message()));
  e.set_type(st.code() == absl::StatusCode::kDeadlineExceeded ? "upstream_timeout" : "upstream_unreachable");
  return e;
}

http::HttpClientRequest OpenAIProvider::BuildRequest(const v1::GenerateRequest& req) const {
  http::HttpClientRequest out;
  out.url = JoinUrl(req.upstream().base_url(), "/v1/chat/completions");
  out.headers.push_back({"Content-Type", "application/json"});
  out.headers.push_back({"Accept-Encoding", "identity"});
  if (!req.upstream().api_key().empty()) out.headers.push_back({"Authorization", "Bearer " + req.upstream().api_key()});
  if (req.request().stream()) out.headers.push_back({"Accept", "text/event-stream"});
  out.body = codecs::openai::EncodeChatRequest(req.request(), req.upstream().upstream_model())
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  int64_t ms = req.upstream().timeout().seconds() * 1000 + req.upstream().timeout().nanos() / 1000000;
  if (ms > 0) {
    out.first_byte_timeout = std::chrono::milliseconds(ms);
    out.idle_timeout = std::chrono::milliseconds(ms);
    if (!req.request().stream()) out.total_timeout = std::chrono::milliseconds(ms);
  }
  return out;
}

v1::GenerateResponse OpenAIProvider::Generate(const v1::GenerateRequest& req) {
  v1::GenerateResponse out;
  auto started = std::chrono::steady_clock::now();
  auto res = client_.Send(BuildRequest(req));
  auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started);
  out.mutable_upstream_latency()->set_seconds(elapsed.count() / 1000000000);
  out.mutable_upstream_latency()->set_nanos(static_cast<int32_t>(elapsed.count() % 1000000000));
  if (!res.ok()) {
    *out.mutable_error() = TransportError(res.status());
    return out;
  }
  if (res->head.status < 200 || res->head.status >= 300) {
    *out.mutable_error() = OpenAIHttpError(res->head.status, res->body);
    return out;
  }
  if (auto err = codecs::openai::DecodeChatResponse(res->body, out.mutable_response())) {
    out.clear_response();
    auto* e = out.mutable_error();
    e->set_http_status(502);
    e->set_retryable(true);
    e->set_message(err->message);
    e->set_type(err->code);
  }
  return out;
}

void OpenAIProvider::GenerateStream(const v1::GenerateRequest& req, const StreamSink& sink) {
  int status = 0;
  std::string error_body;
  bool downstream_gone = false;
  bool done = false;
  bool saw_end = false;  // a finish_reason or the usage chunk: complete even without [DONE]
  bool failed = false;
  http::SseParser parser;
  auto emit_error = [&](v1::UpstreamError e) {
    failed = true;
    v1::GenerateStreamResponse ev;
    *ev.mutable_error() = std::move(e);
    sink(std::move(ev));
  };
  absl::Status st = client_.Stream(
      BuildRequest(req),
      [&](const http::HttpClientResponseHead& head) {
        status = head.status;
        return true;
      },
      [&](std::string_view data) {
        if (status < 200 || status >= 300) {
          if (error_body.size() < (1 << 20)) error_body.append(data);
          return true;
        }
        absl::Status ps = parser.Feed(data, [&](http::SseParser::Event&& ev) {
          if (done || failed || downstream_gone) return;
          if (ev.data == "[DONE]") {
            done = true;
            return;
          }
          v1::GenerateStreamResponse out;
          if (auto err = codecs::openai::DecodeChatChunk(ev.data, out.mutable_chunk())) {
            v1::UpstreamError e;
            e.set_http_status(502);
            e.set_retryable(false);
            e.set_message(err->message);
            e.set_type(err->code);
            emit_error(std::move(e));
            return;
          }
          if (out.chunk().has_usage()) saw_end = true;
          for (const auto& d : out.chunk().deltas()) {
            if (d.finish_reason() != llm::v1::FINISH_REASON_UNSPECIFIED) saw_end = true;
          }
          if (!sink(std::move(out))) downstream_gone = true;
        });
        if (!ps.ok() && !failed) {
          v1::UpstreamError e;
          e.set_http_status(502);
          e.set_message(std::string(ps.message()));
          e.set_type("bad_upstream_stream");
          emit_error(std::move(e));
        }
        return !(downstream_gone || failed);
      });
  if (downstream_gone || failed) return;
  if (status != 0 && (status < 200 || status >= 300)) {
    emit_error(OpenAIHttpError(status, error_body));
    return;
  }
  if (!st.ok()) {
    v1::UpstreamError e = TransportError(st);
    // Retryable only before the first chunk; the gateway decides with what it already sent.
    emit_error(std::move(e));
    return;
  }
  if (!done && !saw_end) {
    v1::UpstreamError e;
    e.set_http_status(502);
    e.set_message("upstream stream ended without [DONE]");
    e.set_type("upstream_stream_truncated");
    emit_error(std::move(e));
  }
}

}  // namespace routeall::adapter
