#include "enrol_view.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "faceid/error.hpp"
#include "faceid/log.hpp"

namespace fs = std::filesystem;

namespace faceid::serve {
namespace {

constexpr int kThumbSize = 128;                             // px, the longer side
constexpr std::size_t kThumbCacheBytes = 64 * 1024 * 1024;  // ~12,000 thumbnails

// The library's error kinds as the client's statuses.
HttpError refusal(const Error& e) {
  const int status = e.kind() == ErrorKind::Usage ? 400 : e.kind() == ErrorKind::Input ? 422 : 500;
  return {status, e.what()};
}

std::string shown(const fs::path& p) {
  std::error_code ec;
  const fs::path a = fs::absolute(p, ec);
  return (ec ? p : a).lexically_normal().string();
}

}  // namespace

EnrolView::EnrolView(EnrolViewOptions options, MakeVerifier make_verifier)
    : o_(std::move(options)), make_verifier_(std::move(make_verifier)) {
  if (o_.seeds.empty()) throw usage_error("--library needs --seeds: a few photos of the owner");
  require_outside_library(o_.library, o_.into);  // --enrol-into
}

EnrolView::~EnrolView() {
  if (!thread_.joinable()) return;
  // A scan under way stops after the photos it is on; what it detected is kept for the next start.
  stop_ = true;
  thread_.join();
}

void EnrolView::start() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (phase_ != Phase::Waiting) return;
    phase_ = Phase::Scanning;
  }
  thread_ = std::thread([this] { scan(make_verifier_); });
}

void EnrolView::scan(const MakeVerifier& make_verifier) {
  const auto start = std::chrono::steady_clock::now();
  logger()->info("enrolment: going through the library {} (seeds {})", o_.library.string(),
                 o_.seeds.string());
  try {
    const std::unique_ptr<Verifier> verifier = make_verifier();
    EnrolOptions options;
    options.library = o_.library;
    options.seeds = o_.seeds;
    options.cache_dir = o_.cache_dir;
    options.threads = o_.threads;
    options.method = o_.cluster;
    options.stop = &stop_;
    options.progress = [this](std::size_t done, std::size_t total) {
      done_ = done;
      total_ = total;
    };
    auto proposal = std::make_shared<const Proposal>(propose_enrolment(*verifier, options));
    auto json = std::make_shared<const nlohmann::json>(proposal_json(*proposal));
    logger()->info(
        "enrolment: {} faces of the owner over {} days proposed, among {} faces in {} photos, "
        "{} groups ({:.1f} s)",
        proposal->owner_faces(), proposal->days.size(), proposal->faces.size(),
        proposal->scan.photos, proposal->groups.size(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::lock_guard<std::mutex> lock(mutex_);
    proposal_ = std::move(proposal);
    proposal_json_ = std::move(json);
    phase_ = Phase::Ready;
  } catch (const std::exception& e) {
    // faceid::Error says what and where in one line; anything else is a bug, said as such.
    const bool ours = dynamic_cast<const Error*>(&e) != nullptr;
    const std::string why = ours ? e.what() : std::string("internal error: ") + e.what();
    logger()->warn("enrolment: no proposal: {}", why);
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = why;
    phase_ = Phase::Error;
  } catch (...) {
    logger()->warn("enrolment: no proposal: internal error");
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = "internal error";
    phase_ = Phase::Error;
  }
}

nlohmann::json EnrolView::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  switch (phase_) {
    case Phase::Waiting:
    case Phase::Scanning:
      return {{"state", "scanning"},
              {"done", done_.load()},
              {"total", total_.load()},
              {"library", shown(o_.library)}};
    case Phase::Error:
      return {{"state", "error"}, {"error", error_}};
    case Phase::Ready:
      break;
  }
  return {{"state", "ready"},
          {"proposal", *proposal_json_},
          {"enrolled", enrolled()},
          {"into", shown(o_.into)}};
}

std::shared_ptr<const Proposal> EnrolView::ready() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (phase_ == Phase::Error) throw HttpError{409, "there is no proposal: " + error_};
  if (phase_ != Phase::Ready)
    throw HttpError{409, fmt::format("the proposal is not ready: the library is being scanned ({} "
                                     "of {} photos)",
                                     done_.load(), total_.load())};
  return proposal_;
}

