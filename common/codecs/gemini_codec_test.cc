// Gemini codec: validation names the field Google's way, mappings round-trip both ways,
// usage keeps its meaning (candidates exclude thoughts), function call ids stay paired.
#include "common/codecs/gemini_codec.h"

#include "common/codecs/validation_case_test_util.h"

#include <functional>
#include <sstream>

#include <gtest/gtest.h>

#include "common/codecs/anthropic_codec.h"
#include "common/codecs/openai_codec.h"

namespace routeall::codecs::gemini {
namespace {

using nlohmann::json;
namespace v1 = ::routeall::llm::v1;

std::optional<ApiError> Decode(const json& body, v1::ChatRequest* out, bool stream = false) {
  return DecodeGenerateContentRequest("gemini-2.5-pro", body.dump(), stream, out);
}

json Minimal() { return {{"contents", {{{"role", "user"}, {"parts", {{{"text", "hi"}}}}}}}}; }

std::vector<json> ParseSse(const std::string& text) {
  std::vector<json> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\r\n\r\n", pos);
    EXPECT_NE(end, std::string::npos) << "event not framed with CRLF CRLF";
    if (end == std::string::npos) break;
    std::string ev = text.substr(pos, end - pos);
    EXPECT_EQ(ev.rfind("data: ", 0), 0u);
    out.push_back(json::parse(ev.substr(6)));
    pos = end + 4;
  }
  return out;
}

TEST(GeminiCodecTest, DecodesAFullRequest) {
  json body = {
      {"system_instruction", {{"parts", {{{"text", "be brief"}}}}}},
      {"contents",
       {{{"role", "user"},
         {"parts", {{{"text", "weather in Paris and Rome?"}},
                    {{"inlineData", {{"mimeType", "image/png"}, {"data", "iVBOR"}}}},
                    {{"file_data", {{"mime_type", "image/jpeg"}, {"file_uri", "https://x/y.jpg"}}}}}}},
        {{"role", "model"},
         {"parts", {{{"text", "planning"}, {"thought", true}},
                    {{"text", "Let me check."}},
                    {{"functionCall", {{"name", "weather"}, {"args", {{"city", "Paris"}}}}}, {"thoughtSignature", "SIG"}},
                    {{"functionCall", {{"name", "weather"}, {"args", {{"city", "Rome"}}}}}}}}},
        {{"parts", {{{"functionResponse", {{"name", "weather"}, {"response", {{"temp", 20}}}}}},
                    {{"functionResponse", {{"name", "weather"}, {"response", {{"temp", 25}}}}}}}}},
        {{"role", "model"}, {"parts", {{{"text", "Paris 20, Rome 25."}}}}}}},
      {"generationConfig",
       {{"temperature", 1.5}, {"topP", 0.9}, {"topK", 40}, {"maxOutputTokens", 512}, {"stopSequences", {"END"}},
        {"candidateCount", 2}, {"seed", 7}, {"responseMimeType", "application/json"},
        {"responseSchema", {{"type", "OBJECT"}, {"properties", {{"a", {{"type", "STRING"}}}}}}},
        {"thinkingConfig", {{"thinkingBudget", 2048}, {"includeThoughts", true}}}, {"presencePenalty", 0.1}}},
      {"tools", {{{"functionDeclarations", {{{"name", "weather"}, {"description", "w"},
                                             {"parameters", {{"type", "OBJECT"}, {"properties", {{"city", {{"type", "STRING"}}}}}}}}}}},
                 {{"googleSearch", json::object()}}}},
      {"toolConfig", {{"functionCallingConfig", {{"mode", "ANY"}, {"allowedFunctionNames", {"weather"}}}}}},
      {"safetySettings", {{{"category", "HARM_CATEGORY_HARASSMENT"}, {"threshold", "BLOCK_NONE"}}}}};
  v1::ChatRequest req;
  auto err = Decode(body, &req, true);
  ASSERT_FALSE(err.has_value()) << err->message;
  EXPECT_EQ(req.model(), "gemini-2.5-pro");
  EXPECT_EQ(req.source_dialect(), v1::DIALECT_GEMINI);
  EXPECT_TRUE(req.stream());
  ASSERT_EQ(req.messages_size(), 6);
  EXPECT_EQ(req.messages(0).role(), v1::ROLE_SYSTEM);
  EXPECT_EQ(req.messages(0).parts(0).text(), "be brief");
  const auto& user = req.messages(1);
  ASSERT_EQ(user.parts_size(), 3);
  EXPECT_EQ(user.parts(1).image().data_base64(), "iVBOR");
  EXPECT_EQ(user.parts(2).image().url(), "https://x/y.jpg");
  EXPECT_EQ(user.parts(2).image().mime_type(), "image/jpeg");
  const auto& model = req.messages(2);
  EXPECT_EQ(model.role(), v1::ROLE_ASSISTANT);
  ASSERT_EQ(model.parts_size(), 3);
  EXPECT_EQ(model.parts(0).thinking().text(), "planning");
  EXPECT_EQ(model.parts(1).text(), "Let me check.");
  EXPECT_EQ(model.parts(2).thinking().signature(), "SIG");  // kept where Gemini put it
  ASSERT_EQ(model.tool_calls_size(), 2);
  EXPECT_EQ(model.tool_calls(0).id(), "call_0");
  EXPECT_EQ(model.tool_calls(1).id(), "call_1");
  EXPECT_EQ(json::parse(model.tool_calls(1).arguments_json()), json({{"city", "Rome"}}));
  // Responses without ids pair with the calls in order; a missing role is user.
  EXPECT_EQ(req.messages(3).role(), v1::ROLE_TOOL);
  EXPECT_EQ(req.messages(3).tool_call_id(), "call_0");
  EXPECT_EQ(req.messages(3).name(), "weather");
  EXPECT_EQ(json::parse(req.messages(3).parts(0).text()), json({{"temp", 20}}));
  EXPECT_EQ(req.messages(4).tool_call_id(), "call_1");
  EXPECT_EQ(req.messages(5).role(), v1::ROLE_ASSISTANT);
  EXPECT_DOUBLE_EQ(req.temperature(), 1.5);
  EXPECT_DOUBLE_EQ(req.top_p(), 0.9);
  EXPECT_EQ(req.max_tokens(), 512);
  EXPECT_EQ(req.stop(0), "END");
  EXPECT_EQ(req.n(), 2);
  EXPECT_EQ(req.seed(), 7);
  EXPECT_EQ(req.thinking_budget_tokens(), 2048);
  json rf = json::parse(req.response_format_json());
  EXPECT_EQ(rf["type"], "json_schema");
  EXPECT_EQ(rf["json_schema"]["schema"]["properties"]["a"]["type"], "string");
  ASSERT_EQ(req.tools_size(), 1);
  EXPECT_EQ(json::parse(req.tools(0).parameters_json())["type"], "object");
  EXPECT_EQ(req.tool_choice().function_name(), "weather");
  json extra = json::parse(req.passthrough_json());
  EXPECT_EQ(extra["generationConfig"]["topK"], 40);
  EXPECT_EQ(extra["generationConfig"]["presencePenalty"], 0.1);
  EXPECT_EQ(extra["generationConfig"]["thinkingConfig"], json({{"includeThoughts", true}}));
  EXPECT_EQ(extra["tools"], json::array({{{"googleSearch", json::object()}}}));
  EXPECT_TRUE(extra.contains("safetySettings"));
  EXPECT_FALSE(extra.contains("contents"));

  // Back to a Gemini upstream: native fields return, in their native form.
  json up = EncodeGenerateContentRequest(req);
  EXPECT_EQ(up["systemInstruction"], json({{"parts", {{{"text", "be brief"}}}}}));
  EXPECT_EQ(up["generationConfig"]["topK"], 40);
  EXPECT_EQ(up["generationConfig"]["responseSchema"]["type"], "OBJECT");
  EXPECT_FALSE(up["generationConfig"].contains("responseJsonSchema"));
  EXPECT_EQ(up["generationConfig"]["thinkingConfig"], json({{"includeThoughts", true}, {"thinkingBudget", 2048}}));
  EXPECT_EQ(up["tools"][1], json({{"googleSearch", json::object()}}));
  EXPECT_EQ(up["safetySettings"][0]["threshold"], "BLOCK_NONE");
  const json& mparts = up["contents"][1]["parts"];
  ASSERT_EQ(mparts.size(), 3u);  // unsigned thought text is not replayed
  EXPECT_EQ(mparts[0], json({{"text", "Let me check."}}));
  EXPECT_EQ(mparts[1]["thoughtSignature"], "SIG");
  EXPECT_EQ(mparts[1]["functionCall"], json({{"name", "weather"}, {"args", {{"city", "Paris"}}}}));
  EXPECT_FALSE(mparts[2].contains("thoughtSignature"));
  const json& rparts = up["contents"][2]["parts"];
  ASSERT_EQ(rparts.size(), 2u);
  EXPECT_EQ(rparts[1]["functionResponse"], json({{"name", "weather"}, {"response", {{"temp", 25}}}}));
}

using BadCase = ::routeall::codecs::ValidationCase;

class GeminiValidationTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(GeminiValidationTest, Returns400NamingTheField) {
  json body = Minimal();
  GetParam().mutate(body);
  v1::ChatRequest req;
  auto err = Decode(body, &req);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->http_status, 400);
  EXPECT_EQ(err->type, "invalid_request_error");
  EXPECT_EQ(err->param, GetParam().param);
  EXPECT_NE(err->message.find("at '" + std::string(GetParam().param) + "'"), std::string::npos) << err->message;
  EXPECT_EQ(EncodeError(*err)["error"]["status"], "INVALID_ARGUMENT");
}

