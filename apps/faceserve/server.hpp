#pragma once
// faceserve's HTTP server (docs/design.md §10): one process holds the model and the owner's cached
// reference embeddings and answers
//
//   GET  /             the page (embedded in the binary: no CDN, works offline)
//   POST /api/verify   an image (multipart field "image", or the raw body) -> faceverify's JSON
//                      for one image; ?annotated=jpeg|png -> the annotated picture instead;
//                      ?embed=jpeg|png -> the JSON with the annotated picture as a data: URL
//   GET  /api/model    model, architecture, training date, thresholds, references, limits
//   POST /api/reload   reloads the model bundle and the references (through the caches)
//   GET  /healthz      liveness and load
//
// With --library (and --seeds), the "Find me in my photos" view (enrol_view.hpp, faceid/enrol.hpp):
// the library is gone through in the background after start-up, and
//
//   GET  /api/enrol               {"state": "scanning", "done", "total"} while it runs;
//                                 {"state": "error", "error"} when it failed (no face in the
//                                 seeds, ...); {"state": "ready", "proposal": proposal_json,
//                                 "enrolled": whether --enrol-into holds an enrolment, "into"}
//   GET  /api/enrol/face/<id>.jpg the thumbnail of proposal.faces[id] (JPEG, ~128 px)
//   POST /api/enrol/confirm       {"faces": [ids]} -> writes the ticked faces into --enrol-into:
//                                 {"written": files, "faces", "days", "references", "into",
//                                 "files"}
//   POST /api/enrol/undo          removes what the confirm wrote: {"removed": files}
//
// Both writes take Content-Type application/json only (415 otherwise: a form of another site
// cannot post them). Nothing is written before a confirm but the caches (the library's face index
// and embeddings), and never into the library. Without --library these answer 404.
//
// Errors are JSON {"error": "one line"} with 400 (bad request; a face id that is not proposed),
// 404 (unknown path or face id), 409 (the proposal is not ready, an enrolment is there already,
// nothing to undo), 413 (upload or pixel count too large), 415 (not a JPEG or PNG), 422
// (truncated or undecodable picture, reload failed, a library photo or an enrolment file that
// cannot be read or written), 503 with Retry-After (every worker busy and the queue full). A
// picture without a face is a 200 with an empty face list and "message": "no face found".

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "faceid/verifier.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace faceid::serve {

class EnrolView;

struct ServeOptions {
  std::string model = "models/me", refs = "verification_data";
  std::string host = "127.0.0.1";
  int port = 8080;  ///< 0 = any free port
  int workers = 2;  ///< requests processed at once (the model itself runs one picture at a time)
  int queue = 8;    ///< requests waiting for a worker; beyond: 503
  double max_upload_mb = 20;
  double max_megapixels = 50;
  int timeout_s = 10;    ///< socket read and write timeouts
  std::string save_dir;  ///< when set, every upload and its JSON are kept here
  std::optional<float> threshold, ratio;
  std::optional<int> min_face;  ///< the unsure verdict's limits (unset: the model's)
  std::optional<float> min_sharpness;
  std::string device = "auto";
  int threads = 0;  ///< LibTorch/OpenCV threads (0 = all cores)
  std::string yunet_model, cache_dir;
  /// The "Find me in my photos" view: off without a library.
  std::string library, seeds, enrol_into = "enrolled";
  std::string cluster = "average";  ///< "average" or "whispers" (faceid/enrol.hpp)
};

/// Admission control for the expensive endpoint: `workers` requests run, `queue` more wait,
/// the rest are refused at once.
class Gate {
 public:
  Gate(int workers, int queue) : workers_(workers), queue_(queue) {}
  /// Waits for a worker; false (without waiting) when the queue is full.
  bool enter();
  void leave();
  int running() const;
  int waiting() const;

 private:
  const int workers_, queue_;
  mutable std::mutex mutex_;
  std::condition_variable free_;
  int running_ = 0, waiting_ = 0;
};

/// The model and references one request uses; replaced whole by a reload.
struct Engine {
  std::unique_ptr<Verifier> verifier;
  ReferenceReport references;
  std::string loaded_at;
  std::mutex mutex;  ///< the detector and the net serve one picture at a time
};

class FaceServer {
 public:
  /// Loads the model and the references. Throws faceid::Error like faceverify.
  explicit FaceServer(ServeOptions options);
  ~FaceServer();

  /// Binds host:port; returns the port (the chosen one for port 0). Throws Error(Usage) when the
  /// address cannot be bound.
  int bind();
  /// Starts the library scan (with --library), then serves until stop(); requests in flight are
  /// finished before it returns.
  void run();
  /// Stops accepting connections (callable from another thread); a library scan under way is
  /// finished when the server is destroyed.
  void stop();

 private:
  /// A verifier of the model with the thresholds of the flags.
  std::unique_ptr<Verifier> make_verifier() const;
  std::shared_ptr<Engine> load_engine() const;
  std::shared_ptr<Engine> engine() const;
  /// Limits, timeouts, the pre-routing, error and exception handlers, the access log.
  void set_up_http();
  /// The pages and the API (set_up_http first).
  void routes();
  void verify(const httplib::Request& req, httplib::Response& res);
  void reload(httplib::Response& res);
  /// The enrolment routes (404 without --library).
  void enrol_routes();
  EnrolView& enrol_view() const;
  nlohmann::json model_json(const Engine& engine) const;
  void save_upload(const std::string& bytes, const std::string& name, const nlohmann::json& result);

  ServeOptions o_;
  std::unique_ptr<httplib::Server> http_;
  Gate gate_;
  mutable std::mutex engine_mutex_;
  std::shared_ptr<Engine> engine_;
  std::mutex reload_mutex_;
  std::atomic<std::uint64_t> served_{0}, saved_{0};
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<EnrolView> enrol_;  ///< last: its scan thread ends before the rest goes
};

}  // namespace faceid::serve
