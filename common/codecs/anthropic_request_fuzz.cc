// libFuzzer target: any bytes as an Anthropic Messages request must decode or fail with a
// 400, and whatever decodes must encode for Gemini and OpenAI upstreams without crashing,
// and encode for an Anthropic upstream to a body that decodes again to the same canonical
// request: every field but the messages compared exactly, the conversation compared as
// content (ContentItems) because the encoding puts it in Anthropic's normal form, and that
// normal form must be a fixed point (a second round trip changes nothing at all).
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
namespace anthropic = routeall::codecs::anthropic;
namespace fuzz = routeall::codecs::fuzz;

std::string Encode(const ChatRequest& req) {
  return anthropic::EncodeMessagesRequest(req, req.model()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The conversation without what Anthropic's normal form adds or joins: the "." user turn put
// first when the conversation does not start with the user, and system text, sent as one
// string joined by blank lines unless cache breakpoints need blocks.
std::vector<std::string> Content(ChatRequest req) {
  std::string system;
  int system_parts = 0;
  for (const auto& m : req.messages()) {
    if (m.role() != routeall::llm::v1::ROLE_SYSTEM && m.role() != routeall::llm::v1::ROLE_DEVELOPER) continue;
    for (const auto& p : m.parts()) {
      if (p.text().empty()) continue;
      system += (system.empty() ? "" : "\n\n") + p.text();
      ++system_parts;
    }
  }
  auto* msgs = req.mutable_messages();
  for (int i = msgs->size() - 1; i >= 0; --i) {
    const auto& m = msgs->Get(i);
    bool is_system = m.role() == routeall::llm::v1::ROLE_SYSTEM || m.role() == routeall::llm::v1::ROLE_DEVELOPER;
    bool placeholder = m.role() == routeall::llm::v1::ROLE_USER && m.parts_size() == 1 && m.parts(0).text() == "." &&
                       m.tool_calls_size() == 0;
    if (is_system || placeholder) msgs->DeleteSubrange(i, 1);
  }
  std::vector<std::string> items = fuzz::ContentItems(req);
  if (system_parts > 0) items.push_back("system " + system);
  std::sort(items.begin(), items.end());
  return items;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ChatRequest req;
  auto err = anthropic::DecodeMessagesRequest(body, &req);
  if (err) {
    if (err->http_status != 400 || err->message.empty()) std::abort();
    return 0;
  }
  (void)routeall::codecs::gemini::EncodeGenerateContentRequest(req).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)routeall::codecs::openai::EncodeChatRequest(req, "m").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  std::string text = Encode(req);
  ChatRequest again;
  if (anthropic::DecodeMessagesRequest(text, &again)) std::abort();
  fuzz::CheckSameContent(Content(req), Content(again), body, text);
  ChatRequest req_rest = req, again_rest = again;
  req_rest.clear_messages();
  again_rest.clear_messages();
  // Cache breakpoints are keyed by canonical position ("m3.p1"), which the normal form moves.
  req_rest.clear_passthrough_json();
  again_rest.clear_passthrough_json();
  // tool_choice (which carries disable_parallel_tool_use) goes out only with tools, as
  // Anthropic rejects it alone; server tools live in the passthrough, so without canonical
  // tools neither side's choice is compared. With "none" no tool runs, parallel or not.
  if (req_rest.tools_size() == 0) {
    for (ChatRequest* r : {&req_rest, &again_rest}) {
      r->clear_tool_choice();
      r->clear_parallel_tool_calls();
    }
  }
  if (req_rest.tool_choice().mode() == routeall::llm::v1::TOOL_CHOICE_MODE_NONE) {
    for (ChatRequest* r : {&req_rest, &again_rest}) r->clear_parallel_tool_calls();
  }
  fuzz::CheckSameRequest(req_rest, again_rest, body, text);

  std::string text2 = Encode(again);
  ChatRequest third;
  if (anthropic::DecodeMessagesRequest(text2, &third)) std::abort();
  fuzz::CheckSameRequest(again, third, text, text2);
  return 0;
}