json Part(json p) { return json::array({{{"role", "user"}, {"parts", json::array({std::move(p)})}}}); }

INSTANTIATE_TEST_SUITE_P(
    Fields, GeminiValidationTest,
    ::testing::Values(
        BadCase{"TemperatureTooHigh", [](json& b) { b["generationConfig"] = {{"temperature", 2.5}}; }, "generation_config.temperature"},
        BadCase{"TemperatureString", [](json& b) { b["generation_config"] = {{"temperature", "hot"}}; }, "generation_config.temperature"},
        BadCase{"TopPAboveOne", [](json& b) { b["generationConfig"] = {{"topP", 1.5}}; }, "generation_config.top_p"},
        BadCase{"TopKNegative", [](json& b) { b["generationConfig"] = {{"topK", -1}}; }, "generation_config.top_k"},
        BadCase{"MaxOutputTokensZero", [](json& b) { b["generationConfig"] = {{"maxOutputTokens", 0}}; }, "generation_config.max_output_tokens"},
        BadCase{"CandidateCountNine", [](json& b) { b["generationConfig"] = {{"candidateCount", 9}}; }, "generation_config.candidate_count"},
        BadCase{"TooManyStops", [](json& b) { b["generationConfig"] = {{"stopSequences", {"a", "b", "c", "d", "e", "f"}}}; }, "generation_config.stop_sequences"},
        BadCase{"StopNotString", [](json& b) { b["generationConfig"] = {{"stopSequences", {1}}}; }, "generation_config.stop_sequences[0]"},
        BadCase{"SchemaWithoutJsonMime", [](json& b) { b["generationConfig"] = {{"responseSchema", {{"type", "OBJECT"}}}}; }, "generation_config.response_mime_type"},
        BadCase{"ThinkingBudgetTooLow", [](json& b) { b["generationConfig"] = {{"thinkingConfig", {{"thinkingBudget", -5}}}}; }, "generation_config.thinking_config.thinking_budget"},
        BadCase{"NoContents", [](json& b) { b.erase("contents"); }, "contents"},
        BadCase{"EmptyContents", [](json& b) { b["contents"] = json::array(); }, "contents"},
        BadCase{"BadRole", [](json& b) { b["contents"][0]["role"] = "assistant"; }, "contents[0].role"},
        BadCase{"NoParts", [](json& b) { b["contents"][0].erase("parts"); }, "contents[0].parts"},
        BadCase{"EmptyParts", [](json& b) { b["contents"][0]["parts"] = json::array(); }, "contents[0].parts"},
        BadCase{"UnknownPart", [](json& b) { b["contents"] = Part({{"videoMetadata", json::object()}}); }, "contents[0].parts[0]"},
        BadCase{"InlineDataWithoutMime", [](json& b) { b["contents"] = Part({{"inlineData", {{"data", "x"}}}}); }, "contents[0].parts[0].inline_data.mime_type"},
        BadCase{"FileDataWithoutUri", [](json& b) { b["contents"] = Part({{"fileData", {{"mimeType", "image/png"}}}}); }, "contents[0].parts[0].file_data.file_uri"},
        BadCase{"FunctionCallFromUser", [](json& b) { b["contents"] = Part({{"functionCall", {{"name", "f"}}}}); }, "contents[0].parts[0].function_call"},
        BadCase{"FunctionResponseWithoutName", [](json& b) { b["contents"] = Part({{"functionResponse", {{"response", json::object()}}}}); }, "contents[0].parts[0].function_response.name"},
        BadCase{"SystemInstructionImage", [](json& b) { b["systemInstruction"] = {{"parts", {{{"inlineData", json::object()}}}}}; }, "system_instruction.parts[0]"},
        BadCase{"DeclarationWithoutName", [](json& b) { b["tools"] = {{{"functionDeclarations", {{{"description", "x"}}}}}}; }, "tools[0].function_declarations[0].name"},
        BadCase{"ParametersNotObject", [](json& b) { b["tools"] = {{{"functionDeclarations", {{{"name", "f"}, {"parameters", 3}}}}}}; }, "tools[0].function_declarations[0].parameters"},
        BadCase{"BadMode", [](json& b) { b["toolConfig"] = {{"functionCallingConfig", {{"mode", "SOMETIMES"}}}}; }, "tool_config.function_calling_config.mode"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(GeminiCodecTest, ModelComesFromThePath) {
  v1::ChatRequest req;
  ASSERT_FALSE(DecodeGenerateContentRequest("models/gemini-2.0-flash", Minimal().dump(), false, &req).has_value());
  EXPECT_EQ(req.model(), "gemini-2.0-flash");
  v1::ChatRequest none;
  auto err = DecodeGenerateContentRequest("", Minimal().dump(), false, &none);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->param, "model");
  v1::ChatRequest bad;
  auto jerr = DecodeGenerateContentRequest("m", "{", false, &bad);
  ASSERT_TRUE(jerr.has_value());
  EXPECT_EQ(jerr->code, "invalid_json");
}

TEST(GeminiCodecTest, FunctionResponsesPairWithTheLatestTurnsCalls) {
  json call = {{"functionCall", {{"name", "f"}}}};
  json resp = {{"functionResponse", {{"name", "f"}, {"response", {{"ok", 1}}}}}};
  json body = {{"contents",
                {{{"role", "user"}, {"parts", {{{"text", "go"}}}}},
                 {{"role", "model"}, {"parts", {call}}},                     // call_0, never answered
                 {{"role", "model"}, {"parts", {call, call}}},               // call_1, call_2
                 {{"role", "user"}, {"parts", {resp, resp}}},
                 {{"role", "model"}, {"parts", {{{"functionCall", {{"name", "g"}, {"id", "own"}}}}}}},
                 {{"role", "user"}, {"parts", {{{"functionResponse", {{"name", "g"}, {"id", "own"}, {"response", "x"}}}}}}}}}};
  v1::ChatRequest req;
  auto err = Decode(body, &req);
  ASSERT_FALSE(err.has_value()) << err->message;
  std::vector<std::string> answered;
  for (const auto& m : req.messages()) {
    if (m.role() == v1::ROLE_TOOL) answered.push_back(m.tool_call_id());
  }
  EXPECT_EQ(answered, (std::vector<std::string>{"call_1", "call_2", "own"}));
}

TEST(GeminiCodecTest, UsageCandidatesExcludeThoughts) {
  const char* upstream = R"({"candidates":[{"content":{"role":"model","parts":[{"text":"hey"}]},"finishReason":"STOP","index":0}],
    "usageMetadata":{"promptTokenCount":972,"cachedContentTokenCount":896,"candidatesTokenCount":30,"thoughtsTokenCount":10,"totalTokenCount":1012},
    "modelVersion":"gemini-2.5-pro","responseId":"r1"})";
  v1::ChatResponse res;
  ASSERT_FALSE(DecodeGenerateContentResponse(upstream, &res).has_value());
  EXPECT_EQ(res.usage().prompt_tokens(), 972);
  EXPECT_EQ(res.usage().cached_tokens(), 896);
  EXPECT_EQ(res.usage().completion_tokens(), 40);
  EXPECT_EQ(res.usage().reasoning_tokens(), 10);
  EXPECT_EQ(res.usage().source(), v1::USAGE_SOURCE_UPSTREAM);
  EXPECT_EQ(res.choices(0).finish_reason(), v1::FINISH_REASON_STOP);
  json back = EncodeGenerateContentResponse(res)["usageMetadata"];
  EXPECT_EQ(back, json({{"promptTokenCount", 972}, {"cachedContentTokenCount", 896}, {"candidatesTokenCount", 30},
                        {"thoughtsTokenCount", 10}, {"totalTokenCount", 1012}}));
  // Anthropic's view of the same usage: input excludes the cache.
  EXPECT_EQ(anthropic::EncodeUsage(res.usage())["input_tokens"], 76);
  v1::Usage plain;
  plain.set_prompt_tokens(5);
  plain.set_completion_tokens(3);
  json pj = EncodeUsage(plain);
  EXPECT_FALSE(pj.contains("cachedContentTokenCount"));
  EXPECT_FALSE(pj.contains("thoughtsTokenCount"));
  v1::Usage tool_use;
  DecodeUsage(json{{"promptTokenCount", 10}, {"toolUsePromptTokenCount", 4}, {"candidatesTokenCount", 1}}, &tool_use);
  EXPECT_EQ(tool_use.prompt_tokens(), 14);
}

