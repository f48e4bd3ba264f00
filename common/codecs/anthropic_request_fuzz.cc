// libFuzzer target: any bytes as an Anthropic Messages request must decode or fail with a
// 400, and whatever decodes must encode for an Anthropic upstream (and a Gemini and an
// OpenAI one) to a body that decodes again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/codecs/anthropic_codec.h"
#include "common/codecs/gemini_codec.h"
#include "common/codecs/openai_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace anthropic = routeall::codecs::anthropic;
  using routeall::llm::v1::ChatRequest;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ChatRequest req;
  auto err = anthropic::DecodeMessagesRequest(body, &req);
  if (err) {
    if (err->http_status != 400 || err->message.empty()) std::abort();
    return 0;
  }
  auto encoded = anthropic::EncodeMessagesRequest(req, req.model());
  std::string text = encoded.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ChatRequest again;
  if (auto e = anthropic::DecodeMessagesRequest(text, &again)) std::abort();
  // Cross-dialect encodings must not crash either.
  (void)routeall::codecs::gemini::EncodeGenerateContentRequest(req).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)routeall::codecs::openai::EncodeChatRequest(req, "m").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
