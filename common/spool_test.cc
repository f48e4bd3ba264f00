// Spool: write-ahead append, deletion only once acknowledged, survival of SIGKILL, failed
// writes (disk full), and torn, damaged or zero-filled segment files counted as losses.
#include "common/spool.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>

#include "common/testing.h"

namespace routeall {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("spool_" + routeall::testing::UniqueSuffix());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    if (!std::filesystem::exists(dir_)) return out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::vector<std::string> Payloads(const std::vector<Spool::Frame>& frames) {
    std::vector<std::string> out;
    for (const auto& f : frames) out.push_back(f.payload);
    return out;
  }
  static std::vector<std::string> Payloads(const std::vector<Spool::Record>& recs) {
    std::vector<std::string> out;
    for (const auto& r : recs) out.push_back(r.payload);
    return out;
  }
  std::filesystem::path dir_;
};

TEST_F(SpoolTest, SegmentIsDeletedOnlyOnceEveryRecordIsAcknowledged) {
  auto spool = Spool::Open(dir_);
  ASSERT_TRUE(spool.ok());
  auto a = (*spool)->Append("one");
  auto b = (*spool)->Append(std::string("t\0wo", 4));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*spool)->GetStats().unacked, 2);
  (*spool)->Ack(*a);
  (*spool)->Rotate();
  ASSERT_EQ(Files().size(), 1u) << "closed with one record unacknowledged: must stay";
  auto c = (*spool)->Append("three");  // a new segment
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->segment, b->segment);
  EXPECT_EQ(Files().size(), 2u);
  (*spool)->Ack(*b);
  ASSERT_EQ(Files().size(), 1u) << "fully acknowledged closed segment is deleted";
  (*spool)->Ack(*c);
  EXPECT_EQ(Files().size(), 1u) << "the active segment stays until rotated";
  (*spool)->Rotate();
  EXPECT_TRUE(Files().empty());
  EXPECT_EQ((*spool)->GetStats().bytes, 0);
}

TEST_F(SpoolTest, RotatesBySizeAndReplaysOnlyFailedRecords) {
  SpoolOptions opts;
  opts.max_segment_bytes = 3 * (8 + 5);
  auto spool = Spool::Open(dir_, opts);
  ASSERT_TRUE(spool.ok());
  std::vector<Spool::Ref> refs;
  for (const char* r : {"rec-0", "rec-1", "rec-2", "rec-3"}) refs.push_back(*(*spool)->Append(r));
  EXPECT_EQ(refs[2].segment, refs[0].segment);
  EXPECT_NE(refs[3].segment, refs[0].segment) << "rotated once the size was reached";
  (*spool)->Ack(refs[0]);
  (*spool)->Nack(refs[1]);
  EXPECT_EQ((*spool)->SegmentsToReplay(), std::vector<uint64_t>{refs[0].segment});
  auto recs = (*spool)->ClaimForReplay(refs[0].segment);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(Payloads(*recs), std::vector<std::string>{"rec-1"}) << "acked and in-flight records are not re-sent";
  EXPECT_TRUE((*spool)->SegmentsToReplay().empty()) << "claimed records are in flight";
  (*spool)->Nack((*recs)[0].ref);  // the broker is still down
  recs = (*spool)->ClaimForReplay(refs[0].segment);
  ASSERT_EQ(recs->size(), 1u);
  (*spool)->Ack((*recs)[0].ref);
  (*spool)->Ack(refs[2]);
  EXPECT_EQ(Files().size(), 1u) << "only the active segment is left";
}

TEST_F(SpoolTest, RecordsWrittenBeforeSigkillAreReplayedByTheNextProcess) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto spool = Spool::Open(dir_);
    if (!spool.ok()) _exit(3);
    for (int i = 0; i < 100; ++i) {
      if (!(*spool)->Append("event-" + std::to_string(i)).ok()) _exit(4);
    }
    auto first = (*spool)->Append("acked-but-not-rotated");
    (*spool)->Ack(*first);
    kill(getpid(), SIGKILL);  // no destructor, no fsync: only the page cache has it
    _exit(5);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  auto spool = Spool::Open(dir_);
  ASSERT_TRUE(spool.ok());
  auto segs = (*spool)->SegmentsToReplay();
  ASSERT_EQ(segs.size(), 1u);
  auto recs = (*spool)->ClaimForReplay(segs[0]);
  ASSERT_TRUE(recs.ok());
  // Acknowledgements live in memory: a record acked just before the kill comes back (a
  // harmless duplicate), none written is missing.
  ASSERT_EQ(recs->size(), 101u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ((*recs)[i].payload, "event-" + std::to_string(i));
  EXPECT_EQ((*spool)->GetStats().corrupt, 0);
  auto next = (*spool)->Append("new");
  ASSERT_TRUE(next.ok());
  EXPECT_GT(next->segment, segs[0]) << "new segments continue after the old ones";
  for (const auto& r : *recs) (*spool)->Ack(r.ref);
  EXPECT_EQ(Files().size(), 1u) << "the replayed segment is gone once all of it is acknowledged";
}

