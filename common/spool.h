// A durable local spool of opaque records: what could not be delivered is appended here
// (fsync'd) and replayed later. Segment files let the replayer finish one file at a time.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace routeall {

class Spool {
 public:
  // Opens (creating) dir; segments are "<dir>/spool-<seq>.log".
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const std::string& dir);
  ~Spool();

  // Appends one record durably (written and fsync'd before returning).
  absl::Status Append(const std::string& record);

  // Closes the active segment and returns every closed segment, oldest first.
  std::vector<std::string> TakeSegments();

  // Reads a segment's records. A torn tail (crash mid-append) is ignored; corrupted records
  // (bad checksum) are skipped and counted in *corrupt.
  static absl::StatusOr<std::vector<std::string>> ReadSegment(const std::string& path, int* corrupt = nullptr);

  static void RemoveSegment(const std::string& path);

  // Records appended and not yet taken, plus bytes on disk over all segments.
  int64_t PendingBytes() const;

 private:
  explicit Spool(std::string dir, uint64_t next_seq) : dir_(std::move(dir)), next_seq_(next_seq) {}
  absl::Status OpenActive();

  std::string dir_;
  mutable std::mutex mu_;
  int fd_ = -1;
  std::string active_path_;
  uint64_t next_seq_;
};

}  // namespace routeall
