// libFuzzer target: any bytes as a Gemini generateContent request must decode or fail with
// a 400, and whatever decodes must encode for a Gemini upstream to a body that decodes
// again (and encode for Anthropic and OpenAI without crashing).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/codecs/anthropic_codec.h"
#include "common/codecs/gemini_codec.h"
#include "common/codecs/openai_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace gemini = routeall::codecs::gemini;
  using routeall::llm::v1::ChatRequest;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ChatRequest req;
  auto err = gemini::DecodeGenerateContentRequest("gemini-2.5-pro", body, size % 2 == 0, &req);
  if (err) {
    if (err->http_status != 400 || err->message.empty()) std::abort();
    return 0;
  }
  auto encoded = gemini::EncodeGenerateContentRequest(req);
  std::string text = encoded.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ChatRequest again;
  if (auto e = gemini::DecodeGenerateContentRequest(req.model(), text, false, &again)) std::abort();
  (void)routeall::codecs::anthropic::EncodeMessagesRequest(req, "m").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)routeall::codecs::openai::EncodeChatRequest(req, "m").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
