#include "server.hpp"

#include <ctime>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "../common/verdicts.hpp"
#include "enrol_view.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/io/face_cache.hpp"
#include "faceid/log.hpp"
#include "faceserve_page.hpp"  // kPage: page.html, generated at configure time

namespace fs = std::filesystem;

namespace faceid::serve {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void send_json(httplib::Response& res, const nlohmann::json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, {{"error", message}}, status);
}

// Runs a handler; its refusals and the library's errors become the JSON error answer.
template <typename Handler>
void answer(httplib::Response& res, Handler&& handler) {
  try {
    handler();
  } catch (const HttpError& e) {
    send_error(res, e.status, e.message);
  } catch (const Error& e) {
    send_error(res, e.kind() == ErrorKind::Input ? 422 : 500, e.what());
  }
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string base64(const std::vector<uchar>& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t n = (bytes[i] << 16) | (i + 1 < bytes.size() ? bytes[i + 1] << 8 : 0) |
                            (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

// The picture of a request: the multipart field "image" (else the first file), or the raw body.
struct Upload {
  const std::string* bytes;
  std::string name;
};

Upload upload_of(const httplib::Request& req) {
  if (!req.is_multipart_form_data()) return {&req.body, "upload"};
  auto it = req.files.find("image");
  if (it == req.files.end())
    for (it = req.files.begin(); it != req.files.end() && it->second.filename.empty(); ++it) {
    }
  if (it == req.files.end())
    throw HttpError{400,
                    "multipart upload without a file: send the picture as the field \"image\""};
  return {&it->second.content, it->second.filename.empty() ? "upload" : it->second.filename};
}

// The header checks of read_image, each with its own status, before anything is decoded.
void check_header(const std::string& bytes, const std::string& name, std::int64_t max_pixels) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  if (bytes.empty()) throw HttpError{400, name + ": empty upload (0 bytes)"};
  cv::Size size;
  try {
    size = sniff_image_size(data, bytes.size());
  } catch (const Error& e) {
    throw HttpError{422, name + ": " + e.what()};
  }
  if (size.width <= 0 || size.height <= 0)
    throw HttpError{415, name + ": not an image (faceserve reads JPEG and PNG)"};
  if (static_cast<std::int64_t>(size.width) * size.height > max_pixels)
    throw HttpError{
        413, fmt::format("{}: {}x{} pixels is too large (the limit is {:.0f} megapixels)", name,
                         size.width, size.height, max_pixels / 1e6)};
  if (jpeg_is_truncated(data, bytes.size()))
    throw HttpError{422, name + ": truncated JPEG (no end-of-image marker)"};
}

std::string format_of(const httplib::Request& req, const char* param) {
  if (!req.has_param(param)) return {};
  const std::string f = req.get_param_value(param);
  if (f != "jpeg" && f != "png")
    throw HttpError{400, fmt::format("?{}= takes jpeg or png, not '{}'", param, f)};
  return f;
}

// The start of the request a server thread is handling, for the log line.
thread_local Clock::time_point request_start;
thread_local bool request_routed = false;
// Set while the accepting thread answers a connection that found the pool's queue full.
thread_local bool shedding = false;

// cpp-httplib 0.11's own ThreadPool queues every accepted connection, without limit: a flood of
// connections (or idle keep-alive ones holding every thread) grows it without bound. This pool
// lets at most `max_queued` connections wait for a thread. Beyond that the connection is served
// on the accepting thread itself, with `shedding` set, which answers 503 at once: accepting
// pauses meanwhile (at most one read timeout) and the kernel's listen backlog holds the rest.
class BoundedPool : public httplib::TaskQueue {
 public:
  BoundedPool(int threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (jobs_.size() < max_queued_) {
        jobs_.push_back(std::move(fn));
        ready_.notify_one();
        return;
      }
    }
    shedding = true;
    fn();
    shedding = false;
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and every queued connection served
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  const std::size_t max_queued_;
  std::vector<std::thread> threads_;
  std::deque<std::function<void()>> jobs_;
  std::mutex mutex_;
  std::condition_variable ready_;
  bool stopping_ = false;
};

}  // namespace

bool Gate::enter() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (running_ >= workers_) {
    if (waiting_ >= queue_) return false;
    ++waiting_;
    free_.wait(lock, [&] { return running_ < workers_; });
    --waiting_;
  }
  ++running_;
  return true;
}

