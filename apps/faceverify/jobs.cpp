#include "jobs.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <opencv2/videoio.hpp>

#include "faceid/annotate.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/log.hpp"

namespace fs = std::filesystem;

namespace faceid::faceverify {
namespace {

bool is_video(const fs::path& file) {
  static const std::set<std::string> kVideo = {".mp4",  ".avi", ".mov", ".mkv",
                                               ".webm", ".m4v", ".mpg", ".mpeg"};
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return kVideo.count(ext) > 0;
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

}  // namespace

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

// Returns whether the owner was seen.
bool JobRunner::image(const Job& job, nlohmann::json& entry) {
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
bool JobRunner::video(const Job& job, nlohmann::json& entry) {
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

}  // namespace faceid::faceverify
