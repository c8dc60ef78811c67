#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "faceid/io/atomic_file.hpp"
#include "test_support.hpp"

using namespace faceid;
using namespace faceid::test;
namespace fs = std::filesystem;

namespace {

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), {}));
}

// A file-size limit for this process (a full disk, for real), with SIGXFSZ ignored so that the
// write fails with EFBIG instead of ending the process; both restored at scope exit.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit limit = old_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  sighandler_t old_handler_;
};

// The pid of a process that has ended (a child, reaped): what a killed writer leaves behind.
pid_t gone_process() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  if (child > 0) waitpid(child, nullptr, 0);
  return child;
}

}  // namespace

TEST(AtomicFile, WritesTheWholeFileAndLeavesNoTemporary) {
  TempDir dir;
  write_file_atomically(dir / "a.json", "the report", std::string("{}\n"));
  write_file_atomically(dir / "a.json", "the report",
                        [](std::ostream& out) { out << std::string(200000, 'x'); });
  EXPECT_EQ(read_file(dir / "a.json"), std::string(200000, 'x'));
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(AtomicFile, AFullDiskIsAnInputErrorNamingTheFileAndKeepsTheOldFile) {
  TempDir dir;
  write_file_atomically(dir / "a.csv", "the scores", std::string("old\n"));
  {
    FileSizeLimit limit(4096);
    expect_error(
        [&] { write_file_atomically(dir / "a.csv", "the scores", std::string(10000, 'x')); },
        ErrorKind::Input, (dir / "a.csv").string() + ": cannot write the scores: File too large");
  }
  EXPECT_EQ(read_file(dir / "a.csv"), "old\n");
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(AtomicFile, ABodyThatThrowsKeepsTheOldFileAndPassesItsErrorOn) {
  TempDir dir;
  write_file_atomically(dir / "a.bin", "data", std::string("old"));
  EXPECT_THROW(write_file_atomically(dir / "a.bin", "data",
                                     [](std::ostream& out) {
                                       out << "half";
                                       throw std::logic_error("body failed");
                                     }),
               std::logic_error);
  EXPECT_EQ(read_file(dir / "a.bin"), "old");
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(AtomicFile, AMissingFolderOrAFolderInTheWayIsAnInputError) {
  TempDir dir;
  expect_error([&] { write_file_atomically(dir / "no" / "a.txt", "text", std::string("x")); },
               ErrorKind::Input, "a.txt: cannot write text: No such file or directory");
  fs::create_directory(dir / "d");
  expect_error([&] { write_file_atomically(dir / "d", "text", std::string("x")); },
               ErrorKind::Input, "cannot write text: Is a directory");
  EXPECT_EQ(entries(dir.path()), 1u);  // the folder d, no temporary
}

TEST(AtomicFile, CreateFolderRefusesAFileInTheWay) {
  TempDir dir;
  write_file(dir / "f", "x");
  expect_error([&] { create_folder(dir / "f", "the report folder"); }, ErrorKind::Input,
               "f: cannot create the report folder: a file is in the way");
  expect_error([&] { create_folder(dir / "f" / "sub", "the report folder"); }, ErrorKind::Input,
               "sub: cannot create the report folder: Not a directory");
  create_folder(dir / "x" / "y", "the report folder");
  EXPECT_TRUE(fs::is_directory(dir / "x" / "y"));
}

TEST(AtomicFile, TemporariesOfAGoneProcessAreRemovedByTheNextWriteIntoTheirFolder) {
  TempDir dir;
  const pid_t child = gone_process();
  ASSERT_GT(child, 0);
  const fs::path stale = dir / (".model.tmp-" + std::to_string(child) + "-0.json");
  const fs::path other = dir / (".weights-1234.tmp-" + std::to_string(child) + "-3.pt");
  const fs::path mine = temporary_beside(dir / "model.json");
  write_file(stale, "half");
  write_file(other, "half");
  write_file(mine, "in progress");
  write_file(dir / ".notes.tmp-x", "not a temporary of faceid's");
  write_file_atomically(dir / "model.json", "the model description", std::string("{}"));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(other));
  EXPECT_TRUE(fs::exists(mine));  // this process's own may still be being written
  EXPECT_TRUE(fs::exists(dir / ".notes.tmp-x"));
  EXPECT_NE(temporary_beside(dir / "model.json"), temporary_beside(dir / "model.json"));
}

TEST(AtomicFile, EachFolderIsScannedForTemporariesOncePerProcess) {
  TempDir dir;
  const pid_t child = gone_process();
  ASSERT_GT(child, 0);
  const fs::path first = dir / (".a.tmp-" + std::to_string(child) + "-0.json");
  write_file(first, "half");
  write_file_atomically(dir / "a.json", "the report", std::string("{}"));
  EXPECT_FALSE(fs::exists(first));
  // Writing many files into one folder must not rescan it each time (n² directory reads): the
  // next leftover there waits for the next process.
  const fs::path second = dir / (".b.tmp-" + std::to_string(child) + "-1.json");
  write_file(second, "half");
  for (int i = 0; i < 3; ++i)
    write_file_atomically(dir / ("f" + std::to_string(i) + ".json"), "the report",
                          std::string("{}"));
  EXPECT_TRUE(fs::exists(second));
  fs::create_directory(dir / "sub");
  const fs::path third = dir / "sub" / (".c.tmp-" + std::to_string(child) + "-2.json");
  write_file(third, "half");
  write_file_atomically(dir / "sub" / "c.json", "the report", std::string("{}"));
  EXPECT_FALSE(fs::exists(third));
}

TEST(AtomicFile, AnAppendFileAppendsAndReportsAFullDisk) {
  TempDir dir;
  {
    AppendFile log(dir / "m.csv", "the metrics", false);
    log.write("a\n");
  }
  {
    AppendFile log(dir / "m.csv", "the metrics", true);
    log.write("b\n");
    FileSizeLimit limit(4096);
    expect_error([&] { log.write(std::string(10000, 'x')); }, ErrorKind::Input,
                 "m.csv: cannot write the metrics: File too large");
  }
  EXPECT_EQ(read_file(dir / "m.csv").substr(0, 4), "a\nb\n");
  expect_error([&] { AppendFile(dir / "no" / "m.csv", "the metrics", true); }, ErrorKind::Input,
               "m.csv: cannot write the metrics: No such file or directory");
}
