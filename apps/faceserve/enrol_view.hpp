#pragma once
// faceserve's "Find me in my photos" view (faceid/enrol.hpp): a background thread goes through the
// photo library once after start-up and proposes the owner's faces; the page reviews them, and
// confirming writes the ticked ones into the enrolment folder (undo removes them). Nothing is
// written before a confirm (but the caches), and never into the library.
//
// The view answers in JSON and throws HttpError with the status the client should get; the server
// turns both into responses (server.cpp).

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "faceid/enrol.hpp"
#include "faceid/verifier.hpp"

namespace faceid::serve {

/// A refusal with its HTTP status; the message is the one line the client sees.
struct HttpError {
  int status;
  std::string message;
};

struct EnrolViewOptions {
  std::filesystem::path library, seeds;  ///< the photo library (only read) and the owner's seeds
  std::filesystem::path into = "enrolled";
  std::string cluster = "average";  ///< "average" or "whispers"
  std::filesystem::path cache_dir;  ///< the face index and the embeddings per model
  int threads = 2;
};

class EnrolView {
 public:
  /// `make_verifier` builds the scan's own verifier (in the scan thread: the model loads there).
  using MakeVerifier = std::function<std::unique_ptr<Verifier>()>;

  /// Checks the folders (Error(Usage): --enrol-into inside the library); starts nothing.
  EnrolView(EnrolViewOptions options, MakeVerifier make_verifier);
  /// Stops a scan under way after the photos it is on (the face index keeps what it detected).
  ~EnrolView();

  /// Starts the scan in the background (once).
  void start();

  /// GET /api/enrol: {"state": "scanning", "done", "total"}, {"state": "error", "error"} or
  /// {"state": "ready", "proposal", "enrolled", "into"}.
  nlohmann::json state() const;
  /// GET /api/enrol/face/<id>.jpg: the face's thumbnail (JPEG, ~128 px). HttpError 404 for an
  /// id that is not a face of the proposal, 409 before the proposal is ready, 422 when the photo
  /// cannot be read any more.
  std::string thumbnail(const std::string& id);
  /// POST /api/enrol/confirm with {"faces": [ids], "negatives": [group ids] (optional)}:
  /// confirm_enrolment's answer as JSON. HttpError 400 for a body that is not such a list or an id
  /// that is not proposed, 409 when an enrolment is already there (or no proposal yet), 422 when a
  /// photo or a file fails.
  nlohmann::json confirm(const std::string& body);
  /// POST /api/enrol/undo: {"removed": n}; HttpError 409 when there is nothing to undo.
  nlohmann::json undo();

 private:
  enum class Phase { Waiting, Scanning, Error, Ready };
  void scan(const MakeVerifier& make_verifier);
  std::shared_ptr<const Proposal> ready() const;
  bool enrolled() const;

  const EnrolViewOptions o_;
  MakeVerifier make_verifier_;
  std::thread thread_;
  std::atomic<std::size_t> done_{0}, total_{0};
  std::atomic<bool> stop_{false};

  mutable std::mutex mutex_;  ///< guards the three below
  Phase phase_ = Phase::Waiting;
  std::string error_;
  std::shared_ptr<const Proposal> proposal_;
  std::shared_ptr<const nlohmann::json> proposal_json_;  ///< computed once

  std::mutex write_mutex_;  ///< one confirm or undo at a time
  std::mutex thumbs_mutex_;
  std::map<std::size_t, std::string> thumbs_;  ///< encoded thumbnails, by face id
  std::size_t thumb_bytes_ = 0;
};

}  // namespace faceid::serve
