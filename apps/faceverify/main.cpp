// faceverify: find the owner in photos, folders of photos and videos (DESIGN.md §6). Every face
// is embedded once and compared with the owner's cached reference embeddings through the model's
// head; the seed's rule with the bundle's calibrated thresholds decides. The owner gets a green
// box, everybody else a red one, each with its match ratio; a face too small or too blurred to
// judge is "unsure" (amber), with the reason in --json. An owner model (facetrain --owner-only)
// needs no references: one embedding and the owner head per face, P(owner) against its threshold.
//
// Exit codes (DESIGN.md §9): 0 the owner was found, 1 no owner (or no face), 2 usage, 3 an input
// could not be read (the others are still processed), 4 model.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <opencv2/videoio.hpp>

#include "../common/cli.hpp"
#include "../common/preprocess_options.hpp"
#include "../common/verdicts.hpp"
#include "faceid/annotate.hpp"
#include "faceid/atomic_file.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/log.hpp"
#include "faceid/sources.hpp"
#include "faceid/verifier.hpp"

namespace fs = std::filesystem;
using namespace faceid;

namespace {

struct Options {
  std::vector<std::string> inputs;
  std::string output, model = "models/me", refs = "verification_data";
  std::optional<float> threshold, ratio;
  bool csv = false;
  int every = 1;
  cli::PipelineOptions pipeline;
  cli::UnsureOptions unsure;
  CLI::Option* refs_option = nullptr;
};

// One thing to look at, and where its annotated copy goes (empty: nowhere).
struct Job {
  fs::path input, output;
  bool video = false;
};

bool is_video(const fs::path& file) {
  static const std::set<std::string> kVideo = {".mp4",  ".avi", ".mov", ".mkv",
                                               ".webm", ".m4v", ".mpg", ".mpeg"};
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return kVideo.count(ext) > 0;
}

// Inputs -> jobs. One file with -o naming a file writes there; otherwise -o is a folder that
// receives each annotated file under its own name (folders in, folders out).
std::vector<Job> plan(const Options& o) {
  std::vector<Job> jobs;
  for (const auto& in : o.inputs) {
    if (fs::is_directory(in)) {
      const auto files = list_images(in);
      if (files.empty()) logger()->warn("{}: no images", in);
      for (const auto& f : files) jobs.push_back({f, {}, false});
    } else {
      jobs.push_back({in, {}, is_video(in)});
    }
  }
  if (jobs.empty())
    throw input_error("no images to look at in " + fmt::format("{}", fmt::join(o.inputs, ", ")));
  if (o.output.empty()) return jobs;
  const bool single_file =
      o.inputs.size() == 1 && !fs::is_directory(o.inputs[0]) && !fs::is_directory(o.output);
  if (single_file) {
    if (jobs[0].video != is_video(o.output))
      throw usage_error(fmt::format(
          "-o {}: a {} input needs a {} output", o.output, jobs[0].video ? "video" : "picture",
          jobs[0].video ? "video (.avi, .mp4, ...)" : "picture (.jpg, .png, ...)"));
    jobs[0].output = o.output;
    return jobs;
  }
  create_folder(o.output, "the output folder");
  for (auto& job : jobs) job.output = fs::path(o.output) / job.input.filename();
  return jobs;
}

// face_recognition's CSV: one line per face, or `path,no_persons_found`.
void print_csv(const fs::path& path, const std::vector<FaceVerdict>& verdicts) {
  if (verdicts.empty()) std::cout << path.string() << ",no_persons_found\n";
  for (const auto& v : verdicts)
    std::cout << fmt::format("{},{},{:.4f}\n", path.string(),
                             v.unsure  ? "unsure"
                             : v.owner ? "owner"
                                       : "unknown_person",
                             v.share);
}

std::string summary_line(const std::vector<FaceVerdict>& verdicts) {
  if (verdicts.empty()) return "no face found";
  float best = 0;
  std::size_t owners = 0, unsure = 0;
  for (const auto& v : verdicts) {
    if (!v.unsure) best = std::max(best, v.share);
    owners += v.owner;
    unsure += v.unsure;
  }
  return fmt::format("{} ({} face{}, {} owner{}; best {} {:.2f})", owners ? "OWNER" : "no owner",
                     verdicts.size(), verdicts.size() == 1 ? "" : "s", owners,
                     unsure ? fmt::format(", {} unsure", unsure) : "",
                     verdicts.front().owner_probability >= 0 ? "P(owner)" : "match ratio", best);
}

// A video writer reports no write errors (full disk, file-size limit), so the written file is read
// back and its frames counted (demuxing and decoding cost little next to detection).
void check_video(const fs::path& file, const fs::path& output, std::size_t frames) {
  cv::VideoCapture back(file.string());
  std::size_t read = 0;
  while (back.isOpened() && read < frames && back.grab()) ++read;
  if (read < frames)
    throw input_error(
        fmt::format("{}: cannot write video: {} of {} frames could be read back (disk full?)",
                    output.string(), read, frames));
}

class JobRunner {
 public:
  JobRunner(const Options& o, const cli::CommonOptions& common, Verifier& verifier)
      : o_(o), common_(common), verifier_(verifier) {}