void Gate::leave() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
  }
  free_.notify_one();
}

int Gate::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

int Gate::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_;
}

FaceServer::FaceServer(ServeOptions options)
    : o_(std::move(options)),
      http_(std::make_unique<httplib::Server>()),
      gate_(o_.workers, o_.queue),
      started_(Clock::now()) {
  if (o_.workers < 1) throw usage_error("--workers must be at least 1");
  if (o_.queue < 0) throw usage_error("--queue must be 0 or more");
  if (!o_.save_dir.empty()) {
    create_folder(o_.save_dir, "the --save-dir folder");
  }
  if (!o_.library.empty()) {
    EnrolViewOptions enrol;
    enrol.library = o_.library;
    enrol.seeds = o_.seeds;
    enrol.into = o_.enrol_into;
    enrol.cluster = o_.cluster;
    enrol.cache_dir = o_.cache_dir.empty() ? default_cache_dir() : fs::path(o_.cache_dir);
    enrol.threads = std::max(1, o_.threads);
    enrol_ = std::make_unique<EnrolView>(std::move(enrol), [this] { return make_verifier(); });
  } else if (!o_.seeds.empty()) {
    throw usage_error("--seeds is for --library: the photo library to find the owner in");
  }
  engine_ = load_engine();
  routes();
}

FaceServer::~FaceServer() = default;

std::unique_ptr<Verifier> FaceServer::make_verifier() const {
  auto v = std::make_unique<Verifier>(o_.model, o_.device, o_.yunet_model);
  v->override_thresholds(o_.threshold, o_.ratio);
  cli::apply_unsure_options({o_.min_face, o_.min_sharpness}, v->thresholds());
  return v;
}

std::shared_ptr<Engine> FaceServer::load_engine() const {
  auto e = std::make_shared<Engine>();
  e->verifier = make_verifier();
  const fs::path cache = o_.cache_dir.empty() ? default_cache_dir() : fs::path(o_.cache_dir);
  e->references = e->verifier->prepare(o_.refs, cache, std::max(1, o_.threads));
  e->loaded_at = now_iso();
  return e;
}

std::shared_ptr<Engine> FaceServer::engine() const {
  std::lock_guard<std::mutex> lock(engine_mutex_);
  return engine_;
}

nlohmann::json FaceServer::model_json(const Engine& e) const {
  const LoadedBundle& b = e.verifier->bundle();
  nlohmann::json j = cli::model_header_json(o_.model, *e.verifier, o_.refs, e.references);
  j["thresholds"]["pair"] = e.verifier->thresholds().pair;
  j.update({{"name", fs::path(o_.model).filename().string()},
            {"architecture", b.info.model},
            {"checksum", b.checksum},
            {"trained_at", b.info.training.date},
            {"faceid_version", b.info.training.faceid_version},
            {"detector", b.info.preprocess.detector},
            {"loaded_at", e.loaded_at},
            {"limits",
             {{"max_upload_bytes", static_cast<std::size_t>(o_.max_upload_mb * 1024 * 1024)},
              {"max_pixels", static_cast<std::int64_t>(o_.max_megapixels * 1e6)},
              {"workers", o_.workers},
              {"queue", o_.queue}}}});
  if (b.is_owner()) j["from"] = b.info.owner.from;
  return j;
}

