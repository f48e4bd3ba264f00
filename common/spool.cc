// Spool: length + CRC framed records in append-only segment files.
#include "common/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace routeall {
namespace {

uint32_t Crc32(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
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

std::vector<std::string> ListSegments(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("spool-", 0) == 0 && name.size() > 10 && name.substr(name.size() - 4) == ".log") {
      out.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  // Zero-padded sequence numbers sort lexically.
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t SeqOf(const std::string& path) {
  auto slash = path.rfind('/');
  std::string name = path.substr(slash + 1);
  return std::strtoull(name.c_str() + 6, nullptr, 10);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat("spool dir ", dir, ": ", std::strerror(errno)));
  }
  uint64_t next = 1;
  for (const auto& p : ListSegments(dir)) next = std::max(next, SeqOf(p) + 1);
  return std::unique_ptr<Spool>(new Spool(dir, next));
}

Spool::~Spool() {
  if (fd_ >= 0) close(fd_);
}

absl::Status Spool::OpenActive() {
  char name[64];
  std::snprintf(name, sizeof name, "/spool-%020llu.log", static_cast<unsigned long long>(next_seq_++));
  active_path_ = dir_ + name;
  fd_ = open(active_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return absl::UnavailableError(absl::StrCat("spool open ", active_path_, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

absl::Status Spool::Append(const std::string& record) {
  std::string frame;
  frame.reserve(record.size() + 8);
  PutU32(frame, static_cast<uint32_t>(record.size()));
  PutU32(frame, Crc32(record));
  frame += record;
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0) {
    absl::Status st = OpenActive();
    if (!st.ok()) return st;
  }
  size_t off = 0;
  while (off < frame.size()) {
    ssize_t n = write(fd_, frame.data() + off, frame.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("spool write: ", std::strerror(errno)));
    }
    off += static_cast<size_t>(n);
  }
  if (fdatasync(fd_) != 0) return absl::UnavailableError(absl::StrCat("spool fsync: ", std::strerror(errno)));
  return absl::OkStatus();
}

std::vector<std::string> Spool::TakeSegments() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  return ListSegments(dir_);
}

absl::StatusOr<std::vector<std::string>> Spool::ReadSegment(const std::string& path, int* corrupt) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("spool segment ", path));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  int bad = 0;
  size_t at = 0;
  while (at + 8 <= data.size()) {
    uint32_t len = GetU32(data, at);
    uint32_t crc = GetU32(data, at + 4);
    if (at + 8 + len > data.size()) break;  // torn tail
    std::string rec = data.substr(at + 8, len);
    if (Crc32(rec) == crc) {
      out.push_back(std::move(rec));
    } else {
      ++bad;
    }
    at += 8 + len;
  }
  if (corrupt) *corrupt = bad;
  return out;
}

void Spool::RemoveSegment(const std::string& path) { unlink(path.c_str()); }

int64_t Spool::PendingBytes() const {
  int64_t total = 0;
  for (const auto& p : ListSegments(dir_)) {
    struct stat st {};
    if (stat(p.c_str(), &st) == 0) total += st.st_size;
  }
  return total;
}

}  // namespace routeall