bool EnrolView::enrolled() const {
  std::error_code ec;
  return fs::exists(o_.into / kEnrolmentManifest, ec);
}

std::string EnrolView::thumbnail(const std::string& id) {
  const std::shared_ptr<const Proposal> p = ready();
  const bool digits =
      !id.empty() && id.size() <= 9 &&
      std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); });
  const std::size_t n = digits ? std::stoul(id) : 0;
  if (!digits || n >= p->faces.size())
    throw HttpError{404, fmt::format("no face {} in the proposal ({} faces: ids from 0)",
                                     id.substr(0, 40), p->faces.size())};
  {
    std::lock_guard<std::mutex> lock(thumbs_mutex_);
    if (auto it = thumbs_.find(n); it != thumbs_.end()) return it->second;
  }
  cv::Mat crop;
  try {
    crop = face_crop(p->faces[n]);
  } catch (const Error& e) {
    throw refusal(e);
  }
  const double scale = static_cast<double>(kThumbSize) / std::max(crop.cols, crop.rows);
  cv::Mat small;
  cv::resize(crop, small, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", small, jpeg, {cv::IMWRITE_JPEG_QUALITY, 85});
  std::string bytes(jpeg.begin(), jpeg.end());
  std::lock_guard<std::mutex> lock(thumbs_mutex_);
  if (thumb_bytes_ + bytes.size() <= kThumbCacheBytes && thumbs_.emplace(n, bytes).second)
    thumb_bytes_ += bytes.size();
  return bytes;
}

nlohmann::json EnrolView::confirm(const std::string& body) {
  const std::shared_ptr<const Proposal> p = ready();
  const auto request = nlohmann::json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object() || !request.contains("faces") ||
      !request["faces"].is_array())
    throw HttpError{400, "send the ticked faces as JSON: {\"faces\": [face ids]}"};
  std::vector<int> ticked;
  for (const auto& id : request["faces"]) {
    if (!id.is_number_integer())
      throw HttpError{400, "faces: face ids are integers, not " + id.dump()};
    const auto value = id.get<std::int64_t>();
    if (value < 0 || value > std::numeric_limits<int>::max())
      throw HttpError{400, fmt::format("face {} is not one of the proposed faces", value)};
    ticked.push_back(static_cast<int>(value));
  }
  std::vector<int> negatives;
  if (request.contains("negatives")) {
    if (!request["negatives"].is_array())
      throw HttpError{400, "negatives: a list of other people's group ids"};
    for (const auto& id : request["negatives"]) {
      if (!id.is_number_integer())
        throw HttpError{400, "negatives: group ids are integers, not " + id.dump()};
      negatives.push_back(id.get<int>());
    }
  }
  std::lock_guard<std::mutex> lock(write_mutex_);
  if (enrolled())
    throw HttpError{409,
                    fmt::format("{} holds an enrolment already: undo it first", shown(o_.into))};
  Enrolment e;
  try {
    e = confirm_enrolment(*p, ticked, o_.into, 10, negatives);
  } catch (const Error& err) {
    throw refusal(err);
  }
  return {{"written", e.files.size()},
          {"faces", e.faces},
          {"days", e.days},
          {"references", e.references},
          {"negatives", e.negatives},
          {"into", shown(e.into)},
          {"files", e.files}};
}

nlohmann::json EnrolView::undo() {
  std::lock_guard<std::mutex> lock(write_mutex_);
  if (!enrolled())
    throw HttpError{409, fmt::format("nothing to undo: {} holds no enrolment", shown(o_.into))};
  std::size_t removed = 0;
  try {
    removed = undo_enrolment(o_.into);
  } catch (const Error& e) {
    throw refusal(e);
  }
  return {{"removed", removed}, {"into", shown(o_.into)}};
}

}  // namespace faceid::serve
