#pragma once
// The one write path for every file faceid writes (reports, CSV, charts, annotated images, caches,
// checkpoints, bundles; docs/robustness.md "Write errors"). A file is written whole or not at all:
// into a temporary beside it, checked, then renamed over it, so that a reader, a second writer or a
// process killed half-way never sees (or leaves) half a file under the final name.
//
// Every failure is one Error(Input), exit code 3: "<file>: cannot write <what>: <reason>", e.g.
// "out/report.json: cannot write the report: File too large". No fsync: the promise covers a
// killed or failing process (full disk, file-size limit, read-only folder), not a power cut.
//
// Temporaries are named `.<stem>.tmp-<pid>-<n><extension>` (hidden, unique per process and write,
// extension kept for writers that choose a format by it). One left by a killed process is ignored
// by every reader and removed by the first successful write into its folder of a later process
// (when its process is gone; pids are those of this machine). Each process scans a folder once.

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace faceid {

/// Writes `file` atomically from what `body` writes into the stream; its folder must exist
/// (create_folder). Throws Error(Input) as above and removes the temporary; an exception thrown by
/// `body` itself is passed on (temporary removed), unless the stream had already failed to write,
/// which is reported as the write error.
void write_file_atomically(const std::filesystem::path& file, const std::string& what,
                           const std::function<void(std::ostream&)>& body);

/// Writes `bytes` to `file` atomically (same contract).
void write_file_atomically(const std::filesystem::path& file, const std::string& what,
                           std::string_view bytes);

/// A new unique temporary name beside `file` (not created), for writers that need a path of
/// their own (the video writer). Finish with replace_with() or remove it.
std::filesystem::path temporary_beside(const std::filesystem::path& file);

/// Renames the finished temporary `tmp` (from temporary_beside) over `file`, then, on this
/// process's first write into that folder, removes the temporaries there of processes that are
/// gone. On failure removes `tmp` and throws Error(Input) "<file>: cannot write <what>: <reason>".
void replace_with(const std::filesystem::path& tmp, const std::filesystem::path& file,
                  const std::string& what);

/// Creates `dir` and its parents unless it is a folder already. Throws Error(Input)
/// "<dir>: cannot create <what>: <reason>" (read-only parent, a file where a folder should be).
void create_folder(const std::filesystem::path& dir, const std::string& what);

/// An exclusive lock (flock) of a folder for this object's lifetime, for updates that read, merge
/// and write back a file several processes share (the face cache). Advisory: only processes that
/// take it wait for each other. When the folder cannot be opened, nothing is locked.
class FolderLock {
 public:
  explicit FolderLock(const std::filesystem::path& dir);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

/// A file that grows during a run (metrics.csv, a log): each write() goes to the file at once and
/// is checked. Not atomic: after a kill it holds the lines written so far.
class AppendFile {
 public:
  /// Opens for appending, or truncated when `append` is false.
  /// Throws Error(Input) "<file>: cannot write <what>: <reason>".
  AppendFile(const std::filesystem::path& file, std::string what, bool append);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  /// Appends `text`. Throws Error(Input) as above when it cannot be written whole.
  void write(std::string_view text);
  const std::filesystem::path& path() const { return file_; }

 private:
  std::filesystem::path file_;
  std::string what_;
  int fd_ = -1;
};

}  // namespace faceid
