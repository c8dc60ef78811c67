// The writing side of enrolment (enrol.hpp): a confirmed proposal written as one folder per day
// and references, with a manifest that undo reads; nothing else is ever removed.
#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>
#include <set>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "faceid/annotate.hpp"
#include "faceid/capture_time.hpp"
#include "faceid/enrol.hpp"
#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/log.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace faceid {
namespace {

/// A file name for face `face` in `folder` that no other file there has (nor one planned).
std::string free_name(const LibraryFace& face, const fs::path& folder,
                      std::set<std::string>& taken) {
  const std::string stem = fs::path(face.file).stem().string() + "_" + std::to_string(face.index);
  std::string name = stem + ".jpg";
  for (int n = 2; taken.count((folder / name).string()) || fs::exists(folder / name); ++n)
    name = stem + "-" + std::to_string(n) + ".jpg";
  taken.insert((folder / name).string());
  return name;
}

/// A relative path that stays inside its folder (no "..", not absolute).
bool stays_inside(const fs::path& relative) {
  if (relative.empty() || relative.is_absolute()) return false;
  for (const auto& part : relative)
    if (part == "..") return false;
  return true;
}

/// Removes `files` (relative to `into`) and then the folders among their parents that this left
/// empty, deepest first; returns how many files were removed.
std::size_t remove_listed(const fs::path& into, const std::vector<std::string>& files) {
  std::size_t removed = 0;
  std::set<fs::path, std::greater<>> folders;
  for (const auto& f : files) {
    std::error_code ec;
    removed += fs::remove(into / f, ec) ? 1 : 0;
    for (fs::path parent = fs::path(f).parent_path(); !parent.empty();
         parent = parent.parent_path())
      folders.insert(parent);
  }
  for (const auto& folder : folders) {
    std::error_code ec;
    if (fs::is_empty(into / folder, ec)) fs::remove(into / folder, ec);
  }
  return removed;
}

/// One file confirm writes: the crop of face `face` at `file` (relative to the enrolment folder).
struct PlannedFile {
  int face;
  fs::path file;
};

void write_manifest(const fs::path& into, const Proposal& proposal, const json& days,
                    const std::vector<std::string>& files, bool complete) {
  const json manifest = {{"library", proposal.library},
                         {"seeds", proposal.seeds},
                         {"model", proposal.model},
                         {"confirmed", local_time(std::time(nullptr))},
                         {"complete", complete},
                         {"days", days},
                         {"files", files}};
  write_file_atomically(into / kEnrolmentManifest, "the enrolment manifest",
                        manifest.dump(2) + "\n");
}

/// The ticked faces (best score first within a day), checked against the proposal.
std::set<int> checked_ticks(const Proposal& proposal, const std::vector<int>& ticked) {
  const std::set<int> chosen(ticked.begin(), ticked.end());
  if (chosen.empty()) throw usage_error("no face ticked: nothing to enrol");
  std::set<int> proposed;
  for (const auto& d : proposal.days) proposed.insert(d.faces.begin(), d.faces.end());
  for (int id : chosen)
    if (!proposed.count(id))
      throw usage_error("face " + std::to_string(id) + " is not one of the proposed faces");
  return chosen;
}

}  // namespace

void require_outside_library(const fs::path& library, const fs::path& into) {
  std::error_code a, b;
  const fs::path lib = fs::weakly_canonical(fs::absolute(library), a);
  const fs::path dir = fs::weakly_canonical(fs::absolute(into), b);
  if (a || b || lib.empty()) return;
  const auto rest = std::mismatch(lib.begin(), lib.end(), dir.begin(), dir.end()).first;
  if (rest == lib.end() || (std::next(rest) == lib.end() && rest->empty()))
    throw usage_error(into.string() + " is inside the library " + library.string() +
                      ": the library is only read, choose another folder");
}

