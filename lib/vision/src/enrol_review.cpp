// The review side of enrolment (enrol.hpp): the proposal as JSON and back, the faces cut out of
// their photos, and the contact sheet of a day.
#include <algorithm>
#include <cctype>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "faceid/annotate.hpp"
#include "faceid/enrol.hpp"
#include "faceid/error.hpp"
#include "faceid/image.hpp"

using json = nlohmann::json;

namespace faceid {
namespace {

/// A capture day as proposal.json may name it: "YYYY-MM-DD" or "unknown" (it becomes a folder
/// name). Throws std::invalid_argument for anything else.
std::string day_name(const std::string& day) {
  const bool date = day.size() == 10 && day[4] == '-' && day[7] == '-' &&
                    std::all_of(day.begin(), day.end(),
                                [](unsigned char c) { return std::isdigit(c) || c == '-'; });
  if (!date && day != "unknown")
    throw std::invalid_argument("day '" + day.substr(0, 40) + "' is not YYYY-MM-DD");
  return day;
}

}  // namespace

json proposal_json(const Proposal& p) {
  json faces = json::array();
  for (std::size_t i = 0; i < p.faces.size(); ++i) {
    const LibraryFace& f = p.faces[i];
    faces.push_back({{"id", i},
                     {"file", f.file},
                     {"index", f.index},
                     {"box", f.box},
                     {"taken", f.taken},
                     {"taken_from", f.taken_from},
                     {"day", f.day},
                     {"group", f.group},
                     {"score", f.score},
                     {"matches", f.matches}});
  }
  json groups = json::array();
  for (const auto& g : p.groups)
    groups.push_back({{"id", g.id},
                      {"size", g.faces.size()},
                      {"score", g.score},
                      {"matching", g.matching},
                      {"owner", g.owner},
                      {"faces", g.faces}});
  json days = json::array();
  for (const auto& d : p.days)
    days.push_back({{"day", d.day}, {"taken_from", d.taken_from}, {"faces", d.faces}});
  const LibraryScan& s = p.scan;
  return {{"library", p.library},
          {"seeds", p.seeds},
          {"model", p.model},
          {"rule", p.rule},
          {"seed_faces", p.seed_faces},
          {"clustering", {{"method", p.method}, {"cut", p.cut}, {"groups", p.groups.size()}}},
          {"scan",
           {{"photos", s.photos},
            {"detected", s.detected},
            {"from_cache", s.from_cache},
            {"unreadable", s.unreadable},
            {"no_face", s.no_face},
            {"faces", s.faces},
            {"embedded", s.embedded},
            {"unreadable_files", s.unreadable_files},
            {"seconds",
             {{"detect", s.detect_seconds},
              {"embed", s.embed_seconds},
              {"cluster", s.cluster_seconds}}}}},
          {"faces", std::move(faces)},
          {"groups", std::move(groups)},
          {"owner", {{"faces", p.owner_faces()}, {"days", std::move(days)}}}};
}

Proposal proposal_from_json(const json& j) {
  try {
    Proposal p;
    p.library = j.at("library").get<std::string>();
    p.seeds = j.at("seeds").get<std::string>();
    p.model = j.at("model").get<std::string>();
    p.rule = j.at("rule").get<std::string>();
    p.method = j.at("clustering").at("method").get<std::string>();
    p.cut = j.at("clustering").at("cut").get<float>();
    for (const auto& f : j.at("faces")) {
      LibraryFace face;
      face.file = f.at("file").get<std::string>();
      face.index = f.at("index").get<int>();
      face.box = f.at("box").get<std::array<float, 4>>();
      face.taken = f.at("taken").get<std::string>();
      face.taken_from = f.at("taken_from").get<std::string>();
      face.day = day_name(f.at("day").get<std::string>());
      face.group = f.at("group").get<int>();
      face.score = f.at("score").get<float>();
      face.matches = f.at("matches").get<bool>();
      p.faces.push_back(std::move(face));
    }
    auto in_range = [&](const std::vector<int>& ids) {
      for (int id : ids)
        if (id < 0 || static_cast<std::size_t>(id) >= p.faces.size())
          throw std::out_of_range("face id " + std::to_string(id) + " out of range");
      return ids;
    };
    for (const auto& g : j.at("groups"))
      p.groups.push_back({g.at("id").get<int>(), in_range(g.at("faces").get<std::vector<int>>()),
                          g.at("score").get<float>(), g.at("matching").get<float>(),
                          g.at("owner").get<bool>()});
    for (const auto& d : j.at("owner").at("days"))
      p.days.push_back({day_name(d.at("day").get<std::string>()),
                        d.at("taken_from").get<std::string>(),
                        in_range(d.at("faces").get<std::vector<int>>())});
    return p;
  } catch (const std::exception& e) {
    throw input_error(std::string("not a faceenroll proposal: ") + e.what());
  }
}

cv::Mat face_crop(const LibraryFace& face, double margin) {
  const cv::Mat image = read_image(face.file);
  const float side = std::max(face.box[2], face.box[3]) * static_cast<float>(1 + 2 * margin);
  const cv::Point2f centre(face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2);
  const cv::Rect want(cv::Point(cvRound(centre.x - side / 2), cvRound(centre.y - side / 2)),
                      cv::Size(cvRound(side), cvRound(side)));
  const cv::Rect inside = want & cv::Rect(0, 0, image.cols, image.rows);
  if (inside.empty()) throw input_error(face.file + ": the face lies outside the photo");
  return image(inside).clone();
}

namespace {

/// `crop` centred on a black square of `side` px.
cv::Mat thumbnail(const cv::Mat& crop, int side) {
  const double scale = static_cast<double>(side) / std::max(crop.cols, crop.rows);
  cv::Mat small;
  cv::resize(crop, small, cv::Size(), scale, scale, cv::INTER_AREA);
  cv::Mat out(side, side, CV_8UC3, cv::Scalar(0, 0, 0));
  small.copyTo(
      out(cv::Rect((side - small.cols) / 2, (side - small.rows) / 2, small.cols, small.rows)));
  return out;
}

void label(cv::Mat& image, const std::string& text, cv::Point origin, double scale) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
  cv::rectangle(image,
                cv::Rect(origin.x, origin.y - size.height - 4, size.width + 6, size.height + 8),
                cv::Scalar(40, 40, 40), cv::FILLED);
  cv::putText(image, text, cv::Point(origin.x + 3, origin.y), cv::FONT_HERSHEY_SIMPLEX, scale,
              cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
}

}  // namespace

cv::Mat day_sheet(const Proposal& proposal, const OwnerDay& day, int thumb) {
  std::vector<cv::Mat> thumbs;
  for (int i : day.faces) {
    const LibraryFace& face = proposal.faces[static_cast<std::size_t>(i)];
    cv::Mat t(thumb, thumb, CV_8UC3, cv::Scalar(90, 90, 90));  // the photo is gone since
    try {
      t = thumbnail(face_crop(face), thumb);
    } catch (const Error&) {
    }
    char score[32];
    std::snprintf(score, sizeof score, "%.2f", face.score);
    label(t, score, cv::Point(2, thumb - 4), 0.4);
    thumbs.push_back(std::move(t));
  }
  const cv::Mat grid = contact_sheet(thumbs, 10);
  const int header = 30;
  cv::Mat sheet(grid.rows + header, std::max(grid.cols, 10 * thumb), CV_8UC3, cv::Scalar(0, 0, 0));
  if (!grid.empty()) grid.copyTo(sheet(cv::Rect(0, header, grid.cols, grid.rows)));
  label(sheet,
        day.day + ": " + std::to_string(day.faces.size()) + " faces proposed (date from " +
            day.taken_from + "); score = the rule's value against the seeds",
        cv::Point(4, 22), 0.5);
  return sheet;
}

}  // namespace faceid
