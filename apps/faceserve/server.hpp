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
// Errors are JSON {"error": "one line"} with 400 (bad request), 413 (upload or pixel count too
// large), 415 (not a JPEG or PNG), 422 (truncated or undecodable picture, reload failed), 503
// with Retry-After (every worker busy and the queue full). A picture without a face is a 200
// with an empty face list and "message": "no face found".

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
  /// Serves until stop(); requests in flight are finished before it returns.
  void run();
  /// Stops accepting connections (callable from another thread).
  void stop();

 private:
  std::shared_ptr<Engine> load_engine() const;
  std::shared_ptr<Engine> engine() const;
  /// Limits, timeouts, the pre-routing, error and exception handlers, the access log.
  void set_up_http();
  /// The pages and the API (set_up_http first).
  void routes();
  void verify(const httplib::Request& req, httplib::Response& res);
  void reload(httplib::Response& res);
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
};

}  // namespace faceid::serve
