#pragma once
// Enrolment from a photo library (docs/enrol.md): the owner's faces found among every face of a
// library nobody labelled, grouped by capture day, for review; confirmed, they become training
// sessions and references.
//
//   Verifier verifier("models/me");
//   Proposal p = propose_enrolment(verifier, {"/home/me/Pictures", "my_seeds",
//   default_cache_dir()}); write_image("day.png", day_sheet(p, p.days.front()));           //
//   review Enrolment e = confirm_enrolment(p, ticked_faces, "enrolled");   // writes, after review
//   undo_enrolment("enrolled");                                     // and back
//
// 1. Every photo of the library (recursive; JPEG, PNG, ...; EXIF orientation honoured) is decoded
//    and every face detected once: the face index (io/face_index.hpp) remembers the boxes and the
//    capture time per file, and the embedding cache each face's embedding per model, so that a
//    second run over a grown library only does the new photos. Unreadable photos are skipped and
//    counted (so is a photo gone or changed since it was indexed, when it must be read again).
// 2. The seeds (a few photos of the owner) are the verifier's references: each face gets the
//    verifier's rule against them (the match share), fitted for EnrolOptions::target_far on the
//    bundle's held-out strangers (a bundle without them keeps its own threshold, said in a
//    warning).
// 3. The faces are grouped into people by the model's score of every pair (score/cluster.hpp).
//    A group is the owner's when most of its faces pass the rule against the seeds: the group
//    carries the owner to the days the seeds do not show.
// 4. The owner's faces (one per photo: the best-scoring) are proposed by capture day.
// Everything stays on this machine; the library is only read.

#include <array>
#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <opencv2/core/mat.hpp>

#include "faceid/error.hpp"
#include "faceid/face_pipeline.hpp"