TEST(GeminiCodecTest, ResponseFunctionCallsAndFinishReasons) {
  const char* upstream = R"({"candidates":[{"content":{"role":"model","parts":[
      {"text":"thinking...","thought":true},{"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"S1"}]},
    "finishReason":"STOP","index":0}],"responseId":"r9","modelVersion":"gemini-2.5-flash"})";
  v1::ChatResponse res;
  ASSERT_FALSE(DecodeGenerateContentResponse(upstream, &res).has_value());
  EXPECT_EQ(res.id(), "r9");
  EXPECT_EQ(res.model(), "gemini-2.5-flash");
  const auto& c = res.choices(0);
  EXPECT_EQ(c.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  ASSERT_EQ(c.message().tool_calls_size(), 1);
  EXPECT_EQ(c.message().tool_calls(0).id(), "call_r9_0");
  EXPECT_EQ(json::parse(c.message().tool_calls(0).arguments_json()), json({{"a", 1}}));
  EXPECT_EQ(c.message().parts(0).thinking().text(), "thinking...");
  // Through OpenAI, the call and reason read as OpenAI's.
  json oa = openai::EncodeChatResponse(res);
  EXPECT_EQ(oa["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(oa["choices"][0]["message"]["tool_calls"][0]["id"], "call_r9_0");
  // Back to a Gemini client: a whole functionCall with its signature, finish STOP.
  json g = EncodeGenerateContentResponse(res);
  const json& parts = g["candidates"][0]["content"]["parts"];
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], json({{"text", "thinking..."}, {"thought", true}}));
  EXPECT_EQ(parts[1]["functionCall"]["args"], json({{"a", 1}}));
  EXPECT_EQ(parts[1]["thoughtSignature"], "S1");
  EXPECT_EQ(g["candidates"][0]["finishReason"], "STOP");
  EXPECT_EQ(g["responseId"], "r9");

  auto reason = [](const char* fr) {
    v1::ChatResponse r;
    std::string body = std::string(R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":")") + fr + "\"}]}";
    EXPECT_FALSE(DecodeGenerateContentResponse(body, &r).has_value());
    return r.choices(0).finish_reason();
  };
  EXPECT_EQ(reason("MAX_TOKENS"), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(reason("SAFETY"), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(reason("RECITATION"), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(reason("BLOCKLIST"), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(reason("PROHIBITED_CONTENT"), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(reason("MALFORMED_FUNCTION_CALL"), v1::FINISH_REASON_ERROR);
  EXPECT_EQ(FinishReasonName(v1::FINISH_REASON_CONTENT_FILTER), "SAFETY");
  EXPECT_EQ(FinishReasonName(v1::FINISH_REASON_LENGTH), "MAX_TOKENS");
  EXPECT_EQ(FinishReasonName(v1::FINISH_REASON_TOOL_CALLS), "STOP");

  v1::ChatResponse blocked;
  ASSERT_FALSE(DecodeGenerateContentResponse(R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":3}})", &blocked).has_value());
  EXPECT_EQ(blocked.choices(0).finish_reason(), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(blocked.usage().prompt_tokens(), 3);
}

TEST(GeminiCodecTest, ErrorBodiesAndEnvelope) {
  v1::ChatResponse res;
  auto err = DecodeGenerateContentResponse(R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})", &res);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->http_status, 429);
  EXPECT_EQ(err->code, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(err->message, "quota");
  EXPECT_TRUE(DecodeGenerateContentResponse("[]", &res).has_value());
  auto status = [](int s) { return EncodeError(ApiError{s, "x", "m", "", ""})["error"]["status"].get<std::string>(); };
  EXPECT_EQ(status(400), "INVALID_ARGUMENT");
  EXPECT_EQ(status(401), "UNAUTHENTICATED");
  EXPECT_EQ(status(402), "PERMISSION_DENIED");
  EXPECT_EQ(status(403), "PERMISSION_DENIED");
  EXPECT_EQ(status(404), "NOT_FOUND");
  EXPECT_EQ(status(429), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(status(500), "INTERNAL");
  EXPECT_EQ(status(503), "UNAVAILABLE");
  EXPECT_EQ(status(504), "DEADLINE_EXCEEDED");
  EXPECT_EQ(EncodeError(ApiError{404, "x", "no model", "", ""}), json({{"error", {{"code", 404}, {"message", "no model"}, {"status", "NOT_FOUND"}}}}));
}

TEST(GeminiCodecTest, UpstreamRequestFromOpenAIClient) {
  json body = {
      {"model", "gpt-4o"},
      {"messages",
       {{{"role", "system"}, {"content", "be brief"}},
        {{"role", "user"},
         {"content", {{{"type", "text"}, {"text", "look"}},
                      {{"type", "image_url"}, {"image_url", {{"url", "data:image/jpeg;base64,AAAA"}}}},
                      {{"type", "image_url"}, {"image_url", {{"url", "https://x/y.png?sig=1"}}}}}}},
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls",
          {{{"id", "call_a"}, {"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{\"x\":1}"}}}},
           {{"id", "call_b"}, {"type", "function"}, {"function", {{"name", "g"}, {"arguments", "{}"}}}}}}},
        {{"role", "tool"}, {"tool_call_id", "call_a"}, {"content", "{\"temp\":20}"}},
        {{"role", "tool"}, {"tool_call_id", "call_b"}, {"content", "plain text"}},
        {{"role", "user"}, {"content", "so?"}}}},
      {"temperature", 1.7}, {"top_p", 0.5}, {"max_tokens", 99}, {"stop", "END"}, {"n", 2}, {"seed", 3},
      {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "r"}, {"schema", {{"type", "object"}, {"additionalProperties", false}}}}}}},
      {"reasoning_effort", "low"},
      {"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"description", "F"}, {"parameters", {{"type", "object"}}}}}},
                 {{"type", "function"}, {"function", {{"name", "g"}}}}}},
      {"tool_choice", {{"type", "function"}, {"function", {{"name", "g"}}}}}, {"logit_bias", {{"1", 2}}}};
  v1::ChatRequest req;
  ASSERT_FALSE(openai::DecodeChatRequest(body.dump(), &req).has_value());
  json up = EncodeGenerateContentRequest(req);
  EXPECT_FALSE(up.contains("model"));
  EXPECT_FALSE(up.contains("logit_bias"));
  EXPECT_EQ(up["systemInstruction"], json({{"parts", {{{"text", "be brief"}}}}}));
  const json& c = up["contents"];
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0]["role"], "user");
  EXPECT_EQ(c[0]["parts"][1], json({{"inlineData", {{"mimeType", "image/jpeg"}, {"data", "AAAA"}}}}));
  EXPECT_EQ(c[0]["parts"][2], json({{"fileData", {{"mimeType", "image/png"}, {"fileUri", "https://x/y.png?sig=1"}}}}));
  EXPECT_EQ(c[1]["role"], "model");
  EXPECT_EQ(c[1]["parts"][0], json({{"functionCall", {{"name", "f"}, {"args", {{"x", 1}}}}}}));
  // Both tool results and the next user text form one user turn; names come from the calls.
  EXPECT_EQ(c[2]["role"], "user");
  ASSERT_EQ(c[2]["parts"].size(), 3u);
  EXPECT_EQ(c[2]["parts"][0]["functionResponse"], json({{"name", "f"}, {"response", {{"temp", 20}}}}));
  EXPECT_EQ(c[2]["parts"][1]["functionResponse"], json({{"name", "g"}, {"response", {{"result", "plain text"}}}}));
  EXPECT_EQ(c[2]["parts"][2], json({{"text", "so?"}}));
  const json& gc = up["generationConfig"];
  EXPECT_DOUBLE_EQ(gc["temperature"].get<double>(), 1.7);  // Gemini's range is OpenAI's
  EXPECT_EQ(gc["topP"], 0.5);
  EXPECT_EQ(gc["maxOutputTokens"], 99);
  EXPECT_EQ(gc["stopSequences"], json({"END"}));
  EXPECT_EQ(gc["candidateCount"], 2);
  EXPECT_EQ(gc["seed"], 3);
  EXPECT_EQ(gc["responseMimeType"], "application/json");
  EXPECT_EQ(gc["responseJsonSchema"], json({{"type", "object"}, {"additionalProperties", false}}));
  EXPECT_EQ(gc["thinkingConfig"], json({{"thinkingBudget", 1024}, {"includeThoughts", true}}));
  EXPECT_EQ(up["tools"][0]["functionDeclarations"][0],
            json({{"name", "f"}, {"description", "F"}, {"parametersJsonSchema", {{"type", "object"}}}}));
  EXPECT_EQ(up["toolConfig"], json({{"functionCallingConfig", {{"mode", "ANY"}, {"allowedFunctionNames", {"g"}}}}}));
}

