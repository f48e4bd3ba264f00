// HttpProvider: unary calls and SSE relaying shared by every upstream wire format.
#include "services/adapter/provider.h"

#include <nlohmann/json.hpp>

#include "common/codecs/json_limits.h"
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

v1::UpstreamError MakeUpstreamError(int status, std::string type, std::string message, std::string body) {
  v1::UpstreamError e;
  e.set_http_status(status);
  e.set_retryable(RetryableHttpStatus(status));
  e.set_type(std::move(type));
  e.set_message(message.empty() ? "upstream answered HTTP " + std::to_string(status) : std::move(message));
  e.set_body(std::move(body));
  return e;
}

v1::UpstreamError UpstreamErrorFromEnvelope(int status, const std::string& body,
                                            std::initializer_list<const char*> type_keys) {
  std::string message, type;
  auto j = codecs::ParseBounded(body);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& err = j["error"];
    if (err.contains("message") && err["message"].is_string()) message = err["message"].get<std::string>();
    for (const char* key : type_keys) {
      if (err.contains(key) && err[key].is_string()) {
        type = err[key].get<std::string>();
        break;
      }
    }
  }
  return MakeUpstreamError(status, type, message, body);
}

v1::UpstreamError TransportError(const absl::Status& st) {
  v1::UpstreamError e;
  e.set_http_status(0);
  e.set_message(std::string(st.message()));
  if (http::ResponseStarted(st) || st.code() == absl::StatusCode::kResourceExhausted) {
    // The upstream is alive and was answering (slow generation, a cut mid-body, an oversized
    // answer): retrying would pay a second upstream for the same request, and the channel is
    // not broken.
    e.set_retryable(false);
    e.set_response_started(true);
    e.set_http_status(st.code() == absl::StatusCode::kResourceExhausted ? 502 : 504);
    e.set_type(st.code() == absl::StatusCode::kResourceExhausted ? "upstream_response_too_large"
               : st.code() == absl::StatusCode::kDeadlineExceeded ? "upstream_timeout_while_generating"
                                                                  : "upstream_interrupted");
    return e;
  }
  // Nothing arrived from the upstream, so another channel may serve it.
  e.set_retryable(st.code() == absl::StatusCode::kUnavailable || st.code() == absl::StatusCode::kDeadlineExceeded);
  e.set_type(st.code() == absl::StatusCode::kDeadlineExceeded ? "upstream_timeout" : "upstream_unreachable");
  return e;
}

void HttpProvider::ApplyTimeouts(const v1::GenerateRequest& req, http::HttpClientRequest* out) {
  int64_t ms = req.upstream().timeout().seconds() * 1000 + req.upstream().timeout().nanos() / 1000000;
  if (ms <= 0) return;
  out->first_byte_timeout = std::chrono::milliseconds(ms);
  out->idle_timeout = std::chrono::milliseconds(ms);
  if (!req.request().stream()) out->total_timeout = std::chrono::milliseconds(ms);
}

namespace {
std::chrono::milliseconds Millis(const google::protobuf::Duration& d, std::chrono::milliseconds def) {
  int64_t ms = d.seconds() * 1000 + d.nanos() / 1000000;
  return ms > 0 ? std::chrono::milliseconds(ms) : def;
}
}  // namespace

v1::GenerateResponse HttpProvider::Generate(const v1::GenerateRequest& req, const CancelCheck& cancelled) {
  v1::GenerateResponse out;
  auto started = std::chrono::steady_clock::now();
  http::HttpClientRequest hreq = BuildRequest(req);
  hreq.max_body_bytes = limits_.max_body_bytes;
  hreq.cancelled = cancelled;
  auto res = client_.Send(hreq);
  auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started);
  out.mutable_upstream_latency()->set_seconds(elapsed.count() / 1000000000);
  out.mutable_upstream_latency()->set_nanos(static_cast<int32_t>(elapsed.count() % 1000000000));
  if (!res.ok()) {
    *out.mutable_error() = TransportError(res.status());
    return out;
  }
  if (res->head.status < 200 || res->head.status >= 300) {
    *out.mutable_error() = HttpError(res->head.status, res->body);
    return out;
  }
  if (auto err = DecodeResponse(res->body, out.mutable_response())) {
    out.clear_response();
    // A 2xx body we cannot read: another channel may do better.
    *out.mutable_error() = MakeUpstreamError(502, err->code, err->message);
  }
  return out;
}

