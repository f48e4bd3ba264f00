// SSE framing.
#include "gateway/sse.h"

#include <gtest/gtest.h>

namespace routeall::gateway {
namespace {

TEST(SseTest, DataOnly) { EXPECT_EQ(FormatSseEvent("", "{\"a\":1}"), "data: {\"a\":1}\n\n"); }

TEST(SseTest, NamedEvent) {
  EXPECT_EQ(FormatSseEvent("message_start", "{}"), "event: message_start\ndata: {}\n\n");
}

TEST(SseTest, NewlinesInDataCannotEndTheEvent) {
  EXPECT_EQ(FormatSseEvent("", "a\n\nb\r\nc"), "data: a\ndata: \ndata: b\ndata: c\n\n");
}

TEST(SseTest, DoneMarker) { EXPECT_EQ(FormatSseEvent("", "[DONE]"), "data: [DONE]\n\n"); }

TEST(SseTest, HeaderDisablesBuffering) {
  auto h = SseHeader();
  EXPECT_EQ(h[http::field::content_type], "text/event-stream; charset=utf-8");
  EXPECT_EQ(h["X-Accel-Buffering"], "no");
  EXPECT_EQ(h[http::field::cache_control], "no-cache");
}

}  // namespace
}  // namespace routeall::gateway
