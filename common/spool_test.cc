// Spool: durable append, segment rotation, torn tails and corruption.
#include "common/spool.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

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
  std::filesystem::path dir_;
};

TEST_F(SpoolTest, AppendTakeReadRemove) {
  auto spool = Spool::Open(dir_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append("one").ok());
  ASSERT_TRUE((*spool)->Append(std::string("t\0wo", 4)).ok());
  EXPECT_GT((*spool)->PendingBytes(), 0);
  auto segs = (*spool)->TakeSegments();
  ASSERT_EQ(segs.size(), 1u);
  ASSERT_TRUE((*spool)->Append("three").ok());  // goes to a new segment
  auto recs = Spool::ReadSegment(segs[0]);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[1], std::string("t\0wo", 4));
  Spool::RemoveSegment(segs[0]);
  auto rest = (*spool)->TakeSegments();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ((*Spool::ReadSegment(rest[0]))[0], "three");
}

TEST_F(SpoolTest, SurvivesReopenAndIgnoresTornTailAndCorruption) {
  {
    auto spool = Spool::Open(dir_);
    ASSERT_TRUE((*spool)->Append("keep-1").ok());
    ASSERT_TRUE((*spool)->Append("flip-me").ok());
    ASSERT_TRUE((*spool)->Append("keep-2").ok());
  }
  auto spool = Spool::Open(dir_);
  auto segs = (*spool)->TakeSegments();
  ASSERT_EQ(segs.size(), 1u);
  // Corrupt the middle record's payload and append half a frame (a crash mid-write).
  int fd = open(segs[0].c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  off_t flip = 8 + 6 + 8 + 1;
  char c = 'X';
  ASSERT_EQ(pwrite(fd, &c, 1, flip), 1);
  const char torn[] = {10, 0, 0, 0, 1, 2};
  ASSERT_EQ(pwrite(fd, torn, sizeof torn, lseek(fd, 0, SEEK_END)), static_cast<ssize_t>(sizeof torn));
  close(fd);
  int corrupt = 0;
  auto recs = Spool::ReadSegment(segs[0], &corrupt);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[0], "keep-1");
  EXPECT_EQ((*recs)[1], "keep-2");
  EXPECT_EQ(corrupt, 1);
  // A new spool continues after the highest existing sequence number.
  ASSERT_TRUE((*spool)->Append("next").ok());
  auto all = (*spool)->TakeSegments();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], segs[0]);
}

}  // namespace
}  // namespace routeall
