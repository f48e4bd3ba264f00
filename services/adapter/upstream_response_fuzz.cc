// libFuzzer target: one upstream provider's answer, end to end through HttpProvider (built once
// per provider; ROUTEALL_FUZZ_PROVIDER picks it). The input is an optional "<3-digit HTTP
// status>\n" line (200 when absent) and then the raw response body, which goes both to
// Generate (a unary body, or an error envelope when the status is not 2xx) and to
// GenerateStream (an SSE stream, fed in two pieces split where the data says). Checks:
//   - Generate answers with exactly one of a response and an error; a non-2xx status gives an
//     error carrying that status, the body and the retryable flag the status implies; a 2xx
//     body it cannot read gives a 502. Never an empty error message.
//   - GenerateStream emits at most one error and nothing after it; a non-2xx status gives
//     exactly one event, that error.
//   - Whatever decodes encodes for every public dialect without crashing, and the public
//     response in the provider's own dialect decodes again with the provider's decoder (the
//     two sides share one wire format).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/codecs/anthropic_codec.h"
#include "common/codecs/gemini_codec.h"
#include "common/codecs/openai_codec.h"
#include "services/adapter/anthropic_provider.h"
#include "services/adapter/gemini_provider.h"
#include "services/adapter/openai_provider.h"

namespace {

namespace v1 = ::routeall::adapter::v1;
namespace llm = ::routeall::llm::v1;
namespace codecs = ::routeall::codecs;
using routeall::adapter::RetryableHttpStatus;
using routeall::http::HttpClientRequest;
using routeall::http::HttpClientResponse;
using routeall::http::HttpClientResponseHead;

// Answers every call with the fuzzer's status and body.
class FakeClient : public routeall::http::HttpClient {
 public:
  FakeClient(int status, std::string_view body, size_t split) : status_(status), body_(body), split_(split) {}

  absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest&) override {
    HttpClientResponse res;
    res.head.status = status_;
    res.body = std::string(body_);
    return res;
  }

  absl::Status Stream(const HttpClientRequest&, const std::function<bool(const HttpClientResponseHead&)>& on_head,
                      const std::function<bool(std::string_view)>& on_data) override {
    HttpClientResponseHead head;
    head.status = status_;
    if (!on_head(head)) return absl::CancelledError("on_head");
    // Two pieces, as a socket may deliver them; the adapter must not care where the cut is.
    if (!on_data(body_.substr(0, split_))) return absl::CancelledError("on_data");
    if (!on_data(body_.substr(split_))) return absl::CancelledError("on_data");
    return absl::OkStatus();
  }

 private:
  int status_;
  std::string_view body_;
  size_t split_;
};

#if ROUTEALL_FUZZ_PROVIDER == 0
using Provider = routeall::adapter::OpenAIProvider;
#elif ROUTEALL_FUZZ_PROVIDER == 1
using Provider = routeall::adapter::AnthropicProvider;
#else
using Provider = routeall::adapter::GeminiProvider;
#endif

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

void Check(bool ok) {
  if (!ok) std::abort();
}

// The public response in the provider's own dialect must read back with its upstream decoder.
void CheckOwnDialect(const llm::ChatResponse& res) {
  llm::ChatResponse again;
#if ROUTEALL_FUZZ_PROVIDER == 0
  Check(!codecs::openai::DecodeChatResponse(Dump(codecs::openai::EncodeChatResponse(res)), &again));
#elif ROUTEALL_FUZZ_PROVIDER == 1
  Check(!codecs::anthropic::DecodeMessagesResponse(Dump(codecs::anthropic::EncodeMessagesResponse(res)), &again));
#else
  Check(!codecs::gemini::DecodeGenerateContentResponse(Dump(codecs::gemini::EncodeGenerateContentResponse(res)), &again));
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  int status = 200;
  if (in.size() >= 4 && in[3] == '\n' && in[0] >= '1' && in[0] <= '9' && in[1] >= '0' && in[1] <= '9' &&
      in[2] >= '0' && in[2] <= '9') {
    status = (in[0] - '0') * 100 + (in[1] - '0') * 10 + (in[2] - '0');
    in.remove_prefix(4);
  }
  const bool ok_status = status >= 200 && status < 300;
  size_t split = in.empty() ? 0 : static_cast<uint8_t>(in.back()) % (in.size() + 1);
  FakeClient client(status, in, split);
  Provider provider(client);

  v1::GenerateRequest req;
  req.mutable_upstream()->set_base_url("http://upstream.invalid");
  req.mutable_request()->set_model("m");

  v1::GenerateResponse res = provider.Generate(req);
  Check(res.has_response() != res.has_error());
  if (res.has_error()) {
    const auto& e = res.error();
    Check(!e.message().empty());
    if (ok_status) {
      Check(e.http_status() == 502);
    } else {
      Check(e.http_status() == status && e.body() == in && e.retryable() == RetryableHttpStatus(status));
    }
  } else {
    Check(ok_status);
    const auto& r = res.response();
    (void)Dump(codecs::openai::EncodeChatResponse(r));
    (void)Dump(codecs::anthropic::EncodeMessagesResponse(r));
    (void)Dump(codecs::gemini::EncodeGenerateContentResponse(r));
    CheckOwnDialect(r);
  }

  req.mutable_request()->set_stream(true);
  std::vector<v1::GenerateStreamResponse> events;
  provider.GenerateStream(req, [&](v1::GenerateStreamResponse&& ev) {
    Check(events.empty() || !events.back().has_error());  // an error ends the stream
    events.push_back(std::move(ev));
    return true;
  });
  if (!ok_status) {
    Check(events.size() == 1 && events[0].has_error() && events[0].error().http_status() == status);
  }
  // The chunks go to the client in every dialect; the encoders must take them in any order.
  codecs::anthropic::StreamEncoder aenc("msg_f", "m");
  codecs::gemini::StreamEncoder genc("r", "m");
  std::string out;
  for (const auto& ev : events) {
    if (ev.has_error()) {
      Check(!ev.error().message().empty());
      continue;
    }
    out += aenc.Chunk(ev.chunk());
    out += genc.Chunk(ev.chunk());
    out += Dump(codecs::openai::EncodeChatChunk(ev.chunk(), true));
  }
  out += aenc.Finish(llm::Usage());
  out += genc.Finish(llm::Usage());
  return 0;
}