  // Returns whether the owner was seen.
  bool image(const Job& job, nlohmann::json& entry) {
    const auto t0 = std::chrono::steady_clock::now();
    cv::Mat bgr = read_image(job.input);
    const double decode_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    VerifyTimings t;
    const auto verdicts = verifier_.verify(bgr, &t);
    faces_ += verdicts.size();
    entry.update(cli::image_json(job.input.string(), verdicts, decode_ms, t));
    if (!job.output.empty()) {
      cli::draw_verdicts(bgr, verdicts);
      write_image(job.output, bgr, job.input);
      entry["output"] = job.output.string();
    }
    if (o_.csv)
      print_csv(job.input, verdicts);
    else if (!common_.json)
      std::cout << fmt::format("{}: {}\n", job.input.string(), summary_line(verdicts));
    return cli::any_owner(verdicts);
  }

  // Every frame is copied to the output (frame count preserved); every Nth is verified and its
  // boxes stay drawn until the next verified frame.
  bool video(const Job& job, nlohmann::json& entry) {
    cv::VideoCapture capture(job.input.string());
    if (!capture.isOpened()) throw input_error(job.input.string() + ": cannot open the video");
    const double fps = capture.get(cv::CAP_PROP_FPS) > 0 ? capture.get(cv::CAP_PROP_FPS) : 25.0;
    const auto expected =
        static_cast<std::size_t>(std::max(0.0, capture.get(cv::CAP_PROP_FRAME_COUNT)));
    cv::VideoWriter writer;
    fs::path partial;
    if (!job.output.empty()) {
      std::error_code ec;
      if (fs::equivalent(job.output, job.input, ec))
        throw usage_error(job.output.string() + ": refusing to overwrite the input video");
      partial = temporary_beside(job.output);
    }
    cli::ProgressBar bar("frames " + job.input.filename().string(), !common_.quiet);
    nlohmann::json frames = nlohmann::json::array();
    std::vector<FaceVerdict> verdicts;
    bool owner = false;
    std::size_t count = 0;
    cv::Mat frame;
    try {
      while (capture.read(frame)) {
        if (frame.empty()) break;
        if (count % static_cast<std::size_t>(o_.every) == 0) {
          verdicts = verifier_.verify(frame);
          faces_ += verdicts.size();
          owner = owner || cli::any_owner(verdicts);
          frames.push_back(
              {{"frame", count}, {"time_s", count / fps}, {"faces", cli::faces_json(verdicts)}});
          if (o_.csv) print_csv(fmt::format("{}#{}", job.input.string(), count), verdicts);
        }
        if (!partial.empty()) {
          if (!writer.isOpened()) {
            const std::string ext = job.output.extension().string();
            const int fourcc = ext == ".avi" || ext == ".mkv"
                                   ? cv::VideoWriter::fourcc('M', 'J', 'P', 'G')
                               : ext == ".webm" ? cv::VideoWriter::fourcc('V', 'P', '8', '0')
                                                : cv::VideoWriter::fourcc('m', 'p', '4', 'v');
            if (!writer.open(partial.string(), fourcc, fps, frame.size()))
              throw input_error(job.output.string() +
                                ": cannot write a video of this kind here (try .avi)");
          }
          cli::draw_verdicts(frame, verdicts);
          writer.write(frame);
        }
        bar.update(++count, std::max(expected, count));
      }
      bar.finish();
      if (count == 0) throw input_error(job.input.string() + ": no frames could be read");
      if (writer.isOpened()) {
        writer.release();
        check_video(partial, job.output, count);
        replace_with(partial, job.output, "video");
        entry["output"] = job.output.string();
      }
    } catch (...) {
      writer.release();
      std::error_code ec;
      if (!partial.empty()) fs::remove(partial, ec);
      throw;
    }
    entry["frames"] = count;
    entry["fps"] = fps;
    entry["every"] = o_.every;
    entry["verified_frames"] = frames;
    entry["owner_found"] = owner;
    if (!o_.csv && !common_.json)
      std::cout << fmt::format("{}: {} ({} frames, {} verified, {} faces)\n", job.input.string(),
                               owner ? "OWNER" : "no owner", count, frames.size(), faces_);
    return owner;
  }

