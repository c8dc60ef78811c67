#include "faceid/verifier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "faceid/align.hpp"
#include "faceid/error.hpp"
#include "faceid/io/embedding_cache.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/log.hpp"
#include "faceid/model/owner_model.hpp"
#include "faceid/score/decision.hpp"

namespace fs = std::filesystem;

namespace faceid {
namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

const char* kRefsHelp = "put about 50 photos of the owner there (see verification_data/README.md)";

}  // namespace

Verifier::Verifier(const fs::path& model_dir, const std::string& device,
                   const fs::path& yunet_model)
    : bundle_(load_bundle(model_dir, resolve_device(device))),
      pipeline_(bundle_.info.preprocess, yunet_model),
      thresholds_(bundle_.info.thresholds),
      device_(bundle_.net->parameters().front().device()) {
  if (pipeline_.config().detector != bundle_.info.preprocess.detector)
    throw model_error(model_dir.string() + ": trained with the " +
                      bundle_.info.preprocess.detector + " detector, which is not available here");
  detector_ = pipeline_.make_detector();
}

ReferenceReport Verifier::prepare(const fs::path& dir, const fs::path& cache_dir, int threads,
                                  const Progress& progress) {
  if (needs_references()) return load_references(dir, cache_dir, threads, progress);
  ReferenceReport none;
  none.needed = false;
  return none;
}

void Verifier::override_thresholds(const std::optional<float>& threshold,
                                   const std::optional<float>& ratio) {
  if (!needs_references()) {
    if (ratio)
      throw usage_error(
          "--ratio: an owner model compares with no references; --threshold sets its P(owner) "
          "threshold");
    if (threshold) thresholds_.owner = *threshold;
    return;
  }
  if (threshold) thresholds_.detection = *threshold;
  if (ratio) thresholds_.ratio = *ratio;
}

std::string Verifier::rule(const ReferenceReport& refs) const {
  const Thresholds& t = thresholds_;
  if (!needs_references()) return fmt::format("P(owner) > {:.4f}", t.owner);
  return fmt::format("P(same) > {:.3f} on > {:.0f}% of {} refs{}", t.detection, t.ratio * 100,
                     refs.used,
                     refs.sessions > 1 ? fmt::format(" of one of {} sessions", refs.sessions) : "");
}

ReferenceReport Verifier::load_references(const fs::path& dir, const fs::path& cache_dir,
                                          int threads, const Progress& progress) {
  if (!fs::is_directory(dir))
    throw input_error(dir.string() + ": references folder not found; " + kRefsHelp);
  ReferenceReport report;
  // The photos at the top are one capture session, each sub-folder's photos another.
  std::vector<fs::path> files;
  std::vector<int> session_of;
  auto add_session = [&](const fs::path& folder) {
    const auto photos = list_images(folder);
    const int session = session_of.empty() ? 0 : session_of.back() + 1;
    files.insert(files.end(), photos.begin(), photos.end());
    session_of.insert(session_of.end(), photos.size(), session);
  };
  add_session(dir);
  for (const auto& sub : list_subfolders(dir)) add_session(sub);
  report.photos = files.size();
  if (files.empty()) throw input_error(dir.string() + ": no reference photos; " + kRefsHelp);
  const FaceCache faces = pipeline_.cached_faces(dir, files, cache_dir, threads, nullptr, progress);

  const int dim = bundle_.info.model.embedding_size;
  const fs::path cache_file = embedding_cache_file(cache_dir, dir, bundle_.checksum);
  EmbeddingCache embeddings = EmbeddingCache::load(cache_file, bundle_.checksum, dim);
  std::vector<FileKey> keys;
  std::vector<const CachedFace*> to_embed;
  reference_files_.clear();
  reference_sessions_.clear();
  for (std::size_t f = 0; f < files.size(); ++f) {
    const fs::path& file = files[f];
    const FileKey key = file_key(file);
    const CachedFace* face = faces.find(key);
    if (!face || face->status != FaceStatus::Face) {
      report.skipped.push_back(file.string() + ": " +
                               (face && !face->message.empty() ? face->message : "no face found"));
      continue;
    }
    keys.push_back(key);
    reference_files_.push_back(file);
    reference_sessions_.push_back(session_of[f]);
    if (!embeddings.find(key)) to_embed.push_back(face);
  }
  if (keys.empty())
    throw input_error(dir.string() + ": no face found in any of its " +
                      std::to_string(files.size()) + " photo(s); " + kRefsHelp);
  const std::size_t dropped = embeddings.retain(keys);
  if (!to_embed.empty()) {
    const int s = pipeline_.config().chip_size;
    auto chips = torch::empty({static_cast<long>(to_embed.size()), s, s, 3}, torch::kUInt8);
    for (std::size_t i = 0; i < to_embed.size(); ++i)
      std::memcpy(chips[static_cast<long>(i)].data_ptr<std::uint8_t>(), to_embed[i]->chip.data(),
                  to_embed[i]->chip.size());
    const auto e = embed_chips(bundle_.net, chips, device_).contiguous();
    for (std::size_t i = 0; i < to_embed.size(); ++i) {
      const float* row = e[static_cast<long>(i)].data_ptr<float>();
      embeddings.put(to_embed[i]->key, std::vector<float>(row, row + dim));
    }
  }
  if (!to_embed.empty() || dropped > 0) embeddings.save(cache_file);
  report.used = keys.size();
  report.embedded = to_embed.size();
  report.sessions = std::set<int>(reference_sessions_.begin(), reference_sessions_.end()).size();

  auto refs = torch::empty({static_cast<long>(keys.size()), dim});
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto* e = embeddings.find(keys[i]);
    std::memcpy(refs[static_cast<long>(i)].data_ptr<float>(), e->data(), e->size() * sizeof(float));
  }
  references_ = refs.to(device_);
  // The rule belongs to these references: the bundle's detection threshold was fitted to the
  // training owner's references, and another person's (or several sessions', where a face has one
  // chance per session) accept strangers at another rate. Refit it for the target FAR on the
  // bundle's held-out strangers, a cohort the model never trained on (unless --threshold chose
  // one).
  if (bundle_.strangers.defined() && thresholds_.detection == bundle_.info.thresholds.detection) {
    report.recalibrated_detection =
        session_detection_for_far(gallery_scores(bundle_.net, bundle_.strangers, references_),
                                  reference_sessions_, thresholds_.ratio, thresholds_.target_far);
    logger()->info(
        "detection threshold {:.3f} fitted to these references: FAR <= {:g} on the bundle's {} "
        "held-out strangers (the bundle's: {:.3f})",
        report.recalibrated_detection, thresholds_.target_far, bundle_.strangers.size(0),
        thresholds_.detection);
    thresholds_.detection = report.recalibrated_detection;
  }
  for (const auto& s : report.skipped) logger()->warn("reference skipped: {}", s);
  logger()->info(
      "{} references from {} in {} capture session(s) ({} embedded now, {} from the cache)",
      report.used, dir.string(), report.sessions, report.embedded, report.used - report.embedded);
  return report;
}

