// Tests for SseParser: WHATWG line/field rules and independence from how the bytes are split.
#include "common/http/sse_parser.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routeall::http {

// In routeall::http (not the anonymous namespace) so gtest and std::equal find them by ADL.
using Event = SseParser::Event;
bool operator==(const Event& a, const Event& b) {
  return a.event == b.event && a.data == b.data && a.id == b.id;
}

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{event=" << e.event << " data=" << e.data << " id=" << e.id << "}";
}

namespace {

struct Result {
  std::vector<Event> events;
  absl::Status status;
};

Result FeedPieces(const std::vector<std::string>& pieces, size_t max_line = SseParser::kDefaultMaxLine) {
  SseParser parser(max_line);
  Result r;
  for (const auto& p : pieces) {
    r.status = parser.Feed(p, [&](Event&& e) { r.events.push_back(std::move(e)); });
    if (!r.status.ok()) break;
  }
  return r;
}

std::vector<Event> Parse(const std::string& s) {
  Result r = FeedPieces({s});
  EXPECT_TRUE(r.status.ok()) << r.status;
  return r.events;
}

// Every 2-way split and the byte-by-byte feed must give exactly the single-feed result.
void ExpectSplitInvariant(const std::string& stream, const std::vector<Event>& want) {
  ASSERT_EQ(Parse(stream), want);
  for (size_t i = 0; i <= stream.size(); ++i) {
    Result r = FeedPieces({stream.substr(0, i), stream.substr(i)});
    ASSERT_TRUE(r.status.ok());
    ASSERT_EQ(r.events, want) << "split at " << i;
  }
  for (size_t i = 0; i + 1 < stream.size(); i += 7) {  // three-way splits, sampled
    for (size_t j = i; j <= stream.size(); j += 3) {
      Result r = FeedPieces({stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)});
      ASSERT_EQ(r.events, want) << "split at " << i << "," << j;
    }
  }
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  ASSERT_EQ(FeedPieces(bytes).events, want);
}

TEST(SseParserTest, LineEndingsAllEquivalent) {
  std::vector<Event> want = {{"message", "a", ""}, {"x", "b\nc", ""}};
  for (const char* eol : {"\n", "\r\n", "\r"}) {
    std::string e = eol;
    std::string s = "data: a" + e + e + "event: x" + e + "data: b" + e + "data: c" + e + e;
    ExpectSplitInvariant(s, want);
  }
  ExpectSplitInvariant("data: a\r\n\ndata: b\rdata: c\n\r\r\nevent:x\r\n", {{"message", "a", ""}, {"message", "b\nc", ""}});
}

TEST(SseParserTest, CrAtEndOfFeedThenLf) {
  SseParser parser;
  std::vector<Event> got;
  auto sink = [&](Event&& e) { got.push_back(std::move(e)); };
  ASSERT_TRUE(parser.Feed("data: a\r", sink).ok());
  ASSERT_TRUE(parser.Feed("\n\r", sink).ok());  // the '\n' completes "\r\n"; the '\r' is the blank line
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, "a");
  ASSERT_TRUE(parser.Feed("\ndata: b\n\n", sink).ok());  // this '\n' belongs to the previous '\r'
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].data, "b");
}

TEST(SseParserTest, FieldRules) {
  EXPECT_EQ(Parse(": comment\ndata:x\n\n"), (std::vector<Event>{{"message", "x", ""}}));
  EXPECT_EQ(Parse("data:  two spaces\n\n"), (std::vector<Event>{{"message", " two spaces", ""}}));
  EXPECT_EQ(Parse("data\n\n"), (std::vector<Event>{{"message", "", ""}}));       // field without colon
  EXPECT_EQ(Parse("data\ndata\n\n"), (std::vector<Event>{{"message", "\n", ""}}));
  EXPECT_EQ(Parse("data: a:b: c\n\n"), (std::vector<Event>{{"message", "a:b: c", ""}}));
  EXPECT_EQ(Parse("event: ping\n\ndata: x\n\n"), (std::vector<Event>{{"message", "x", ""}}));  // type resets
  EXPECT_EQ(Parse("event\ndata: x\n\n"), (std::vector<Event>{{"message", "x", ""}}));
  EXPECT_EQ(Parse("retry: 10\nfoo: bar\nDATA: no\ndata: y\n\n"), (std::vector<Event>{{"message", "y", ""}}));
  EXPECT_TRUE(Parse("event: e\nid: 1\n\n: only comment\n\n\n").empty());  // no data lines: not dispatched
  EXPECT_TRUE(Parse("data: pending at end").empty());
  EXPECT_TRUE(Parse("data: pending at end\n").empty());
}

