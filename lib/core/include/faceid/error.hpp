#pragma once
// The one exception type of the faceid library and the exit codes of the tools (docs/design.md §9).

#include <stdexcept>
#include <string>

namespace faceid {

/// What went wrong, which is also what the tools exit with.
enum class ErrorKind {
  Usage = 2,     ///< a flag or argument is wrong
  Input = 3,     ///< an image, folder, pairs file or cache cannot be used
  Model = 4,     ///< a model bundle is missing, truncated, corrupt or mismatched
  Internal = 5,  ///< a bug or an unexpected failure inside a dependency
};

/// Thrown by everything in the library. `what()` is one line that names the file or value.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }
  /// The process exit code for this error (2..5).
  int exit_code() const noexcept { return static_cast<int>(kind_); }

 private:
  ErrorKind kind_;
};

/// Shorthands: `throw input_error(path + ": not an image")`.
inline Error usage_error(const std::string& m) { return Error(ErrorKind::Usage, m); }
inline Error input_error(const std::string& m) { return Error(ErrorKind::Input, m); }
inline Error model_error(const std::string& m) { return Error(ErrorKind::Model, m); }
inline Error internal_error(const std::string& m) { return Error(ErrorKind::Internal, m); }

}  // namespace faceid