void FaceServer::set_up_http() {
  httplib::Server& s = *http_;
  // As many connections may wait for a server thread as there are threads; beyond that, 503.
  s.new_task_queue = [n = o_.workers + o_.queue + 4] {
    return new BoundedPool(n, static_cast<std::size_t>(n));
  };
  s.set_payload_max_length(static_cast<std::size_t>(o_.max_upload_mb * 1024 * 1024));
  s.set_read_timeout(o_.timeout_s, 0);
  s.set_write_timeout(o_.timeout_s, 0);
  // Headers and body leave in separate writes: without TCP_NODELAY, Nagle and the client's delayed
  // ACK add ~40 ms to every answer (measured: 60 -> 12 ms per picture for a single client).
  s.set_tcp_nodelay(true);
  s.set_keep_alive_timeout(5);
  s.set_keep_alive_max_count(1000);
  s.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}});

  s.set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
    request_start = Clock::now();
    request_routed = true;
    if (!shedding) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("Retry-After", "1");
    res.set_header("Connection", "close");
    send_error(res, 503,
               "busy: every server thread is taken and connections are waiting; retry in a second");
    return httplib::Server::HandlerResponse::Handled;
  });
  // Requests refused before routing (too large, malformed) get a JSON reason too.
  s.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    switch (res.status) {
      case 413:
        // httplib caps form-urlencoded bodies (curl --data-binary's default type) at 8 KB.
        if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0)
          send_error(res, 413,
                     "send the picture as multipart/form-data (field \"image\") or as a raw body "
                     "with Content-Type image/jpeg or image/png, not as a form-urlencoded body");
        else
          send_error(res, 413,
                     fmt::format("upload too large (the limit is {:g} MB)", o_.max_upload_mb));
        break;
      case 404:
        send_error(res, 404, "no such page: " + req.path);
        break;
      default:
        send_error(res, res.status, fmt::format("bad request ({})", res.status));
    }
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, 500, "internal error");
  });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const std::string ms =
        request_routed ? fmt::format("{:.1f} ms", ms_since(request_start)) : "- ms";
    request_routed = false;
    logger()->info("{} {} {} in={} out={} {}", req.method.empty() ? "-" : req.method,
                   req.path.empty() ? "-" : req.path, res.status, req.body.size(), res.body.size(),
                   ms);
  });
}

void FaceServer::routes() {
  set_up_http();
  httplib::Server& s = *http_;
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    // Everything the page needs is in it: no other origin may be contacted.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: "
                   "mediastream:; style-src 'unsafe-inline'; script-src 'unsafe-inline'");
    res.set_content(kPage, "text/html; charset=utf-8");
  });
  s.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"status", "ok"},
                    {"uptime_s", std::chrono::duration<double>(Clock::now() - started_).count()},
                    {"verified", served_.load()},
                    {"running", gate_.running()},
                    {"waiting", gate_.waiting()}});
  });
  s.Get("/api/model", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, model_json(*engine()));
  });
  s.Post("/api/reload", [this](const httplib::Request&, httplib::Response& res) { reload(res); });
  s.Post("/api/verify", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { verify(req, res); });
  });
  enrol_routes();
}

EnrolView& FaceServer::enrol_view() const {
  if (!enrol_)
    throw HttpError{404, "no photo library: start faceserve with --library DIR --seeds DIR"};
  return *enrol_;
}

void FaceServer::enrol_routes() {
  httplib::Server& s = *http_;
  s.Get("/api/enrol", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, [&] { send_json(res, enrol_view().state()); });
  });
  s.Get(R"(/api/enrol/face/([^/]*)\.jpg)", [this](const httplib::Request& req,
                                                  httplib::Response& res) {
    answer(res, [&] { res.set_content(enrol_view().thumbnail(req.matches[1]), "image/jpeg"); });
  });
  // The writes take JSON only: a page of another site can post a form to this address, but not
  // with this Content-Type.
  auto json_only = [](const httplib::Request& req) {
    if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0)
      throw HttpError{415, "send JSON (Content-Type: application/json)"};
  };
  s.Post("/api/enrol/confirm",
         [this, json_only](const httplib::Request& req, httplib::Response& res) {
           answer(res, [&] {
             EnrolView& view = enrol_view();
             json_only(req);
             send_json(res, view.confirm(req.body));
           });
         });
  s.Post("/api/enrol/undo", [this, json_only](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      EnrolView& view = enrol_view();
      json_only(req);
      send_json(res, view.undo());
    });
  });
}