TEST(GeminiCodecTest, ToolChoiceModesAndDefaults) {
  v1::ChatRequest req;
  req.set_model("m");
  req.add_messages()->set_role(v1::ROLE_SYSTEM);
  req.mutable_messages(0)->add_parts()->set_text("sys only");
  req.add_tools()->set_name("f");
  req.mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_REQUIRED);
  json up = EncodeGenerateContentRequest(req);
  EXPECT_EQ(up["toolConfig"]["functionCallingConfig"]["mode"], "ANY");
  EXPECT_EQ(up["contents"], json::array({{{"role", "user"}, {"parts", {{{"text", "."}}}}}}));  // never empty
  EXPECT_FALSE(up.contains("generationConfig"));
  EXPECT_FALSE(up["tools"][0]["functionDeclarations"][0].contains("parametersJsonSchema"));
  req.mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_NONE);
  EXPECT_EQ(EncodeGenerateContentRequest(req)["toolConfig"]["functionCallingConfig"]["mode"], "NONE");
  req.mutable_tool_choice()->set_mode(v1::TOOL_CHOICE_MODE_AUTO);
  EXPECT_EQ(EncodeGenerateContentRequest(req)["toolConfig"]["functionCallingConfig"]["mode"], "AUTO");
  // Passthrough of another dialect never reaches Gemini.
  req.set_source_dialect(v1::DIALECT_ANTHROPIC);
  req.set_passthrough_json(R"({"top_k":3,"safetySettings":[]})");
  json a = EncodeGenerateContentRequest(req);
  EXPECT_FALSE(a.contains("top_k"));
  EXPECT_FALSE(a.contains("safetySettings"));
}

