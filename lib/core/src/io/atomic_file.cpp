#include "faceid/io/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <ostream>
#include <set>
#include <streambuf>
#include <system_error>

#include "faceid/error.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

std::string reason(int err) { return std::generic_category().message(err); }

Error write_error(const fs::path& file, const std::string& what, const std::string& why) {
  return input_error(file.string() + ": cannot write " + what + ": " + why);
}

// Writes all of `data`; returns 0 or the errno of the failed write (EFBIG, ENOSPC, EIO ...).
int write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t done = ::write(fd, data, n);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) return done < 0 ? errno : EIO;
    data += done;
    n -= static_cast<std::size_t>(done);
  }
  return 0;
}

// An ostream buffer over a file descriptor that keeps the errno of the first failed write, so
// that the error can say "File too large" rather than "write failed".
class FdBuffer : public std::streambuf {
 public:
  explicit FdBuffer(int fd) : fd_(fd) { setp(buffer_, buffer_ + sizeof buffer_); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    if (error_ == 0) error_ = write_all(fd_, pbase(), static_cast<std::size_t>(pptr() - pbase()));
    setp(buffer_, buffer_ + sizeof buffer_);
    return error_ == 0;
  }

  int fd_;
  int error_ = 0;
  char buffer_[1 << 16];
};

// Temporaries in `dir` whose process is gone (killed mid-write): `.<stem>.tmp-<pid>-<n><ext>`.
void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir.empty() ? fs::path(".") : dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto at = name.rfind(".tmp-");
    if (name.empty() || name[0] != '.' || at == 0 || at == std::string::npos) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + at + 5, &end, 10);
    if (pid > 0 && *end == '-' && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 &&
        errno == ESRCH)
      fs::remove(entry.path(), ec);
  }
}

// Once per folder and process: scanning the folder after every write would make writing n files
// into one folder (faceverify -o DIR, faceserve --save-dir) cost n² directory reads.
void remove_stale_temporaries_once(const fs::path& dir) {
  static std::mutex mutex;
  static std::set<fs::path> cleaned;
  std::error_code ec;
  const fs::path key = fs::weakly_canonical(dir.empty() ? fs::path(".") : dir, ec);
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (!cleaned.insert(ec ? dir : key).second) return;
  }
  remove_stale_temporaries(dir);
}

}  // namespace

fs::path temporary_beside(const fs::path& file) {
  static std::atomic<unsigned long> counter{0};
  return file.parent_path() / ("." + file.stem().string() + ".tmp-" + std::to_string(::getpid()) +
                               "-" + std::to_string(counter++) + file.extension().string());
}

void replace_with(const fs::path& tmp, const fs::path& file, const std::string& what) {
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw write_error(file, what, reason(err));
  }
  remove_stale_temporaries_once(file.parent_path());
}

void write_file_atomically(const fs::path& file, const std::string& what,
                           const std::function<void(std::ostream&)>& body) {
  const fs::path tmp = temporary_beside(file);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw write_error(file, what, reason(errno));
  FdBuffer buffer(fd);
  int err = 0;
  try {
    std::ostream out(&buffer);
    body(out);
    out.flush();
    err = buffer.error() ? buffer.error() : out ? 0 : EIO;
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    if (buffer.error()) throw write_error(file, what, reason(buffer.error()));
    throw;
  }
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw write_error(file, what, reason(err));
  }
  replace_with(tmp, file, what);
}

void write_file_atomically(const fs::path& file, const std::string& what, std::string_view bytes) {
  write_file_atomically(file, what, [&](std::ostream& out) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  });
}

void create_folder(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  if (dir.empty() || fs::is_directory(dir, ec)) return;
  if (fs::exists(dir, ec))
    throw input_error(dir.string() + ": cannot create " + what + ": a file is in the way");
  fs::create_directories(dir, ec);
  if (ec) throw input_error(dir.string() + ": cannot create " + what + ": " + ec.message());
}

FolderLock::FolderLock(const fs::path& dir) {
  fd_ = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ >= 0)
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);
}

AppendFile::AppendFile(const fs::path& file, std::string what, bool append)
    : file_(file), what_(std::move(what)) {
  fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
  if (fd_ < 0) throw write_error(file_, what_, reason(errno));
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::write(std::string_view text) {
  if (const int err = write_all(fd_, text.data(), text.size()))
    throw write_error(file_, what_, reason(err));
}

}  // namespace faceid