void HttpProvider::GenerateStream(const v1::GenerateRequest& req, const StreamSink& sink, const CancelCheck& cancelled) {
  int status = 0;
  const auto idle_limit = Millis(req.upstream().stream_idle_timeout(), limits_.stream_idle_timeout);
  const auto total_limit = Millis(req.upstream().stream_total_timeout(), limits_.stream_total_timeout);
  const auto started = std::chrono::steady_clock::now();
  auto last_progress = started;
  std::string error_body;
  bool downstream_gone = false;
  bool failed = false;
  bool usage_sent = false;
  http::SseParser parser;
  auto decoder = NewStreamDecoder();
  auto emit_error = [&](v1::UpstreamError e) {
    failed = true;
    v1::GenerateStreamResponse ev;
    *ev.mutable_error() = std::move(e);
    sink(std::move(ev));
  };
  std::vector<llm::v1::ChatChunk> chunks;
  http::HttpClientRequest hreq = BuildRequest(req);
  hreq.cancelled = cancelled;
  // Bytes that keep arriving (pings) must not keep a stream alive past its total limit.
  if (hreq.total_timeout.count() == 0 || hreq.total_timeout > total_limit) hreq.total_timeout = total_limit;
  absl::Status st = client_.Stream(
      hreq,
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
          if (failed || downstream_gone) return;
          chunks.clear();
          if (auto err = decoder->Feed(ev.event, ev.data, &chunks)) {
            // An error event inside a 200 stream: the provider's own overload/error report.
            emit_error(MakeUpstreamError(err->http_status >= 400 ? err->http_status : 502, err->code, err->message));
            return;
          }
          if (!chunks.empty()) last_progress = std::chrono::steady_clock::now();
          for (auto& c : chunks) {
            if (c.has_usage()) usage_sent = true;
            v1::GenerateStreamResponse out;
            *out.mutable_chunk() = std::move(c);
            if (!sink(std::move(out))) {
              downstream_gone = true;
              return;
            }
          }
        });
        if (!ps.ok() && !failed) emit_error(MakeUpstreamError(502, "bad_upstream_stream", std::string(ps.message())));
        if (!failed && !downstream_gone && std::chrono::steady_clock::now() - last_progress > idle_limit) {
          // Only keep-alives for too long: the upstream answered but makes no progress.
          v1::UpstreamError e = MakeUpstreamError(504, "upstream_stream_idle",
                                                  "upstream stream produced no content within its idle timeout");
          e.set_retryable(false);
          e.set_response_started(true);
          emit_error(std::move(e));
        }
        return !(downstream_gone || failed);
      });
  if (downstream_gone || failed) return;
  if (status != 0 && (status < 200 || status >= 300)) return emit_error(HttpError(status, error_body));
  if (!st.ok()) {
    v1::UpstreamError e = TransportError(st);
    // A 2xx head arrived: whatever breaks now is past the point of another try.
    if (status != 0) {
      e.set_retryable(false);
      e.set_response_started(true);
    }
    return emit_error(std::move(e));
  }
  if (!usage_sent) {
    if (auto u = decoder->PendingUsage()) {
      v1::GenerateStreamResponse out;
      *out.mutable_chunk()->mutable_usage() = *u;
      if (!sink(std::move(out))) return;
    }
  }
  if (!decoder->Done()) {
    emit_error(MakeUpstreamError(502, "upstream_stream_truncated", "upstream stream ended before its end marker"));
  }
}

}  // namespace routeall::adapter
