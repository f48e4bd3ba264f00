// Round-trip check shared by the request fuzz targets: decode -> encode -> decode must give
// the same canonical request. On a difference it prints both the field diff and the two
// bodies, so a crash report says what went wrong without re-running under a debugger.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <google/protobuf/util/message_differencer.h>

#include "routeall/llm/v1/llm.pb.h"

namespace routeall::codecs::fuzz {

inline void CheckSameRequest(const llm::v1::ChatRequest& first, const llm::v1::ChatRequest& again,
                             std::string_view input, std::string_view encoded) {
  google::protobuf::util::MessageDifferencer diff;
  std::string report;
  diff.ReportDifferencesToString(&report);
  if (diff.Compare(first, again)) return;
  std::fprintf(stderr, "round trip changed the request:\n%s\ninput: %.*s\nencoded: %.*s\n", report.c_str(),
               static_cast<int>(input.size() > 4096 ? 4096 : input.size()), input.data(),
               static_cast<int>(encoded.size() > 4096 ? 4096 : encoded.size()), encoded.data());
  std::abort();
}

}  // namespace routeall::codecs::fuzz
