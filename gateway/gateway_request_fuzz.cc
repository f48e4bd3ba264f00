// libFuzzer target: what the gateway reads from a client request before any codec runs, the
// request path, query and API key. The input is a raw HTTP/1.1 request, parsed with the same
// Beast parser the server uses; it is routed the way main.cc routes, and each dialect reads
// its key and decodes the body. Bytes that do not parse as a request are still fuzzed as a
// request target. Checks:
//   - QueryParam returns a value from the query (never containing '&'), "" without a '?'.
//   - ParseGeminiModelPath accepts only "{/v1beta,/v1}/models/{model}:{action}" with a
//     non-empty model without '/', and splits it so that it joins back to the path.
//   - A Bearer key never keeps surrounding spaces; x-api-key / x-goog-api-key win over it.
//   - Decode either succeeds or fails with a 400 or 404 that says why; Gemini decodes only a
//     known action, streaming only with alt=sse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "gateway/anthropic_dialect.h"
#include "gateway/gemini_dialect.h"
#include "gateway/http_server.h"
#include "gateway/openai_dialect.h"

namespace {

namespace gw = ::routeall::gateway;
namespace http = ::boost::beast::http;

void Check(bool ok) {
  if (!ok) std::abort();
}

// Every query parameter name a handler reads.
constexpr std::string_view kParams[] = {"key", "alt", "from", "to", "limit", "account_id"};

void CheckTarget(std::string_view target) {
  const bool has_query = target.find('?') != std::string_view::npos;
  for (std::string_view name : kParams) {
    std::string v = gw::QueryParam(target, name);
    Check(v.empty() || (has_query && v.find('&') == std::string::npos &&
                        target.find(std::string(name) + "=" + v) != std::string_view::npos));
  }
  std::string_view path = target.substr(0, target.find('?'));
  std::string model, action;
  if (gw::ParseGeminiModelPath(path, &model, &action)) {
    Check(!model.empty() && model.find('/') == std::string::npos && action.find(':') == std::string::npos);
    std::string joined = model + ":" + action;
    Check(path == "/v1beta/models/" + joined || path == "/v1/models/" + joined);
  }
}

void CheckDecode(const gw::PublicDialect& dialect, const gw::HttpRequest& req) {
  routeall::llm::v1::ChatRequest out;
  if (auto err = dialect.Decode(req, &out)) {
    Check((err->http_status == 400 || err->http_status == 404) && !err->message.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gw::OpenAIDialect openai{};
  static const gw::AnthropicDialect anthropic{};
  static const gw::GeminiDialect gemini{};

  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(1 << 20);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < size && !parser.is_done()) {
    size_t n = parser.put(boost::asio::const_buffer(data + used, size - used), ec);
    if (ec || n == 0) break;
    used += n;
  }
  if (!ec && !parser.is_done() && parser.is_header_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) {
    CheckTarget(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
  }
  gw::HttpRequest req = parser.release();
  std::string_view target(req.target().data(), req.target().size());
  CheckTarget(target);

  std::string bearer = gw::BearerToken(req);
  Check(bearer.empty() || (bearer.front() != ' ' && bearer.back() != ' '));
  Check(openai.ApiKey(req) == bearer);
  std::string akey = anthropic.ApiKey(req);
  Check(req.count("x-api-key") ? akey == std::string(req["x-api-key"]) : akey == bearer);
  std::string gkey = gemini.ApiKey(req);
  Check(req.count("x-goog-api-key") ? gkey == std::string(req["x-goog-api-key"]) : gkey == gw::QueryParam(target, "key"));

  // Routed as main.cc routes POSTs; every dialect also decodes every body, so the codecs see
  // what a client can send on any path.
  std::string_view path = target.substr(0, target.find('?'));
  std::string model, action;
  routeall::llm::v1::ChatRequest out;
  auto gerr = gemini.Decode(req, &out);
  if (!gw::ParseGeminiModelPath(path, &model, &action) ||
      (action != "generateContent" && action != "streamGenerateContent")) {
    Check(gerr && gerr->http_status == 404);
  } else if (action == "streamGenerateContent" && gw::QueryParam(target, "alt") != "sse") {
    Check(gerr && gerr->http_status == 400 && gerr->param == "alt");
  } else if (!gerr) {
    Check(out.model() == model && out.stream() == (action == "streamGenerateContent"));
  }
  if (gerr) Check(!gerr->message.empty());
  if (req.method() == http::verb::post) {
    CheckDecode(openai, req);
    CheckDecode(anthropic, req);
  }
  return 0;
}