TEST(GeminiCodecTest, ToolIdsRoundTripThroughAnOpenAIClient) {
  // A Gemini client's history (no ids) -> canonical -> OpenAI upstream: the synthesized
  // ids pair each response with its call.
  json body = {{"contents",
                {{{"role", "user"}, {"parts", {{{"text", "go"}}}}},
                 {{"role", "model"}, {"parts", {{{"functionCall", {{"name", "a"}, {"args", json::object()}}}},
                                                {{"functionCall", {{"name", "b"}, {"args", json::object()}}}}}}},
                 {{"role", "user"}, {"parts", {{{"functionResponse", {{"name", "b"}, {"response", {{"r", 2}}}}}},
                                               {{"functionResponse", {{"name", "a"}, {"response", {{"r", 1}}}}}}}}}}}};
  v1::ChatRequest req;
  ASSERT_FALSE(Decode(body, &req).has_value());
  json oa = openai::EncodeChatRequest(req, "gpt");
  const json& m = oa["messages"];
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[1]["tool_calls"][0]["id"], "call_0");
  EXPECT_EQ(m[1]["tool_calls"][1]["id"], "call_1");
  EXPECT_EQ(m[2]["tool_call_id"], "call_1");  // b answered first
  EXPECT_EQ(m[3]["tool_call_id"], "call_0");
  EXPECT_EQ(json::parse(m[3]["content"].get<std::string>()), json({{"r", 1}}));
  // And to Anthropic: tool_use / tool_result ids agree.
  json an = anthropic::EncodeMessagesRequest(req, "claude");
  EXPECT_EQ(an["messages"][1]["content"][1]["id"], "call_1");
  EXPECT_EQ(an["messages"][2]["content"][0]["tool_use_id"], "call_1");
}

