// Counts usage the upstream did not report (the client left mid-stream, or the upstream
// omits usage), so a request is billed on what was produced instead of nothing.
#pragma once

#include <string>

#include "routeall/llm/v1/llm.pb.h"

namespace routeall::gateway {

class UsageCounter {
 public:
  virtual ~UsageCounter() = default;
  // prompt_tokens from the request, completion_tokens from the produced output text
  // (content, reasoning and tool-call arguments as streamed); source USAGE_SOURCE_COUNTED.
  virtual llm::v1::Usage Count(const llm::v1::ChatRequest& req, const std::string& produced) const = 0;
};

}  // namespace routeall::gateway
