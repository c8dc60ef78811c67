#pragma once
// Decoding an image file into what the rest of the vision layer expects: 8-bit BGR, upright.

#include <cstdint>
#include <filesystem>
#include <string>

#include <opencv2/core/mat.hpp>

namespace faceid {

struct ImageLimits {
  /// Images with more pixels are refused before decoding (decompression bombs).
  std::int64_t max_pixels = 100'000'000;
};

/// Reads `file` as CV_8UC3 BGR: EXIF orientation applied, gray / RGBA / 16-bit normalised.
/// Throws Error(Input) naming the file for: a missing or unreadable file, a zero-byte file, a
/// file of 2^31 bytes or more (refused before reading), a corrupt PNG header, a truncated JPEG,
/// bytes of no format faceid reads or that no decoder understands, or more than `limits.max_pixels`
/// pixels.
cv::Mat read_image(const std::filesystem::path& file, const ImageLimits& limits = {});

/// Decodes encoded image bytes held in memory exactly as read_image() decodes a file, with the
/// same checks before decoding; `name` (e.g. an upload's file name) goes into the messages.
/// Throws Error(Input) for empty bytes, 2^31 bytes or more, a corrupt PNG header, a truncated
/// JPEG, undecodable bytes or too many pixels.
cv::Mat decode_image(const std::uint8_t* data, std::size_t size, const std::string& name,
                     const ImageLimits& limits = {});

/// Width and height from a JPEG or PNG header without decoding, or {0, 0} when unknown.
/// Throws Error(Input) (a message without a file name: callers prefix theirs) for a PNG header
/// no real picture has: a first chunk other than IHDR, or a width or height of 0 or above
/// 2^31-1 (the PNG limit).
cv::Size sniff_image_size(const std::uint8_t* data, std::size_t size);

/// True for JPEG bytes whose last scan has no end-of-image marker after it (cut short).
bool jpeg_is_truncated(const std::uint8_t* data, std::size_t size);

}  // namespace faceid
