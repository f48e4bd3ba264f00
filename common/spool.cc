// Spool: length + CRC framed records in append-only segment files, deleted once acknowledged.
#include "common/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace routeall {
namespace {

// CRC-32 (IEEE, reflected), table-driven: it runs on the request path.
constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

uint32_t Crc32(const char* data, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) crc = kCrcTable[(crc ^ static_cast<unsigned char>(data[i])) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint32_t GetU32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

bool ParseSeq(const std::string& name, uint64_t* seq) {
  if (name.rfind("spool-", 0) != 0 || name.size() <= 10 || name.substr(name.size() - 4) != ".log") return false;
  std::string digits = name.substr(6, name.size() - 10);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  *seq = std::strtoull(digits.c_str(), nullptr, 10);
  return true;
}

}  // namespace

struct Spool::File {
  explicit File(int f) : fd(f) {}
  ~File() { close(fd); }
  int fd;
};

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const std::string& dir, SpoolOptions options) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat("spool dir ", dir, ": ", std::strerror(errno)));
  }
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return absl::UnavailableError(absl::StrCat("spool dir ", dir, ": ", std::strerror(errno)));
  std::map<uint64_t, Segment> found;
  while (dirent* e = readdir(d)) {
    uint64_t seq = 0;
    if (!ParseSeq(e->d_name, &seq)) continue;
    Segment seg;
    seg.path = dir + "/" + e->d_name;
    seg.loaded = false;
    struct stat st {};
    if (stat(seg.path.c_str(), &st) == 0) seg.bytes = static_cast<uint64_t>(st.st_size);
    found.emplace(seq, std::move(seg));
  }
  closedir(d);
  uint64_t next = found.empty() ? 1 : found.rbegin()->first + 1;
  if (!options.write) options.write = [](int fd, const void* p, size_t n) { return ::write(fd, p, n); };
  auto spool = std::unique_ptr<Spool>(new Spool(dir, std::move(options), next));
  spool->segments_ = std::move(found);
  return spool;
}

Spool::~Spool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    CloseActiveLocked();
  }
  (void)Sync();
}

std::string Spool::PathOf(uint64_t seq) const {
  char name[64];
  std::snprintf(name, sizeof name, "/spool-%020llu.log", static_cast<unsigned long long>(seq));
  return dir_ + name;
}

absl::Status Spool::OpenActiveLocked() {
  uint64_t seq = next_seq_++;
  std::string path = PathOf(seq);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("spool open ", path, ": ", std::strerror(errno)));
  active_file_ = std::make_shared<File>(fd);
  active_seq_ = seq;
  Segment& seg = segments_[seq];
  seg.path = std::move(path);
  seg.active = true;
  return absl::OkStatus();
}

void Spool::CloseActiveLocked() {
  if (active_seq_ == 0) return;
  unsynced_.push_back(std::move(active_file_));
  active_file_.reset();
  auto it = segments_.find(active_seq_);
  active_seq_ = 0;
  if (it == segments_.end()) return;
  it->second.active = false;
  MaybeDeleteLocked(it);
}

void Spool::MaybeDeleteLocked(std::map<uint64_t, Segment>::iterator it) {
  const Segment& seg = it->second;
  if (seg.active || !seg.loaded || seg.unacked > 0) return;
  unlink(seg.path.c_str());
  segments_.erase(it);
}

absl::StatusOr<Spool::Ref> Spool::Append(std::string_view record) {
  if (record.empty() || record.size() > options_.max_record_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("spool record of ", record.size(), " bytes"));
  }
  std::string frame;
  frame.reserve(record.size() + 8);
  PutU32(frame, static_cast<uint32_t>(record.size()));
  PutU32(frame, Crc32(record.data(), record.size()));
  frame.append(record.data(), record.size());

  std::lock_guard<std::mutex> lock(mu_);
  if (active_seq_ == 0) {
    absl::Status st = OpenActiveLocked();
    if (!st.ok()) {
      ++append_failures_;
      return st;
    }
  }
  auto it = segments_.find(active_seq_);
  Segment& seg = it->second;
  const int fd = active_file_->fd;
  size_t off = 0;
  while (off < frame.size()) {
    ssize_t n = options_.write(fd, frame.data() + off, frame.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    std::string why = n < 0 ? std::strerror(errno) : "wrote nothing";
    ++append_failures_;
    // Take back a partial frame so the records after it stay readable; if even that fails,
    // leave the damage to the reader (it resynchronises) and continue in a fresh file.
    if (off > 0 && ftruncate(fd, static_cast<off_t>(seg.bytes)) != 0) {
      seg.bytes += off;
      CloseActiveLocked();
    }
    return absl::UnavailableError(absl::StrCat("spool write: ", why));
  }
  Ref ref{active_seq_, static_cast<uint32_t>(seg.offsets.size())};
  seg.offsets.push_back(seg.bytes);
  seg.state.push_back(State::kInFlight);
  seg.bytes += frame.size();
  ++seg.unacked;
  if (seg.bytes >= options_.max_segment_bytes) CloseActiveLocked();
  return ref;
}

