// libFuzzer target: any bytes as a Gemini generateContent request must decode or fail with
// a 400, and whatever decodes must encode for Anthropic and OpenAI upstreams without
// crashing, and encode for a Gemini upstream to a body that decodes again to the same
// canonical request: every field but the messages compared exactly, the conversation
// compared as content (ContentItems) because the encoding merges same-role turns and drops
// call ids, and that normal form must be a fixed point (a second round trip changes nothing).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/codecs/anthropic_codec.h"
#include "common/codecs/gemini_codec.h"
#include "common/codecs/openai_codec.h"
#include "common/codecs/roundtrip_fuzz_util.h"

namespace {

using routeall::llm::v1::ChatRequest;
namespace gemini = routeall::codecs::gemini;
namespace fuzz = routeall::codecs::fuzz;

std::string Encode(const ChatRequest& req) {
  return gemini::EncodeGenerateContentRequest(req).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The stream flag comes from the URL (streamGenerateContent), not the body: decode the body
// with the method it came with.
bool Decode(const ChatRequest& like, std::string_view text, ChatRequest* out) {
  return !gemini::DecodeGenerateContentRequest(like.model(), text, like.stream(), out);
}

// The conversation's content, except
//  - the MIME type of an image given by URL: the encoding must send one (fileData.mimeType)
//    and guesses it from the URL when the client gave none;
//  - thought text without a thoughtSignature: Gemini only takes back thoughts it signed, so
//    the encoding drops the others.
std::vector<std::string> Content(ChatRequest req) {
  for (auto& m : *req.mutable_messages()) {
    auto* parts = m.mutable_parts();
    for (int i = parts->size() - 1; i >= 0; --i) {
      auto& p = *parts->Mutable(i);
      if (p.has_image() && !p.image().url().empty()) p.mutable_image()->clear_mime_type();
      if (p.has_thinking() && p.thinking().signature().empty()) parts->DeleteSubrange(i, 1);
    }
  }
  return fuzz::ContentItems(req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ChatRequest req;
  auto err = gemini::DecodeGenerateContentRequest("gemini-2.5-pro", body, size % 2 == 0, &req);
  if (err) {
    if (err->http_status != 400 || err->message.empty()) std::abort();
    return 0;
  }
  (void)routeall::codecs::anthropic::EncodeMessagesRequest(req, "m").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)routeall::codecs::openai::EncodeChatRequest(req, "m").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  std::string text = Encode(req);
  ChatRequest again;
  if (!Decode(req, text, &again)) std::abort();
  fuzz::CheckSameContent(Content(req), Content(again), body, text);
  ChatRequest req_rest = req, again_rest = again;
  req_rest.clear_messages();
  again_rest.clear_messages();
  // A function calling mode means nothing without function declarations, and Gemini rejects
  // a toolConfig without them, so the encoding leaves it out.
  if (req_rest.tools_size() == 0) req_rest.clear_tool_choice();
  fuzz::CheckSameRequest(req_rest, again_rest, body, text);

  std::string text2 = Encode(again);
  ChatRequest third;
  if (!Decode(again, text2, &third)) std::abort();
  fuzz::CheckSameRequest(again, third, text, text2);
  return 0;
}
