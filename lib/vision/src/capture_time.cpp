#include "faceid/capture_time.hpp"

#include <sys/stat.h>

#include <cctype>
#include <ctime>

#include <libexif/exif-data.h>

namespace fs = std::filesystem;

namespace faceid {
namespace {

std::string exif_original_date(const fs::path& file) {
  ExifData* data = exif_data_new_from_file(file.c_str());
  if (!data) return {};
  std::string value;
  if (ExifEntry* entry =
          exif_content_get_entry(data->ifd[EXIF_IFD_EXIF], EXIF_TAG_DATE_TIME_ORIGINAL);
      entry && entry->format == EXIF_FORMAT_ASCII && entry->data && entry->size > 0) {
    value.assign(reinterpret_cast<const char*>(entry->data), entry->size);
    value = value.c_str();  // up to the terminating NUL
  }
  exif_data_unref(data);
  return value;
}

std::string file_time(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return {};
  return local_time(st.st_mtime);
}

}  // namespace

std::string local_time(std::time_t t) {
  std::tm local{};
  if (!localtime_r(&t, &local)) return {};
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

std::string exif_date(const std::string& value) {
  // "YYYY:MM:DD HH:MM:SS"
  if (value.size() < 19) return {};
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
    if (!std::isdigit(static_cast<unsigned char>(value[i]))) return {};
  if (value[4] != ':' || value[7] != ':' || value[10] != ' ' || value[13] != ':' ||
      value[16] != ':')
    return {};
  const int year = std::stoi(value.substr(0, 4)), month = std::stoi(value.substr(5, 2)),
            day = std::stoi(value.substr(8, 2));
  if (year < 1826 || month < 1 || month > 12 || day < 1 || day > 31) return {};
  std::string out = value.substr(0, 19);
  out[4] = out[7] = '-';
  return out;
}

CaptureTime capture_time(const fs::path& file) {
  if (std::string taken = exif_date(exif_original_date(file)); !taken.empty())
    return {std::move(taken), "exif"};
  std::string taken = file_time(file);
  if (taken.empty()) return {};
  return {std::move(taken), "file time"};
}

}  // namespace faceid