Enrolment confirm_enrolment(const Proposal& proposal, const std::vector<int>& ticked,
                            const fs::path& into, int references_per_day,
                            const std::vector<int>& negatives) {
  require_outside_library(proposal.library, into);
  if (fs::exists(into / kEnrolmentManifest))
    throw usage_error(into.string() +
                      " holds an enrolment already; undo it first (faceenroll undo " +
                      into.string() + ")");
  const std::set<int> chosen = checked_ticks(proposal, ticked);

  // Every name is chosen before anything is written, so that the manifest, written first, lists
  // them all: a confirm cut short (killed, disk full) leaves a manifest that undo reads.
  Enrolment e;
  e.into = into;
  std::vector<PlannedFile> plan;
  std::set<std::string> names;
  json days = json::array();
  for (const auto& d : proposal.days) {
    int day_faces = 0;
    for (int id : d.faces) {
      if (!chosen.count(id)) continue;
      std::vector<fs::path> folders = {fs::path(d.day)};
      if (day_faces++ < references_per_day) folders.push_back(fs::path("references") / d.day);
      for (const auto& folder : folders)
        plan.push_back({id, folder / free_name(proposal.faces[static_cast<std::size_t>(id)],
                                               into / folder, names)});
    }
    if (day_faces > 0) {
      days.push_back({{"day", d.day}, {"taken_from", d.taken_from}, {"faces", day_faces}});
      e.faces += static_cast<std::size_t>(day_faces);
      e.references += static_cast<std::size_t>(std::min(day_faces, references_per_day));
      ++e.days;
    }
  }
  for (const int id : std::set<int>(negatives.begin(), negatives.end())) {
    const auto group = std::find_if(proposal.groups.begin(), proposal.groups.end(),
                                    [&](const FaceGroup& g) { return g.id == id; });
    if (group == proposal.groups.end() || group->owner)
      throw usage_error("group " + std::to_string(id) + " is not one of the other people's groups");
    const fs::path folder = fs::path("negatives") / ("person-" + std::to_string(id));
    for (int face : group->faces)
      plan.push_back({face, folder / free_name(proposal.faces[static_cast<std::size_t>(face)],
                                               into / folder, names)});
    e.negatives += group->faces.size();
  }
  for (const auto& p : plan) e.files.push_back(p.file.string());

  const bool existed = fs::exists(into);
  create_folder(into, "the enrolment folder");
  try {
    write_manifest(into, proposal, days, e.files, false);
    std::map<int, cv::Mat> crops;  // a face goes to its day and maybe to the references
    for (const auto& p : plan) {
      auto it = crops.find(p.face);
      if (it == crops.end())
        it = crops.emplace(p.face, face_crop(proposal.faces[static_cast<std::size_t>(p.face)]))
                 .first;
      create_folder(into / p.file.parent_path(), "the enrolment folder");
      write_image(into / p.file, it->second);
    }
    write_manifest(into, proposal, days, e.files, true);
  } catch (...) {
    std::vector<std::string> all = e.files;
    all.push_back(kEnrolmentManifest);
    remove_listed(into, all);
    std::error_code ec;
    if (!existed && fs::is_empty(into, ec)) fs::remove(into, ec);
    throw;
  }
  e.files.push_back(kEnrolmentManifest);
  logger()->info("enrolled {} faces of {} day(s) into {} ({} references)", e.faces, e.days,
                 into.string(), e.references);
  return e;
}

std::size_t undo_enrolment(const fs::path& into) {
  const fs::path manifest_file = into / kEnrolmentManifest;
  std::ifstream in(manifest_file);
  if (!in)
    throw input_error(into.string() + ": no enrolment to undo (no " + kEnrolmentManifest + ")");
  std::vector<std::string> files;
  try {
    files = json::parse(in).at("files").get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    throw input_error(manifest_file.string() + ": not an enrolment manifest: " + e.what());
  }
  for (const auto& f : files)
    if (!stays_inside(f))
      throw input_error(manifest_file.string() + ": refusing a path outside the folder: " + f);
  files.push_back(kEnrolmentManifest);
  const std::size_t removed = remove_listed(into, files);
  logger()->info("removed the {} files of the enrolment in {}", removed, into.string());
  return removed;
}

}  // namespace faceid