std::size_t Verifier::reference_count() const {
  return references_.defined() ? static_cast<std::size_t>(references_.size(0)) : 0;
}

torch::Tensor Verifier::embed(const torch::Tensor& chips) {
  return embed_chips(bundle_.net, chips, device_);
}

std::vector<float> Verifier::pair_scores(const torch::Tensor& embeddings) {
  c10::InferenceMode inference;
  const auto e = embeddings.to(device_);
  const std::int64_t n = e.size(0), chunk = 64;
  std::vector<float> out(static_cast<std::size_t>(n * n));
  for (std::int64_t start = 0; start < n; start += chunk) {
    const auto rows = e.slice(0, start, std::min(n, start + chunk)).unsqueeze(1);  // [c, 1, E]
    const auto s = bundle_.net->score(rows, e.unsqueeze(0)).to(torch::kCPU).contiguous();  // [c, n]
    std::memcpy(out.data() + start * n, s.data_ptr<float>(), sizeof(float) * s.numel());
  }
  return out;
}

std::vector<std::vector<float>> Verifier::score_embeddings(const torch::Tensor& embeddings) {
  if (bundle_.is_owner()) {
    const auto p = owner_probabilities(bundle_.owner_head, embeddings).contiguous();
    std::vector<std::vector<float>> rows;
    for (std::int64_t i = 0; i < p.size(0); ++i) rows.push_back({p[i].item<float>()});
    return rows;
  }
  if (!references_.defined()) throw internal_error("Verifier: load_references() first");
  return gallery_scores(bundle_.net, embeddings, references_);
}

std::vector<std::vector<float>> Verifier::score_chips(const torch::Tensor& chips) {
  return score_embeddings(embed(chips));
}

FaceVerdict Verifier::decide(const Face& face, std::vector<float> scores, float sharpness) const {
  FaceVerdict v;
  v.face = face;
  v.share = scores.size() == reference_sessions_.size()
                ? session_match_share(scores, reference_sessions_, thresholds_.detection)
                : match_share(scores, thresholds_.detection);
  v.sharpness = sharpness;
  v.unsure_reason = unsure_reason(face.box.width, face.box.height, sharpness, thresholds_);
  v.unsure = !v.unsure_reason.empty();
  if (bundle_.is_owner()) {
    v.owner_probability = scores.empty() ? 0.f : scores.front();
    v.share = v.best = v.owner_probability;
    v.owner = !v.unsure && v.owner_probability > thresholds_.owner;
    return v;
  }
  v.owner = !v.unsure && !scores.empty() && v.share > thresholds_.ratio;
  v.best = scores.empty() ? 0.f : *std::max_element(scores.begin(), scores.end());
  v.scores = std::move(scores);
  return v;
}

std::vector<FaceVerdict> Verifier::verify(const cv::Mat& bgr, VerifyTimings* timings) {
  VerifyTimings t;
  auto t0 = std::chrono::steady_clock::now();
  const auto faces = detector_->detect(bgr);
  t.detect_ms = ms_since(t0);
  std::vector<FaceVerdict> out;
  if (!faces.empty()) {
    t0 = std::chrono::steady_clock::now();
    const int s = pipeline_.config().chip_size;
    auto chips = torch::empty({static_cast<long>(faces.size()), s, s, 3}, torch::kUInt8);
    std::vector<float> sharpness(faces.size());
    for (std::size_t i = 0; i < faces.size(); ++i) {
      const cv::Mat chip = pipeline_.chip(bgr, faces[i]);
      sharpness[i] = face_sharpness(chip, pipeline_.config());
      const auto bytes = chip_to_rgb_bytes(chip);
      std::memcpy(chips[static_cast<long>(i)].data_ptr<std::uint8_t>(), bytes.data(), bytes.size());
    }
    t.align_ms = ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    const auto embeddings = embed_chips(bundle_.net, chips, device_);
    t.embed_ms = ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    auto scores = score_embeddings(embeddings);
    for (std::size_t i = 0; i < faces.size(); ++i)
      out.push_back(decide(faces[i], std::move(scores[i]), sharpness[i]));
    t.compare_ms = ms_since(t0);
  }
  if (timings) *timings = t;
  return out;
}

}  // namespace faceid
