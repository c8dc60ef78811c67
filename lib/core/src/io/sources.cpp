#include "faceid/io/sources.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "faceid/error.hpp"

namespace fs = std::filesystem;

namespace faceid {

bool has_image_extension(const fs::path& file) {
  static const std::array<const char*, 10> kExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".webp",
                                                          ".tif", ".tiff", ".pgm", ".ppm", ".jpe"};
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

static void require_folder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw input_error(dir.string() + ": no such folder");
  if (!fs::is_directory(dir, ec)) throw input_error(dir.string() + ": not a folder");
}

std::vector<fs::path> list_images(const fs::path& dir) {
  require_folder(dir);
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code entry_ec;  // a broken link is skipped, not an error of the folder
    if (entry.is_regular_file(entry_ec) && has_image_extension(entry.path()))
      files.push_back(entry.path());
  }
  if (ec) throw input_error(dir.string() + ": cannot list folder: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<fs::path> list_images_recursive(const fs::path& dir) {
  require_folder(dir);
  std::vector<fs::path> files;
  std::error_code ec;
  // Links to folders are not followed: a loop would never end, and a link to a folder of the
  // library would list its photos twice.
  const auto options = fs::directory_options::skip_permission_denied;
  for (auto it = fs::recursive_directory_iterator(dir, options, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const bool hidden = it->path().filename().string().rfind('.', 0) == 0;
    std::error_code entry_ec;
    if (hidden && it->is_directory(entry_ec)) it.disable_recursion_pending();
    if (!hidden && it->is_regular_file(entry_ec) && has_image_extension(it->path()))
      files.push_back(it->path());
  }
  if (ec) throw input_error(dir.string() + ": cannot list folder: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<fs::path> list_subfolders(const fs::path& dir) {
  require_folder(dir);
  std::vector<fs::path> folders;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code entry_ec;
    if (entry.is_directory(entry_ec) && entry.path().filename().string().rfind('.', 0) != 0)
      folders.push_back(entry.path());
  }
  if (ec) throw input_error(dir.string() + ": cannot list folder: " + ec.message());
  std::sort(folders.begin(), folders.end());
  return folders;
}

std::vector<Person> scan_people(const fs::path& root) {
  std::vector<Person> people;
  for (const auto& folder : list_subfolders(root)) {
    Person person{folder.filename().string(), list_images(folder)};
    if (!person.images.empty()) people.push_back(std::move(person));
  }
  if (people.empty())
    throw input_error(root.string() +
                      ": no person folders with images (expected <Person>/<image>)");
  return people;
}

fs::path lfw_image_path(const fs::path& root, const std::string& name, int index) {
  char file[32];
  std::snprintf(file, sizeof file, "_%04d.jpg", index);
  return root / name / (name + file);
}

fs::path data_dir() {
  if (const char* env = std::getenv("FACEID_DATA"); env && *env) return env;
  return fs::path("..") / "shared" / "data";
}

}  // namespace faceid
