#pragma once
// The owner's photos as capture sessions (docs/design.md §10): which photos are held out for
// validation and calibration, and which photos are duplicates of each other. A new day is what
// the owner will meet, so with two or more sessions whole sessions are held out; duplicates
// (byte-identical files, or near-identical frames of a webcam capture) always land on the same
// side. Plain C++: no tensors, no OpenCV.
//
//   std::vector<OwnerPhoto> photos = ...;  // chip id, session, hashes
//   const auto groups = duplicate_groups(photos, kNearDuplicateBits);
//   const OwnerSplit split = split_owner_photos(photos, groups, session_count, 0.15, seed);

#include <cstdint>
#include <string>
#include <vector>

namespace faceid {

/// One owner photo with a face.
struct OwnerPhoto {
  int chip = 0;                 ///< row in the face set's chip tensor
  int session = 0;              ///< index of its capture session (0-based)
  std::uint64_t file_hash = 0;  ///< hash of the file's bytes (byte-identical copies share it)
  std::uint64_t chip_hash = 0;  ///< chip_dhash of its aligned chip
};

/// Chips whose difference hashes differ in at most this many of 64 bits are "near-identical"
/// (the same frame re-encoded or a neighbouring webcam frame; see docs/owner-and-sessions.md).
constexpr int kNearDuplicateBits = 4;

/// A 64-bit difference hash of an aligned RGB chip (chip_size x chip_size x 3 bytes, row-major):
/// the gray chip averaged into 9x8 blocks, one bit per block brighter than its right neighbour.
/// Insensitive to re-encoding, small brightness changes and resizing; different faces or poses
/// differ in many bits. Throws Error(Internal) when `rgb` does not hold chip_size^2 x 3 bytes.
std::uint64_t chip_dhash(const std::vector<std::uint8_t>& rgb, int chip_size);

/// Number of differing bits.
int hamming_distance(std::uint64_t a, std::uint64_t b);

/// 64-bit FNV-1a of a file's bytes. Throws Error(Input) when it cannot be read.
std::uint64_t file_content_hash(const std::string& path);

/// Groups of duplicates: photos with the same file hash, or chip hashes within `max_bits`, are in
/// one group (transitively). Returns one group id per photo, numbered 0.. in order of first
/// appearance; a photo without duplicates has a group of its own.
std::vector<int> duplicate_groups(const std::vector<OwnerPhoto>& photos,
                                  int max_bits = kNearDuplicateBits);

/// Which owner photos train and which are held out (validation pairs and calibration).
struct OwnerSplit {
  std::vector<int> train;              ///< chip ids, sorted
  std::vector<int> val;                ///< chip ids, sorted
  std::vector<int> held_out_sessions;  ///< sessions held out whole (empty: split by photo)
  bool by_session = false;
  std::size_t duplicate_groups = 0;  ///< groups of 2+ photos
  std::size_t duplicate_photos = 0;  ///< photos in those groups
  std::size_t moved_to_train =
      0;  ///< held-out-session photos kept in training: duplicates of training photos
};

/// With two or more sessions (among the photos), whole sessions are held out: the last session,
/// then the one before, ... while fewer than `val_fraction` of the photos are held out, always
/// keeping one session for training. A held-out photo that duplicates a training photo (another
/// session) goes to training instead. With one session, duplicate groups (never single photos)
/// are split at random (seeded) so that round(val_fraction x photos) are held out, about.
/// `groups` is duplicate_groups(photos). val_fraction 0 holds out nothing. Throws Error(Usage) for
/// val_fraction outside [0, 1) or a groups vector of the wrong size.
OwnerSplit split_owner_photos(const std::vector<OwnerPhoto>& photos, const std::vector<int>& groups,
                              double val_fraction, std::uint64_t seed);

}  // namespace faceid