TEST(GeminiStreamTest, DecodesDeltasAndFinalUsage) {
  StreamDecoder dec;
  std::vector<v1::ChatChunk> chunks;
  const char* events[] = {
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hmm","thought":true}]},"index":0}],"usageMetadata":{"promptTokenCount":972},"modelVersion":"gemini-2.5-pro","responseId":"R"})",
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hello "}]},"index":0}],"usageMetadata":{"promptTokenCount":972},"modelVersion":"gemini-2.5-pro","responseId":"R"})",
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"world"},{"functionCall":{"name":"f","args":{"q":1}},"thoughtSignature":"TS"}]},"finishReason":"STOP","index":0}],
          "usageMetadata":{"promptTokenCount":972,"cachedContentTokenCount":896,"candidatesTokenCount":30,"thoughtsTokenCount":10,"totalTokenCount":1012},"modelVersion":"gemini-2.5-pro","responseId":"R"})"};
  for (const char* e : events) ASSERT_FALSE(dec.Feed(e, &chunks).has_value());
  EXPECT_TRUE(dec.Done());
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].id(), "R");
  EXPECT_EQ(chunks[0].deltas(0).role(), v1::ROLE_ASSISTANT);
  EXPECT_EQ(chunks[0].deltas(0).thinking(), "Hmm");
  EXPECT_FALSE(chunks[0].has_usage());  // the prompt count alone is not the usage
  EXPECT_EQ(chunks[1].deltas(0).text(), "Hello ");
  const auto& last = chunks[2].deltas(0);
  EXPECT_EQ(last.text(), "world");
  EXPECT_EQ(last.thinking_signature(), "TS");
  ASSERT_EQ(last.tool_calls_size(), 1);
  EXPECT_EQ(last.tool_calls(0).id(), "call_R_0");
  EXPECT_EQ(last.tool_calls(0).name(), "f");
  EXPECT_EQ(json::parse(last.tool_calls(0).arguments_fragment()), json({{"q", 1}}));
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  ASSERT_TRUE(chunks[2].has_usage());
  EXPECT_EQ(chunks[2].usage().completion_tokens(), 40);
  EXPECT_EQ(chunks[2].usage().reasoning_tokens(), 10);
  EXPECT_EQ(dec.FinalUsage()->cached_tokens(), 896);

  // Re-encoded for an OpenAI client the call is one complete fragment.
  json oa = openai::EncodeChatChunk(chunks[2], false);
  EXPECT_EQ(oa["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(oa["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"], "{\"q\":1}");
  auto err = dec.Feed(R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})", &chunks);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->http_status, 503);
  EXPECT_TRUE(dec.Feed("garbage", &chunks).has_value());
}

