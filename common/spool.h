// A local write-ahead log of opaque records (the gateway's usage events). Every record is
// appended before it is handed to the network; a segment file is deleted only once every record
// in it has been acknowledged, so what was written survives the process being killed at any
// point and is replayed by the next process. Appends are plain write()s (they reach the page
// cache, which outlives the process); Sync() fdatasyncs in batches (power loss can cost what was
// written since the last Sync, process death cannot).
//
// On disk: "<dir>/spool-<seq>.log", each record framed as [u32 length][u32 CRC-32][bytes].
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace routeall {

struct SpoolOptions {
  // The active segment is closed once it holds this many bytes.
  uint64_t max_segment_bytes = 4 << 20;
  // Records longer than this are refused on append and treated as corruption on read.
  uint32_t max_record_bytes = 16 << 20;
  // write(2); tests inject failures (disk full, short writes) here.
  std::function<ssize_t(int fd, const void* data, size_t size)> write;
};

class Spool {
 public:
  // Where one appended record lives, to acknowledge it.
  struct Ref {
    uint64_t segment = 0;
    uint32_t index = 0;
  };
  struct Record {
    Ref ref;
    std::string payload;
  };
  struct Stats {
    int64_t segments = 0;        // files on disk
    int64_t bytes = 0;           // their total size
    int64_t unacked = 0;         // records known to be written and not yet acknowledged
    int64_t corrupt = 0;         // records found unreadable (lost), since Open
    int64_t append_failures = 0; // appends that wrote nothing durable, since Open
  };

  // Opens (creating) dir. Segments already there (a previous process) wait for replay.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const std::string& dir, SpoolOptions options = {});
  ~Spool();  // syncs; never deletes unacknowledged records

  // Writes one record (write(2), no fsync). On failure nothing readable was added.
  absl::StatusOr<Ref> Append(std::string_view record);
  // The record reached its destination: once a closed segment has no unacknowledged record
  // left, its file is deleted.
  void Ack(Ref ref);
  // Delivering the record failed: it stays on disk and ClaimForReplay will hand it out again.
  void Nack(Ref ref);

  // fdatasyncs what was written since the last call (the active and newly closed segments).
  absl::Status Sync();
  // Closes the active segment (deleting it if everything in it was acknowledged).
  void Rotate();

  // Closed segments that hold records to re-send (failed, or left by a previous process),
  // oldest first.
  std::vector<uint64_t> SegmentsToReplay();
  // Reads a segment and returns its records waiting for re-delivery, marking them in flight
  // (each must then be Ack'd or Nack'd). Records that can no longer be read are counted as
  // corrupt and forgotten.
  absl::StatusOr<std::vector<Record>> ClaimForReplay(uint64_t segment);

  Stats GetStats() const;
  int64_t PendingBytes() const { return GetStats().bytes; }

  // Reads a segment file: every intact record with its byte offset. A torn tail or a damaged
  // frame is skipped (the reader resynchronises on the next intact frame) and counted in *corrupt
  // (one per damaged stretch: at least one record was lost there).
  struct Frame {
    uint64_t offset;
    std::string payload;
  };
  static absl::StatusOr<std::vector<Frame>> ReadSegment(const std::string& path, int* corrupt = nullptr,
                                                        uint32_t max_record_bytes = 16 << 20);

 private:
  enum class State : uint8_t { kInFlight, kFailed, kDone };
  struct File;
  struct Segment {
    std::string path;
    bool active = false;
    bool loaded = true;  // false: left by a previous process, contents not read yet
    uint64_t bytes = 0;
    std::vector<uint64_t> offsets;  // of each record appended (or read)
    std::vector<State> state;
    int64_t unacked = 0;
    int64_t failed = 0;
  };

  Spool(std::string dir, SpoolOptions options, uint64_t next_seq)
      : dir_(std::move(dir)), options_(std::move(options)), next_seq_(next_seq) {}
  std::string PathOf(uint64_t seq) const;
  absl::Status OpenActiveLocked();
  void CloseActiveLocked();
  void MaybeDeleteLocked(std::map<uint64_t, Segment>::iterator it);
  void Resolve(Ref ref, State to);

  const std::string dir_;
  const SpoolOptions options_;
  mutable std::mutex mu_;
  std::map<uint64_t, Segment> segments_;
  uint64_t next_seq_;
  uint64_t active_seq_ = 0;  // 0: none
  std::shared_ptr<File> active_file_;
  std::vector<std::shared_ptr<File>> unsynced_;  // closed since the last Sync
  int64_t corrupt_ = 0;
  int64_t append_failures_ = 0;
};

}  // namespace routeall