namespace faceid {

class Verifier;

struct EnrolOptions {
  std::filesystem::path library;    ///< the photo library (read only)
  std::filesystem::path seeds;      ///< a few photos of the owner (the largest face of each)
  std::filesystem::path cache_dir;  ///< the face index and the embeddings (default_cache_dir())
  int threads = 2;
  std::string method = "average";  ///< "average" or "whispers" (score/cluster.hpp; docs/enrol.md)
  /// Two faces are neighbours above this score; unset: the verifier's detection threshold once
  /// fitted to the seeds (a face matches a reference above it; calibrated for the bundle's target
  /// FAR on its held-out strangers).
  std::optional<float> cut;
  /// The false-accept rate the rule against the seeds is fitted for (on the bundle's held-out
  /// strangers): lower than faceverify's, a library holding thousands of other faces and a wrong
  /// face enrolled doing more harm than a missing one (docs/enrol.md).
  double target_far = 1e-4;
  Progress progress;  ///< detection progress (photos done, photos)
  /// When it turns true the scan stops after the photos under way: what was detected is kept in
  /// the face index (the next run carries on) and propose_enrolment throws ScanStopped.
  const std::atomic<bool>* stop = nullptr;
};

/// A scan stopped by EnrolOptions::stop.
class ScanStopped : public Error {
 public:
  using Error::Error;
};

/// What going through the library did.
struct LibraryScan {
  std::size_t photos = 0, detected = 0, from_cache = 0, unreadable = 0, no_face = 0, faces = 0;
  std::size_t embedded = 0;  ///< faces embedded now (the others came from the cache)
  std::vector<std::string> unreadable_files;  ///< "file: why"
  double detect_seconds = 0, embed_seconds = 0, cluster_seconds = 0;
};

/// One face of the library.
struct LibraryFace {
  std::string file;  ///< the photo, absolute path
  int index = 0;     ///< the face's place in its photo, largest first
  std::array<float, 4> box{};
  std::string taken, taken_from;  ///< capture_time.hpp
  std::string day;                ///< "YYYY-MM-DD" or "unknown"
  int group = 0;                  ///< its group of faces (0 = the largest)
  float score = 0;                ///< the rule's value against the seeds (match share or P(owner))
  bool matches = false;           ///< passes the rule against the seeds
};

/// A group of faces taken for one person.
struct FaceGroup {
  int id = 0;
  std::vector<int> faces;  ///< into Proposal::faces, best score first
  float score = 0;         ///< the mean score of its faces against the seeds
  float matching = 0;      ///< the share of its faces that pass the rule
  bool owner = false;
};

/// The owner's proposed faces of one capture day.
struct OwnerDay {
  std::string day;
  std::string taken_from;  ///< "exif", "file time" or "exif and file time"
  std::vector<int> faces;  ///< into Proposal::faces, best score first
};

struct Proposal {
  std::string library, seeds, model, rule, method;
  float cut = 0;
  std::size_t seed_faces = 0;
  LibraryScan scan;
  std::vector<LibraryFace> faces;
  std::vector<FaceGroup> groups;  ///< largest first
  std::vector<OwnerDay> days;     ///< the owner's, oldest first
  std::size_t owner_faces() const;
};

/// Goes through the library and proposes the owner's faces. Throws Error(Usage) when the seeds
/// folder holds no photo, Error(Input) when the library or seeds folder is missing, the library
/// holds no photo or no seed photo has a face, ScanStopped when options.stop turned true.
Proposal propose_enrolment(Verifier& verifier, const EnrolOptions& options);

/// The proposal as JSON (faceenroll's proposal.json, faceserve's /api/enrol) and back. Reading
/// throws Error(Input) for a document that is not a proposal.
nlohmann::json proposal_json(const Proposal& proposal);
Proposal proposal_from_json(const nlohmann::json& j);

/// The face in its photo with a margin of `margin` times its size on each side, square where the
/// photo allows: what a training session or a reference needs. Throws Error(Input) when the photo
/// cannot be read.
cv::Mat face_crop(const LibraryFace& face, double margin = 0.6);

/// A contact sheet of a day's proposed faces: thumbnails of `thumb` px, each with its score, and
/// the day and count on top.
cv::Mat day_sheet(const Proposal& proposal, const OwnerDay& day, int thumb = 112);

/// What confirm_enrolment wrote.
struct Enrolment {
  std::filesystem::path into;
  std::vector<std::string> files;  ///< relative to `into`, the manifest last
  std::size_t faces = 0, days = 0, references = 0;
  std::size_t negatives = 0;  ///< faces of other people written under negatives/
};

/// Writes the ticked faces (ids into proposal.faces, each one of the owner's proposed faces): one
/// folder per day, `into`/<day>/ (for facetrain --self DIR... sessions), and
/// `into`/references/<day>/ with up to `references_per_day` best-scoring faces of each day
/// (faceverify's references, one capture session per day), and the manifest `into`/enrolment.json
/// that undo_enrolment reads. `negatives`: ids of other people's groups (a partner, a child, a
/// look-alike) whose faces go to `into`/negatives/person-<id>/, one folder per person, for
/// facetrain --negatives. Throws Error(Usage) for a face id that is not proposed, a group that is
/// not another person's, no face ticked, or an `into` that holds an enrolment already;
/// Error(Input) when a photo cannot be read or a file written (what was written is removed).
Enrolment confirm_enrolment(const Proposal& proposal, const std::vector<int>& ticked,
                            const std::filesystem::path& into, int references_per_day = 10,
                            const std::vector<int>& negatives = {});

/// Throws Error(Usage) when `into` is the library or a folder inside it (symbolic links resolved):
/// the library is only read.
void require_outside_library(const std::filesystem::path& library,
                             const std::filesystem::path& into);

/// Removes exactly the files a confirmed enrolment wrote into `into` (and the folders it left
/// empty); returns how many. Throws Error(Input) when `into` holds no enrolment.
std::size_t undo_enrolment(const std::filesystem::path& into);

/// The manifest's name inside an enrolment folder.
inline constexpr const char* kEnrolmentManifest = "enrolment.json";

}  // namespace faceid