TEST_F(SpoolTest, FailedWriteAddsNothingAndLaterRecordsStayReadable) {
  std::atomic<int> mode{0};  // 0 ok, 1 short write then ENOSPC, 2 ENOSPC at once
  SpoolOptions opts;
  opts.write = [&](int fd, const void* p, size_t n) -> ssize_t {
    if (mode == 0) return ::write(fd, p, n);
    if (mode == 1 && n > 3) {
      mode = 2;
      return ::write(fd, p, 3);  // half a frame reaches the file
    }
    errno = ENOSPC;
    return -1;
  };
  auto spool = Spool::Open(dir_, opts);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append("before").ok());
  mode = 1;
  auto failed = (*spool)->Append("during-disk-full");
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE((*spool)->Append("still-full").ok());
  mode = 0;
  ASSERT_TRUE((*spool)->Append("after").ok());
  EXPECT_EQ((*spool)->GetStats().append_failures, 2);
  (*spool)->Rotate();
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  int corrupt = -1;
  auto frames = Spool::ReadSegment(files[0], &corrupt);
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(Payloads(*frames), (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(corrupt, 0) << "the partial frame was taken back";
}

TEST_F(SpoolTest, DamagedFramesAreSkippedAndCountedAndTheRestIsRecovered) {
  {
    auto spool = Spool::Open(dir_);
    for (const char* r : {"keep-1", "len-me", "keep-2", "flip-me", "keep-3"}) ASSERT_TRUE((*spool)->Append(r).ok());
  }
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  int fd = open(files[0].c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  // Break the second frame's length field (the old reader took this for a torn tail and
  // silently dropped everything after it), flip a payload byte of the fourth, tear the tail.
  const char huge[] = {'\x7f', '\x7f', 0, 0};
  ASSERT_EQ(pwrite(fd, huge, 4, 14), 4);
  char c = 'X';
  ASSERT_EQ(pwrite(fd, &c, 1, 3 * 14 + 8 + 1), 1);
  const char torn[] = {10, 0, 0, 0, 1, 2};
  ASSERT_EQ(pwrite(fd, torn, sizeof torn, lseek(fd, 0, SEEK_END)), static_cast<ssize_t>(sizeof torn));
  close(fd);
  int corrupt = 0;
  auto frames = Spool::ReadSegment(files[0], &corrupt);
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(Payloads(*frames), (std::vector<std::string>{"keep-1", "keep-2", "keep-3"}));
  EXPECT_EQ(corrupt, 3) << "bad length, bad checksum and torn tail each count as a loss";

  // Replaying it counts the same losses in the spool's stats.
  auto spool = Spool::Open(dir_);
  auto segs = (*spool)->SegmentsToReplay();
  ASSERT_EQ(segs.size(), 1u);
  auto recs = (*spool)->ClaimForReplay(segs[0]);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(Payloads(*recs), (std::vector<std::string>{"keep-1", "keep-2", "keep-3"}));
  EXPECT_EQ((*spool)->GetStats().corrupt, 3);
}

TEST_F(SpoolTest, ZeroFilledTailIsDamageNotEmptyRecords) {
  {
    auto spool = Spool::Open(dir_);
    ASSERT_TRUE((*spool)->Append("real").ok());
  }
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  std::filesystem::resize_file(files[0], std::filesystem::file_size(files[0]) + 64);
  int corrupt = 0;
  auto frames = Spool::ReadSegment(files[0], &corrupt);
  EXPECT_EQ(Payloads(*frames), std::vector<std::string>{"real"});
  EXPECT_EQ(corrupt, 1);
}

TEST_F(SpoolTest, RecordDamagedOnDiskBeforeItsReplayIsCountedLost) {
  auto spool = Spool::Open(dir_);
  auto a = (*spool)->Append("aaaa");
  auto b = (*spool)->Append("bbbb");
  (*spool)->Nack(*a);
  (*spool)->Nack(*b);
  (*spool)->Rotate();
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  int fd = open(files[0].c_str(), O_RDWR);
  char c = 'X';
  ASSERT_EQ(pwrite(fd, &c, 1, 8), 1);  // first record's payload
  close(fd);
  auto recs = (*spool)->ClaimForReplay(a->segment);
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(Payloads(*recs), std::vector<std::string>{"bbbb"});
  EXPECT_EQ((*spool)->GetStats().corrupt, 1);
  (*spool)->Ack((*recs)[0].ref);
  EXPECT_TRUE(Files().empty()) << "nothing recoverable left: the segment is gone";
}

}  // namespace
}  // namespace routeall
