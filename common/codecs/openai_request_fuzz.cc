// libFuzzer target: any bytes as an OpenAI chat request must decode or fail with a 400, and
// whatever decodes must encode for Anthropic and Gemini upstreams without crashing, and
// re-encode for an OpenAI upstream to JSON that decodes again to the same canonical request
// (compared field by field, after the normalisations below).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/codecs/anthropic_codec.h"
#include "common/codecs/gemini_codec.h"
#include "common/codecs/openai_codec.h"
#include "common/codecs/roundtrip_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using routeall::llm::v1::ChatRequest;
  namespace codecs = routeall::codecs;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ChatRequest req;
  auto err = codecs::openai::DecodeChatRequest(body, &req);
  if (err) {
    if (err->http_status != 400 || err->message.empty()) std::abort();
    return 0;
  }
  (void)codecs::anthropic::EncodeMessagesRequest(req, "m").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)codecs::gemini::EncodeGenerateContentRequest(req).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  auto encoded = codecs::openai::EncodeChatRequest(req, req.model());
  // The upstream encoding always asks for usage when streaming (the gateway bills from it), so
  // the client's include_usage is the one field that cannot survive; compare without it.
  req.clear_include_usage();
  encoded.erase("stream_options");
  // An assistant's reasoning_content is read for upstreams that replay reasoning (Anthropic,
  // Gemini) but OpenAI's request schema has no field for it, so the OpenAI encoding drops it.
  // A message with neither content nor tool calls still needs a content field upstream: it
  // goes out as "" and comes back as one empty text part.
  for (auto& m : *req.mutable_messages()) {
    auto* parts = m.mutable_parts();
    for (int i = parts->size() - 1; i >= 0; --i) {
      if (parts->Get(i).has_thinking()) parts->DeleteSubrange(i, 1);
    }
    if (parts->empty() && m.tool_calls_size() == 0) m.add_parts()->set_text("");
  }
  ChatRequest again;
  std::string text = encoded.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (codecs::openai::DecodeChatRequest(text, &again)) std::abort();
  codecs::fuzz::CheckSameRequest(req, again, body, text);
  return 0;
}