void FaceServer::verify(const httplib::Request& req, httplib::Response& res) {
  const auto t0 = Clock::now();
  const std::string annotated = format_of(req, "annotated"), embed = format_of(req, "embed");
  const Upload up = upload_of(req);
  const std::int64_t max_pixels = static_cast<std::int64_t>(o_.max_megapixels * 1e6);
  check_header(*up.bytes, up.name, max_pixels);

  if (!gate_.enter()) {
    res.set_header("Retry-After", "1");
    throw HttpError{503,
                    fmt::format("busy: {} pictures in progress and {} waiting; retry in a second",
                                o_.workers, o_.queue)};
  }
  struct Leave {
    Gate& g;
    ~Leave() { g.leave(); }
  } leave{gate_};
  const double wait_ms = ms_since(t0);

  auto t = Clock::now();
  cv::Mat bgr = decode_image(reinterpret_cast<const std::uint8_t*>(up.bytes->data()),
                             up.bytes->size(), up.name, ImageLimits{max_pixels});
  const double decode_ms = ms_since(t);

  const std::shared_ptr<Engine> e = engine();
  VerifyTimings timings;
  std::vector<FaceVerdict> verdicts;
  double lock_ms = 0;
  {
    t = Clock::now();
    std::lock_guard<std::mutex> lock(e->mutex);
    lock_ms = ms_since(t);
    verdicts = e->verifier->verify(bgr, &timings);
  }
  ++served_;

  std::vector<uchar> picture;
  const std::string format = annotated.empty() ? embed : annotated;
  if (!format.empty()) {
    cli::draw_verdicts(bgr, verdicts);
    cv::imencode(format == "png" ? ".png" : ".jpg", bgr, picture, {cv::IMWRITE_JPEG_QUALITY, 90});
  }
  const std::string mime = format == "png" ? "image/png" : "image/jpeg";
  if (!annotated.empty()) {
    res.set_header("X-Faces", std::to_string(verdicts.size()));
    res.set_header("X-Owner-Found", cli::any_owner(verdicts) ? "true" : "false");
    res.set_content(reinterpret_cast<const char*>(picture.data()), picture.size(), mime);
    if (!o_.save_dir.empty())
      save_upload(*up.bytes, up.name, {{"faces", cli::faces_json(verdicts)}});
    return;
  }

  nlohmann::json image = cli::image_json(up.name, verdicts, decode_ms, timings);
  image["width"] = bgr.cols;
  image["height"] = bgr.rows;
  image["timings_ms"]["wait"] = wait_ms + lock_ms;
  image["timings_ms"]["total"] = ms_since(t0);
  if (verdicts.empty()) image["message"] = "no face found";
  nlohmann::json result = cli::model_header_json(o_.model, *e->verifier, o_.refs, e->references);
  result["images"] = nlohmann::json::array({image});
  result["summary"] = {{"inputs", 1},
                       {"with_owner", cli::any_owner(verdicts) ? 1 : 0},
                       {"faces", verdicts.size()},
                       {"unreadable", 0},
                       {"seconds", ms_since(t0) / 1000}};
  if (!o_.save_dir.empty()) save_upload(*up.bytes, up.name, result);
  if (!embed.empty()) result["annotated"] = "data:" + mime + ";base64," + base64(picture);
  send_json(res, result);
}

void FaceServer::reload(httplib::Response& res) {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  try {
    const auto t0 = Clock::now();
    auto fresh = load_engine();
    {
      std::lock_guard<std::mutex> swap(engine_mutex_);
      engine_ = fresh;  // requests in flight keep the engine they started with
    }
    nlohmann::json j = model_json(*fresh);
    j["reload_ms"] = ms_since(t0);
    logger()->info("reloaded: {} references ({} embedded now)", fresh->references.used,
                   fresh->references.embedded);
    send_json(res, j);
  } catch (const Error& e) {
    logger()->warn("reload failed, the previous model and references stay: {}", e.what());
    send_error(res, 422,
               std::string(e.what()) + " (the previous model and references stay in use)");
  }
}

void FaceServer::save_upload(const std::string& bytes, const std::string& name,
                             const nlohmann::json& result) {
  const bool png = bytes.size() > 1 && static_cast<unsigned char>(bytes[0]) == 0x89;
  const std::string stem = fmt::format("{}-{:06d}", now_iso(), ++saved_);
  const fs::path dir(o_.save_dir);
  nlohmann::json j = result;
  j["uploaded_as"] = name;
  // The visitor still gets the answer; the log names what could not be kept.
  try {
    write_file_atomically(dir / (stem + (png ? ".png" : ".jpg")), "the upload", bytes);
    write_file_atomically(dir / (stem + ".json"), "the upload's result", j.dump(2) + "\n");
  } catch (const Error& e) {
    logger()->warn("{}", e.what());
  }
}

int FaceServer::bind() {
  int port = o_.port;
  if (port == 0)
    port = http_->bind_to_any_port(o_.host);
  else if (!http_->bind_to_port(o_.host, port))
    port = -1;
  if (port <= 0)
    throw usage_error(fmt::format(
        "cannot listen on {}:{} (in use, or not an address of this machine)", o_.host, o_.port));
  return port;
}

void FaceServer::run() {
  if (enrol_) enrol_->start();
  http_->listen_after_bind();
}

void FaceServer::stop() { http_->stop(); }

}  // namespace faceid::serve