void Spool::Resolve(Ref ref, State to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = segments_.find(ref.segment);
  if (it == segments_.end() || ref.index >= it->second.state.size()) return;
  Segment& seg = it->second;
  State& s = seg.state[ref.index];
  if (s != State::kInFlight) return;
  s = to;
  if (to == State::kDone) {
    --seg.unacked;
    MaybeDeleteLocked(it);
  } else {
    ++seg.failed;
  }
}

void Spool::Ack(Ref ref) { Resolve(ref, State::kDone); }
void Spool::Nack(Ref ref) { Resolve(ref, State::kFailed); }

absl::Status Spool::Sync() {
  std::vector<std::shared_ptr<File>> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files.swap(unsynced_);
    if (active_file_) files.push_back(active_file_);
  }
  absl::Status out;
  for (const auto& f : files) {
    if (fdatasync(f->fd) != 0 && out.ok()) out = absl::UnavailableError(absl::StrCat("spool fsync: ", std::strerror(errno)));
  }
  return out;
}

void Spool::Rotate() {
  std::lock_guard<std::mutex> lock(mu_);
  if (active_seq_ == 0) return;
  auto it = segments_.find(active_seq_);
  if (it != segments_.end() && it->second.offsets.empty()) return;
  CloseActiveLocked();
}

std::vector<uint64_t> Spool::SegmentsToReplay() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> out;
  for (const auto& [seq, seg] : segments_) {
    if (!seg.active && (!seg.loaded || seg.failed > 0)) out.push_back(seq);
  }
  return out;
}

absl::StatusOr<std::vector<Spool::Record>> Spool::ClaimForReplay(uint64_t segment) {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = segments_.find(segment);
    if (it == segments_.end() || it->second.active) return std::vector<Record>{};
    path = it->second.path;
  }
  int bad = 0;
  auto frames = ReadSegment(path, &bad, options_.max_record_bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = segments_.find(segment);
  if (it == segments_.end()) return std::vector<Record>{};
  Segment& seg = it->second;
  if (!frames.ok()) {
    if (!absl::IsNotFound(frames.status())) return frames.status();
    // The file vanished under us: what it held is gone.
    corrupt_ += seg.loaded ? seg.failed : 1;
    if (seg.loaded) {
      for (State& s : seg.state) {
        if (s == State::kFailed) s = State::kDone;
      }
      seg.unacked -= seg.failed;
      seg.failed = 0;
      if (seg.unacked == 0) segments_.erase(it);
    } else {
      segments_.erase(it);
    }
    return std::vector<Record>{};
  }
  std::vector<Record> out;
  if (!seg.loaded) {
    // Left by a previous process: we do not know what was delivered, so re-send it all.
    corrupt_ += bad;
    seg.loaded = true;
    seg.offsets.clear();
    seg.state.assign(frames->size(), State::kInFlight);
    seg.unacked = static_cast<int64_t>(frames->size());
    seg.failed = 0;
    for (size_t i = 0; i < frames->size(); ++i) {
      seg.offsets.push_back((*frames)[i].offset);
      out.push_back({{segment, static_cast<uint32_t>(i)}, std::move((*frames)[i].payload)});
    }
    MaybeDeleteLocked(it);
    return out;
  }
  // Records of this process: re-send the failed ones, matched by offset.
  size_t f = 0;
  for (size_t i = 0; i < seg.state.size(); ++i) {
    while (f < frames->size() && (*frames)[f].offset < seg.offsets[i]) ++f;
    if (seg.state[i] != State::kFailed) continue;
    --seg.failed;
    if (f < frames->size() && (*frames)[f].offset == seg.offsets[i]) {
      seg.state[i] = State::kInFlight;
      out.push_back({{segment, static_cast<uint32_t>(i)}, std::move((*frames)[f].payload)});
    } else {
      // Written, then damaged on disk: lost, and said so.
      seg.state[i] = State::kDone;
      --seg.unacked;
      ++corrupt_;
    }
  }
  MaybeDeleteLocked(it);
  return out;
}

Spool::Stats Spool::GetStats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s;
  for (const auto& [seq, seg] : segments_) {
    ++s.segments;
    s.bytes += static_cast<int64_t>(seg.bytes);
    s.unacked += seg.unacked;
  }
  s.corrupt = corrupt_;
  s.append_failures = append_failures_;
  return s;
}

absl::StatusOr<std::vector<Spool::Frame>> Spool::ReadSegment(const std::string& path, int* corrupt,
                                                             uint32_t max_record_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("spool segment ", path));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Frame> out;
  int bad = 0;
  bool in_damage = false;
  size_t at = 0;
  while (at < data.size()) {
    if (at + 8 <= data.size()) {
      uint32_t len = GetU32(data, at);
      uint32_t crc = GetU32(data, at + 4);
      // Empty records are never written: a zero-filled stretch is damage, not records.
      if (len > 0 && len <= max_record_bytes && len <= data.size() - at - 8 &&
          Crc32(data.data() + at + 8, len) == crc) {
        out.push_back({at, data.substr(at + 8, len)});
        at += 8 + len;
        in_damage = false;
        continue;
      }
    }
    // A torn tail (killed mid-append) or a damaged frame: count it once and look for the next
    // intact frame byte by byte (a length field cannot be trusted any more).
    if (!in_damage) ++bad;
    in_damage = true;
    ++at;
  }
  if (corrupt) *corrupt = bad;
  return out;
}

}  // namespace routeall