TEST(SseParserTest, IdPersistsAndNulIdIgnored) {
  std::string s = "id: 1\ndata: a\n\ndata: b\n\nid: x" + std::string(1, '\0') + "y\ndata: c\n\nid\ndata: d\n\n";
  EXPECT_EQ(Parse(s), (std::vector<Event>{{"message", "a", "1"}, {"message", "b", "1"}, {"message", "c", "1"},
                                          {"message", "d", ""}}));
}

TEST(SseParserTest, LeadingBomStrippedOnlyOnce) {
  std::string bom = "\xEF\xBB\xBF";
  ExpectSplitInvariant(bom + "data: a\n\n" + bom + "data: b\n\n", {{"message", "a", ""}});
}

TEST(SseParserTest, MaxLineLengthIsAnErrorAndSticky) {
  SseParser parser(16);
  std::vector<Event> got;
  auto sink = [&](Event&& e) { got.push_back(std::move(e)); };
  ASSERT_TRUE(parser.Feed("data: 0123456789\n\n", sink).ok());  // exactly 16 bytes
  absl::Status st = parser.Feed("data: 01234567890", sink);      // partial line already too long
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(parser.Feed("\n\ndata: a\n\n", sink).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(got.size(), 1u);
  parser.Reset();
  ASSERT_TRUE(parser.Feed("data: a\n\n", sink).ok());
  EXPECT_EQ(got.size(), 2u);

  // A complete over-long line in one feed fails the same way, after earlier events.
  Result r = FeedPieces({"data: a\n\ndata: 0123456789abcdef\n\n"}, 16);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.events.size(), 1u);
  // So does an event whose data grows past the limit across many short lines.
  r = FeedPieces({"data: 0123456789\ndata: 0123456789\n\n"}, 16);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(r.events.empty());
}

const char kOpenAiStream[] =
    "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\\n\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,"
    "\"completion_tokens\":2,\"total_tokens\":11}}\n\n"
    ": keep-alive\n\n"
    "data: [DONE]\n\n";

TEST(SseParserTest, OpenAiStreamAnySplit) {
  std::vector<Event> want = Parse(kOpenAiStream);
  ASSERT_EQ(want.size(), 5u);
  EXPECT_EQ(want.back().data, "[DONE]");
  EXPECT_THAT(want[2].data, ::testing::HasSubstr("\"lo\\n\""));
  for (const auto& e : want) EXPECT_EQ(e.event, "message");
  ExpectSplitInvariant(kOpenAiStream, want);
}

const char kAnthropicStream[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
    "\"content\":[],\"model\":\"claude-3-5-sonnet\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,"
    "\"output_tokens\":1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";

TEST(SseParserTest, AnthropicStreamAnySplit) {
  std::vector<Event> want = Parse(kAnthropicStream);
  ASSERT_EQ(want.size(), 7u);
  EXPECT_EQ(want[0].event, "message_start");
  EXPECT_EQ(want[2].event, "ping");
  EXPECT_EQ(want[2].data, "{\"type\": \"ping\"}");
  EXPECT_EQ(want[6].event, "message_stop");
  ExpectSplitInvariant(kAnthropicStream, want);
}

TEST(SseParserTest, GoogleCrlfFramingAnySplit) {
  std::string s =
      "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hi\"}],\"role\": \"model\"}}]}\r\n\r\n"
      "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" there\"}]},\"finishReason\": \"STOP\"}],"
      "\"usageMetadata\": {\"promptTokenCount\": 3}}\r\n\r\n";
  std::vector<Event> want = Parse(s);
  ASSERT_EQ(want.size(), 2u);
  EXPECT_EQ(want[0].data.front(), '{');
  EXPECT_EQ(want[0].data.back(), '}');
  EXPECT_EQ(want[1].data.find('\r'), std::string::npos);
  ExpectSplitInvariant(s, want);
}

}  // namespace
}  // namespace routeall::http
