#pragma once
// Where face images come from: an LFW-style root (<Person>/<file>) and flat folders of photos
// (the owner's). Only lists files; decoding is the vision layer's job (image.hpp).

#include <filesystem>
#include <string>
#include <vector>

namespace faceid {

/// One identity of an LFW-style root and its image files, sorted by name.
struct Person {
  std::string name;
  std::vector<std::filesystem::path> images;
};

/// True when the file name ends in an image extension we decode (jpg, jpeg, png, bmp, webp,
/// tif, tiff, pgm, ppm; case-insensitive).
bool has_image_extension(const std::filesystem::path& file);

/// The image files directly inside `dir`, sorted. Other files are ignored; sub-folders too.
/// Throws Error(Input) when `dir` does not exist or is not a folder. May return an empty list.
std::vector<std::filesystem::path> list_images(const std::filesystem::path& dir);

/// The image files inside `dir` and all its sub-folders (a photo library), sorted; hidden files
/// and folders (".*") are left out, links to files followed, links to folders not. Throws
/// Error(Input) when `dir` does not exist or is not a folder. May return an empty list.
std::vector<std::filesystem::path> list_images_recursive(const std::filesystem::path& dir);

/// The sub-folders directly inside `dir` (hidden ones, named ".*", left out), sorted. Throws
/// Error(Input) when `dir` does not exist or is not a folder. May return an empty list.
std::vector<std::filesystem::path> list_subfolders(const std::filesystem::path& dir);

/// Every sub-folder of `root` that holds at least one image, as a Person, sorted by name.
/// Throws Error(Input) when `root` is not a folder or holds no person.
std::vector<Person> scan_people(const std::filesystem::path& root);

/// LFW's file naming: `root/Name/Name_0003.jpg` for (Name, 3). Indices are 1-based.
std::filesystem::path lfw_image_path(const std::filesystem::path& root, const std::string& name,
                                     int index);

/// The data folder: $FACEID_DATA, else `../shared/data` (relative to the working directory).
std::filesystem::path data_dir();

}  // namespace faceid