  std::size_t faces() const { return faces_; }

 private:
  const Options& o_;
  const cli::CommonOptions& common_;
  Verifier& verifier_;
  std::size_t faces_ = 0;
};

int run(const Options& o, const cli::CommonOptions& common) {
  if (o.csv && common.json) throw usage_error("--csv and --json: choose one");
  if (o.every < 1) throw usage_error("--every must be at least 1");
  const auto start = std::chrono::steady_clock::now();
  const auto jobs = plan(o);
  Verifier verifier(o.model, common.device, o.pipeline.yunet_model);
  cli::apply_threshold_options(o.threshold, o.ratio, verifier);
  cli::apply_unsure_options(o.unsure, verifier.thresholds());
  ReferenceReport refs;
  if (verifier.needs_references()) {
    cli::ProgressBar ref_bar("references", !common.quiet);
    refs = verifier.load_references(o.refs, cli::cache_dir(o.pipeline),
                                    cli::resolve_threads(common.threads),
                                    [&](std::size_t d, std::size_t t) { ref_bar.update(d, t); });
    ref_bar.finish();
  } else if (o.refs_option->count() > 0) {
    logger()->warn("{} is an owner model: it needs no reference photos; --refs {} is not used",
                   o.model, o.refs);
  }

  JobRunner runner(o, common, verifier);
  nlohmann::json results = nlohmann::json::array();
  std::size_t failures = 0, owners = 0;
  cli::ProgressBar bar("images", !common.quiet && jobs.size() > 1 && (common.json || o.csv));
  for (const auto& job : jobs) {
    nlohmann::json entry = {{"path", job.input.string()}};
    try {
      owners += job.video ? runner.video(job, entry) : runner.image(job, entry);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Input || jobs.size() == 1) throw;
      ++failures;
      entry["error"] = e.what();
      logger()->warn("skipped {}", e.what());
    }
    results.push_back(std::move(entry));
    bar.update(results.size(), jobs.size());
  }
  bar.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (common.json) {
    nlohmann::json doc = cli::model_header_json(o.model, verifier, o.refs, refs);
    doc["images"] = results;
    doc["summary"] = {{"inputs", jobs.size()},
                      {"with_owner", owners},
                      {"faces", runner.faces()},
                      {"unreadable", failures},
                      {"seconds", seconds}};
    cli::print_json(doc);
  } else if (!o.csv && jobs.size() > 1) {
    std::cout << fmt::format("{} input(s): owner in {}, {} face(s), {} unreadable; {:.1f}s\n",
                             jobs.size(), owners, runner.faces(), failures, seconds);
  }
  if (failures > 0) return static_cast<int>(ErrorKind::Input);
  return owners > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  return cli::run_main(
      argc, argv,
      {"faceverify",
       "Find the owner's face in photos, folders and videos; faces too small or blurred to judge "
       "are 'unsure'. Exit 0: owner found, 1: no owner or no face, 3: an input could not be read.",
       [&](CLI::App& app, cli::CommonOptions&) {
         app.add_option("inputs", o.inputs, "Images, folders of images, or videos")->required();
         app.add_option(
             "-o,--output", o.output,
             "Annotated picture/video (one input) or folder (several inputs or a folder)");
         app.add_option("-m,--model", o.model, "Model bundle folder (from facetrain)")
             ->capture_default_str();
         o.refs_option = app.add_option("--refs", o.refs,
                                        "Folder of the owner's reference photos (siamese models; "
                                        "an owner model, from facetrain --owner-only, needs none)")
                             ->capture_default_str();
         cli::add_threshold_options(app, o.threshold, o.ratio);
         app.add_flag(
             "--csv", o.csv,
             "Print path,owner|unknown_person|unsure,match_ratio per face (path,no_persons_found)");
         app.add_option("--every", o.every,
                        "Videos: verify every Nth frame (all frames are written)")
             ->capture_default_str();
         cli::add_unsure_options(app, o.unsure);
         cli::add_model_pipeline_options(app, o.pipeline);
       },
       [&](const cli::CommonOptions& common) { return run(o, common); }});
}