TEST(GeminiStreamTest, EncoderHoldsToolCallsUntilComplete) {
  StreamEncoder enc("resp-1", "gemini-2.5-pro");
  v1::ChatChunk think;
  think.add_deltas()->set_thinking("hmm");
  std::string sse = enc.Chunk(think);
  v1::ChatChunk text;
  text.add_deltas()->set_text("Hi");
  sse += enc.Chunk(text);
  v1::ChatChunk start;
  auto* t = start.add_deltas()->add_tool_calls();
  t->set_index(0);
  t->set_id("call_9");
  t->set_name("f");
  t->set_arguments_fragment("{\"a\":");
  EXPECT_EQ(enc.Chunk(start), "");  // incomplete: nothing to send yet
  v1::ChatChunk rest;
  rest.add_deltas()->add_tool_calls()->set_arguments_fragment("1}");
  sse += enc.Chunk(rest);
  v1::ChatChunk open;
  auto* t2 = open.add_deltas()->add_tool_calls();
  t2->set_index(1);
  t2->set_id("call_10");
  t2->set_name("g");
  t2->set_arguments_fragment("{\"b\"");
  EXPECT_EQ(enc.Chunk(open), "");
  v1::Usage u;
  u.set_prompt_tokens(972);
  u.set_cached_tokens(896);
  u.set_completion_tokens(40);
  u.set_reasoning_tokens(10);
  sse += enc.Finish(u, v1::FINISH_REASON_TOOL_CALLS);
  auto events = ParseSse(sse);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0]["candidates"][0]["content"]["parts"][0], json({{"text", "hmm"}, {"thought", true}}));
  EXPECT_EQ(events[0]["responseId"], "resp-1");
  EXPECT_EQ(events[0]["modelVersion"], "gemini-2.5-pro");
  EXPECT_EQ(events[1]["candidates"][0]["content"]["parts"][0], json({{"text", "Hi"}}));
  EXPECT_EQ(events[2]["candidates"][0]["content"]["parts"][0]["functionCall"], json({{"name", "f"}, {"args", {{"a", 1}}}, {"id", "call_9"}}));
  const json& fin = events[3];
  EXPECT_EQ(fin["candidates"][0]["finishReason"], "STOP");
  // The incomplete call is flushed at the end (arguments unusable: empty object).
  EXPECT_EQ(fin["candidates"][0]["content"]["parts"][0]["functionCall"]["name"], "g");
  EXPECT_EQ(fin["usageMetadata"], json({{"promptTokenCount", 972}, {"cachedContentTokenCount", 896}, {"candidatesTokenCount", 30},
                                        {"thoughtsTokenCount", 10}, {"totalTokenCount", 1012}}));
  EXPECT_EQ(enc.Finish(u), "");
}

