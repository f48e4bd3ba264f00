// libFuzzer target: arbitrary upstream stream events. The input is split into events at
// blank lines; each event is "<event name>\n<data>". Every event goes to the Anthropic and
// Gemini stream decoders and the OpenAI chunk decoder, and the chunks they produce go to
// every public stream encoder, which must never crash whatever order chunks come in.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/codecs/anthropic_codec.h"
#include "common/codecs/gemini_codec.h"
#include "common/codecs/openai_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace v1 = routeall::llm::v1;
  namespace codecs = routeall::codecs;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  codecs::anthropic::StreamDecoder adec;
  codecs::gemini::StreamDecoder gdec;
  codecs::anthropic::StreamEncoder aenc("msg_f", "m");
  codecs::gemini::StreamEncoder genc("r", "m");
  std::vector<v1::ChatChunk> chunks;
  size_t pos = 0;
  while (pos <= in.size()) {
    size_t end = in.find("\n\n", pos);
    if (end == std::string_view::npos) end = in.size();
    std::string_view ev = in.substr(pos, end - pos);
    size_t nl = ev.find('\n');
    std::string_view name = nl == std::string_view::npos ? std::string_view() : ev.substr(0, nl);
    std::string_view payload = nl == std::string_view::npos ? ev : ev.substr(nl + 1);
    (void)adec.Feed(name, payload, &chunks);
    (void)gdec.Feed(payload, &chunks);
    v1::ChatChunk oc;
    if (!codecs::openai::DecodeChatChunk(payload, &oc)) chunks.push_back(oc);
    pos = end + 2;
  }
  std::string out;
  for (const auto& c : chunks) {
    out += aenc.Chunk(c);
    out += genc.Chunk(c);
    (void)codecs::openai::EncodeChatChunk(c, true).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  v1::Usage u;
  if (auto fu = adec.FinalUsage()) u = *fu;
  out += aenc.Finish(u);
  out += genc.Finish(gdec.FinalUsage().value_or(v1::Usage()));
  (void)adec.Done();
  (void)gdec.Done();
  return out.empty() ? 0 : 0;
}
