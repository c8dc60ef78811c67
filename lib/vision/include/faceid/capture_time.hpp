#pragma once
// When a photo was taken (docs/enrol.md): the EXIF DateTimeOriginal tag, read with libexif, else
// the file's modification time, said so.

#include <ctime>
#include <filesystem>
#include <string>

namespace faceid {

struct CaptureTime {
  std::string taken;  ///< "YYYY-MM-DD HH:MM:SS" (EXIF: the camera's local time; file time: local)
  std::string from;   ///< "exif" or "file time"; empty (and `taken` empty) when neither is known
};

/// The capture time of `file`. Never throws: a file without EXIF (PNG, a webcam JPEG) or with an
/// unusable date falls back to its modification time; a missing file gives an empty result.
CaptureTime capture_time(const std::filesystem::path& file);

/// `t` as this machine's local time, "YYYY-MM-DD HH:MM:SS".
std::string local_time(std::time_t t);

/// EXIF's "YYYY:MM:DD HH:MM:SS" as "YYYY-MM-DD HH:MM:SS", or "" when it is not a plausible date
/// (cameras write "0000:00:00 00:00:00" or blanks when their clock is unset).
std::string exif_date(const std::string& value);

}  // namespace faceid
