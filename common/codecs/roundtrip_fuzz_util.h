// Round-trip checks shared by the request fuzz targets: decode -> encode -> decode must give
// the same canonical request. On a difference they print what differs and the two bodies,
// so a crash report says what went wrong without re-running under a debugger.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/util/message_differencer.h>

#include "routeall/llm/v1/llm.pb.h"

namespace routeall::codecs::fuzz {

[[noreturn]] inline void Fail(const std::string& what, std::string_view input, std::string_view encoded) {
  std::fprintf(stderr, "round trip changed the request:\n%s\ninput: %.*s\nencoded: %.*s\n", what.c_str(),
               static_cast<int>(std::min<size_t>(input.size(), 4096)), input.data(),
               static_cast<int>(std::min<size_t>(encoded.size(), 4096)), encoded.data());
  std::abort();
}

inline void CheckSameRequest(const llm::v1::ChatRequest& first, const llm::v1::ChatRequest& again,
                             std::string_view input, std::string_view encoded) {
  google::protobuf::util::MessageDifferencer diff;
  std::string report;
  diff.ReportDifferencesToString(&report);
  if (!diff.Compare(first, again)) Fail(report, input, encoded);
}

// Everything a conversation says, one item per part, tool call and tool result, tagged with
// who says it, sorted: what survives an encoding that merges same-role neighbours and
// reorders within a turn (Anthropic and Gemini both must). Call ids are left out: Gemini
// matches calls by name and order and mints its own ids.
inline std::vector<std::string> ContentItems(const llm::v1::ChatRequest& req) {
  std::vector<std::string> items;
  for (const auto& m : req.messages()) {
    std::string who = m.role() == llm::v1::ROLE_SYSTEM || m.role() == llm::v1::ROLE_DEVELOPER ? "system"
                      : m.role() == llm::v1::ROLE_ASSISTANT                                  ? "assistant"
                      : m.role() == llm::v1::ROLE_TOOL                                       ? "tool"
                                                                                             : "user";
    for (const auto& p : m.parts()) items.push_back(who + " part " + p.SerializeAsString());
    for (auto c : m.tool_calls()) {
      c.clear_id();
      items.push_back(who + " call " + c.SerializeAsString());
    }
  }
  std::sort(items.begin(), items.end());
  return items;
}

// Fails, naming the items only one side has, unless both conversations say the same.
inline void CheckSameContent(const std::vector<std::string>& first, const std::vector<std::string>& again,
                             std::string_view input, std::string_view encoded) {
  if (first == again) return;
  std::vector<std::string> lost, gained;
  std::set_difference(first.begin(), first.end(), again.begin(), again.end(), std::back_inserter(lost));
  std::set_difference(again.begin(), again.end(), first.begin(), first.end(), std::back_inserter(gained));
  std::string what = "the conversation's content changed";
  for (const auto& s : lost) what += "\n  lost: " + s;
  for (const auto& s : gained) what += "\n  gained: " + s;
  Fail(what, input, encoded);
}

}  // namespace routeall::codecs::fuzz