TEST(GeminiStreamTest, EncoderFinishAloneAndErrors) {
  StreamEncoder enc("r", "m");
  v1::ChatChunk c;
  c.add_deltas()->set_finish_reason(v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(enc.Chunk(c), "");
  auto events = ParseSse(enc.Finish(v1::Usage()));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["candidates"][0]["finishReason"], "MAX_TOKENS");
  EXPECT_EQ(events[0]["candidates"][0]["content"]["parts"], json::array({{{"text", ""}}}));
  StreamEncoder e2("r", "m");
  EXPECT_EQ(e2.Error(ApiError{429, "x", "slow down", "", ""}),
            "data: {\"error\":{\"code\":429,\"message\":\"slow down\",\"status\":\"RESOURCE_EXHAUSTED\"}}\r\n\r\n");
}

TEST(GeminiStreamTest, AnthropicStreamReachesAGeminiClient) {
  // Canonical chunks as the Anthropic decoder makes them: the signature arrives alone
  // after the thinking and is put on the next part sent.
  StreamEncoder enc("r", "m");
  v1::ChatChunk th;
  th.add_deltas()->set_thinking("plan");
  v1::ChatChunk sig;
  sig.add_deltas()->set_thinking_signature("ANTH");
  v1::ChatChunk text;
  text.add_deltas()->set_text("answer");
  std::string sse = enc.Chunk(th);
  EXPECT_EQ(enc.Chunk(sig), "");
  sse += enc.Chunk(text);
  auto events = ParseSse(sse);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["candidates"][0]["content"]["parts"][0], json({{"text", "answer"}, {"thoughtSignature", "ANTH"}}));
}

// Found by the round-trip fuzzer: a model turn whose only part is a signed thought with no
// text lost its signature when re-encoded.
TEST(GeminiCodecTest, SignatureOnlyThoughtSurvivesARoundTrip) {
  v1::ChatRequest req;
  ASSERT_FALSE(DecodeGenerateContentRequest(
      "m",
      R"({"contents":[{"role":"user","parts":[{"text":"hi"}]},
                      {"role":"model","parts":[{"text":"","thought":true,"thoughtSignature":"SIG"}]},
                      {"role":"user","parts":[{"text":"again"}]}]})",
      false, &req));
  json out = EncodeGenerateContentRequest(req);
  ASSERT_EQ(out["contents"].size(), 3u);
  EXPECT_EQ(out["contents"][1]["parts"][0]["thoughtSignature"], "SIG");
}

}  // namespace
}  // namespace routeall::codecs::gemini
