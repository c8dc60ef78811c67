// facetrain's data: the faces of --lfw, --self (capture sessions) and --negatives, cached, and
// their split into training and held-out faces (shared by the siamese and the owner-only modes).

#include <sys/resource.h>

#include <algorithm>
#include <ctime>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "faceid/error.hpp"
#include "faceid/io/atomic_file.hpp"
#include "faceid/io/lfw_pairs.hpp"
#include "faceid/io/sources.hpp"
#include "faceid/log.hpp"
#include "facetrain.hpp"

namespace fs = std::filesystem;

namespace faceid::facetrain {
namespace {

// train.log: each line goes to the file at once; the first failed write is kept for
// check_run_log(), because spdlog swallows an exception thrown while logging.
class RunLogSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  RunLogSink(const fs::path& file, bool append) : file_(file, "the run log", append) {}
  void check() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_) std::rethrow_exception(error_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (error_) return;
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    try {
      file_.write({line.data(), line.size()});
    } catch (const Error&) {
      error_ = std::current_exception();
    }
  }
  void flush_() override {}

 private:
  AppendFile file_;
  std::exception_ptr error_;
};

std::shared_ptr<RunLogSink> g_run_log;

// --self DIR...: several folders are one session each; one folder with sub-folders of photos has
// a session per sub-folder (photos directly in it are one more session); one plain folder is one
// session.
std::vector<Session> owner_sessions(const std::vector<std::string>& dirs) {
  std::vector<Session> sessions;
  if (dirs.size() == 1) {
    std::vector<fs::path> subs;
    for (const auto& entry : fs::directory_iterator(dirs[0]))
      if (entry.is_directory() && !list_images(entry.path()).empty()) subs.push_back(entry.path());
    std::sort(subs.begin(), subs.end());
    if (!subs.empty()) {
      if (auto top = list_images(dirs[0]); !top.empty())
        sessions.push_back({fs::path(dirs[0]).filename().string(), dirs[0], std::move(top)});
      for (const auto& sub : subs)
        sessions.push_back({sub.filename().string(), sub, list_images(sub)});
      return sessions;
    }
  }
  std::set<std::string> seen;
  for (const auto& dir : dirs) {
    const fs::path canonical = fs::weakly_canonical(dir);
    if (!seen.insert(canonical.string()).second)
      throw usage_error("--self " + dir + " is given twice");
    std::string name = canonical.filename().string();
    if (name.empty()) name = dir;
    sessions.push_back({name, dir, list_images(dir)});
  }
  return sessions;
}

// The owner photos of `faces` with their session and hashes, in pool order.
std::vector<OwnerPhoto> owner_photos(const FaceSet& faces,
                                     const std::map<std::string, int>& session_of) {
  std::vector<OwnerPhoto> photos;
  const int s = faces.chips.chip_size();
  for (const int id : faces.pool.owner) {
    const std::string& source = faces.sources.at(static_cast<std::size_t>(id));
    const auto row = faces.chips.gather(std::vector<int>{id});
    const std::vector<std::uint8_t> rgb(row.data_ptr<std::uint8_t>(),
                                        row.data_ptr<std::uint8_t>() + row.numel());
    photos.push_back({id, session_of.at(source), file_content_hash(source), chip_dhash(rgb, s)});
  }
  return photos;
}

// The people of one --faces root, named "<root>/<person>" so that two roots (or a root and LFW)
// never merge identities.
struct FaceRoot {
  std::string dir;
  std::vector<Person> people;
};

std::vector<FaceRoot> face_roots(const std::vector<std::string>& dirs, const std::string& lfw) {
  std::vector<FaceRoot> roots;
  std::set<std::string> names;
  std::vector<fs::path> seen;
  if (!lfw.empty()) seen.push_back(fs::weakly_canonical(lfw));
  for (const auto& dir : dirs) {
    const fs::path path = fs::weakly_canonical(dir);
    const std::string name = path.filename().string();
    // Nested or repeated roots would give their people twice, under two names.
    for (const auto& other : seen) {
      const auto [a, b] = std::mismatch(other.begin(), other.end(), path.begin(), path.end());
      if (a == other.end() || b == path.end())
        throw usage_error("--faces " + dir + ": overlaps " + other.string() +
                          " (its people would be trained on twice, under two names)");
    }
    seen.push_back(path);
    if (name == "negatives")
      throw usage_error("--faces " + dir +
                        ": a root named 'negatives' would be taken for "
                        "--negatives; rename it");
    if (!names.insert(name).second)
      throw usage_error("--faces " + dir + ": another root is also named '" + name +
                        "' (its people would be named alike: <root>/<person>)");
    FaceRoot root{dir, scan_people(dir)};
    for (auto& person : root.people) person.name = name + "/" + person.name;
    roots.push_back(std::move(root));
  }
  return roots;
}

}  // namespace

namespace {

// --negatives: each folder is one person, or one person per sub-folder with photos. Throws
// Error(Input) when they hold no photo.
std::vector<Person> negative_people(const Options& o) {
  std::vector<Person> negatives;
  for (const auto& dir : o.negatives) {
    const std::string name = "negatives/" + fs::weakly_canonical(dir).filename().string();
    if (auto files = list_images(dir); !files.empty())
      negatives.push_back({name, std::move(files)});
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_directory())
        if (auto files = list_images(entry.path()); !files.empty())
          negatives.push_back({name + "/" + entry.path().filename().string(), std::move(files)});
  }
  if (!o.negatives.empty() && negatives.empty())
    throw input_error(fmt::format("--negatives {}: no photos", fmt::join(o.negatives, " ")));
  return negatives;
}

// Scans --lfw, --faces, --negatives and the --self sessions and gathers their faces through the
// caches into d.faces (strangers by person, the owner's photos); fills `session_of` (owner file ->
// session) and returns whether there are --negatives.
bool load_faces(TrainData& d, const Options& o, const cli::CommonOptions& common,
                const FaceSource& face_source, int threads,
                std::map<std::string, int>& session_of) {
  if (o.lfw.empty() && o.faces.empty())
    throw usage_error("give the strangers: --lfw DIR, --faces DIR..., or both");
  auto people = o.lfw.empty() ? std::vector<Person>{} : scan_people(o.lfw);
  const auto roots = face_roots(o.faces, o.lfw);
  d.sessions = owner_sessions(o.self);
  const auto& sessions = d.sessions;
  d.self_text = fmt::format("{}", fmt::join(o.self, ", "));
  const std::string& self_text = d.self_text;
  std::vector<fs::path> owner_files;
  // Owner file -> session index, keyed by the absolute path (as the face cache's keys and
  // FaceSet::sources are: --self may be relative).
  for (std::size_t i = 0; i < sessions.size(); ++i)
    for (const auto& f : sessions[i].files) {
      if (!session_of.emplace(fs::absolute(f).lexically_normal().string(), static_cast<int>(i))
               .second)
        continue;
      owner_files.push_back(f);
    }
  if (owner_files.size() < kMinOwnerPhotos)
    throw input_error(self_text + ": " + std::to_string(owner_files.size()) +
                      " photo(s); facetrain needs at least " + std::to_string(kMinOwnerPhotos) +
                      " of the owner (a few hundred is better)");
  std::vector<fs::path> lfw_files;
  for (const auto& p : people) lfw_files.insert(lfw_files.end(), p.images.begin(), p.images.end());
  auto cache_source = [&](const std::string& source, const std::vector<fs::path>& files) {
    CacheUpdate stats;
    // Training reads each batch's chips from the cache files (memory does not grow with them).
    FaceCache cache = face_source.faces(source, files, threads, !common.quiet, stats);
    logger()->info(
        "{}: {} images, {} faces, {} without a face, {} unreadable ({} from cache, {:.1f}s)",
        source, stats.images, stats.faces, stats.no_face, stats.unreadable, stats.hits,
        stats.seconds);
    return cache;
  };
  std::set<std::string>& excluded = d.excluded;
  for (const auto& file : o.exclude_pairs) {
    const auto names = people_in(read_pairs_file(file));
    excluded.insert(names.begin(), names.end());
  }
  const std::vector<Person> negatives = negative_people(o);
  // The caches are only needed to gather the faces: let them go before training (the chips stay in
  // their files, open).
  d.faces = [&] {
    // Every folder's cache, merged into one for the strangers and one for the owner (moved, not
    // copied: a large root's index would otherwise be held twice).
    auto gather = [&](FaceCache& into, const std::string& source,
                      const std::vector<fs::path>& files) {
      into.merge(cache_source(source, files));
    };
    const auto& config = face_source.config;
    FaceCache lfw_cache = o.lfw.empty() ? FaceCache(config.chip_size, config.fingerprint())
                                        : cache_source(o.lfw, lfw_files);
    for (const auto& root : roots) {
      std::vector<fs::path> files;
      for (const auto& person : root.people)
        files.insert(files.end(), person.images.begin(), person.images.end());
      gather(lfw_cache, root.dir, files);
      people.insert(people.end(), root.people.begin(), root.people.end());
    }
    for (const auto& person : negatives)
      gather(lfw_cache, person.images.front().parent_path().string(), person.images);
    people.insert(people.end(), negatives.begin(), negatives.end());
    FaceCache owner_cache(config.chip_size, config.fingerprint());
    for (const auto& session : sessions) gather(owner_cache, session.dir.string(), session.files);
    return make_face_set(people, lfw_cache, owner_files, &owner_cache, excluded);
  }();
  return !negatives.empty();
}

// Splits d.faces: the strangers by person (`val_people`, when given, are the held-out ones;
// --negatives always train), the owner's photos by session (duplicates kept together); logs it.
void split_faces(TrainData& d, const Options& o, std::uint64_t seed,
                 const std::vector<std::string>& val_people, bool have_negatives,
                 const std::map<std::string, int>& session_of) {
  const auto& sessions = d.sessions;
  const std::string& self_text = d.self_text;
  const FaceSet& faces = d.faces;
  if (faces.pool.owner.size() < kMinOwnerPhotos)
    throw input_error(self_text + ": faces found in only " +
                      std::to_string(faces.pool.owner.size()) + " photo(s); need " +
                      std::to_string(kMinOwnerPhotos));
  d.split = split_pool(faces.pool, o.val_fraction, seed);
  PoolSplit& split = d.split;
  if (!val_people.empty() || have_negatives) {
    // The held-out strangers are `val_people` (people the general model never trained on); the
    // --negatives always train (they are the hard cases).
    const std::set<std::string> held(val_people.begin(), val_people.end());
    PairPool train, val;  // people only
    auto place = [&](Identity& p, bool was_val) {
      const bool negative = p.name.rfind("negatives/", 0) == 0;
      d.negatives_people += negative;
      const bool to_val = !negative && (val_people.empty() ? was_val : held.count(p.name) > 0);
      (to_val ? val : train).people.push_back(std::move(p));
    };
    for (auto& p : split.train.people) place(p, false);
    for (auto& p : split.val.people) place(p, true);
    split.train.people = std::move(train.people);
    split.val.people = std::move(val.people);
  }
  // The owner's photos: whole sessions held out when there are two or more; duplicates never
  // straddle training and held-out photos.
  d.photos = owner_photos(faces, session_of);
  const auto& photos = d.photos;
  d.owner_split = split_owner_photos(photos, duplicate_groups(photos), o.val_fraction, seed);
  const OwnerSplit& owner_split = d.owner_split;
  split.train.owner = owner_split.train;
  split.val.owner = owner_split.val;
  d.session_faces.assign(sessions.size(), 0);
  auto& session_faces = d.session_faces;
  for (const auto& p : photos) ++session_faces[static_cast<std::size_t>(p.session)];
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const bool held = std::count(owner_split.held_out_sessions.begin(),
                                 owner_split.held_out_sessions.end(), int(i)) > 0;
    logger()->info("session {} ({}): {} photos, {} with a face{}", sessions[i].name,
                   sessions[i].dir.string(), sessions[i].files.size(), session_faces[i],
                   held ? ", held out for validation and calibration" : "");
  }
  if (owner_split.duplicate_groups > 0)
    logger()->info(
        "owner photos: {} duplicates in {} groups (byte-identical or near-identical chips), each "
        "group kept on one side{}",
        owner_split.duplicate_photos, owner_split.duplicate_groups,
        owner_split.moved_to_train
            ? fmt::format("; {} held-out photo(s) copy a training photo and train instead",
                          owner_split.moved_to_train)
            : std::string());
  if (!owner_split.by_session && o.val_fraction > 0)
    logger()->warn(
        "one capture session: the held-out owner photos come from the session the model trains on, "
        "so the calibrated TAR says little about photos of another day (measured: a rule "
        "calibrated on one session lost a third of the owner's photos of another); give two or "
        "more sessions (--self DIR1 DIR2 ..., or one folder of session sub-folders)");
  if (split.train.owner.size() < 2)
    throw input_error(
        self_text + ": only " + std::to_string(split.train.owner.size()) +
        " owner photo(s) left for training after holding out; give more photos or sessions");
  logger()->info(
      "training on {} owner photos + {} people ({} faces); validating on {} owner photos + {} "
      "people; {} people excluded by pairs files",
      split.train.owner.size(), split.train.people.size(), split.train.stranger_chips(),
      split.val.owner.size(), split.val.people.size(), faces.excluded_people);
}

}  // namespace

TrainData gather_data(const Options& o, const cli::CommonOptions& common,
                      const FaceSource& face_source, int threads,
                      const std::vector<std::string>& val_people) {
  TrainData d;
  std::map<std::string, int> session_of;
  const bool have_negatives = load_faces(d, o, common, face_source, threads, session_of);
  split_faces(d, o, common.seed, val_people, have_negatives, session_of);
  return d;
}

void describe_training(TrainingSummary& t, const Options& o, const TrainData& data,
                       std::uint64_t seed) {
  const PoolSplit& split = data.split;
  if (!o.lfw.empty()) t.lfw = fs::absolute(o.lfw).string();
  for (const auto& root : o.faces) t.faces.push_back(fs::absolute(root).string());
  std::vector<std::string> dirs;
  for (const auto& d : o.self) dirs.push_back(fs::absolute(d).string());
  t.self = fmt::format("{}", fmt::join(dirs, "; "));
  t.owner_photos_train = split.train.owner.size();
  t.owner_photos_val = split.val.owner.size();
  t.people_train = split.train.people.size();
  t.faces_train = split.train.stranger_chips();
  t.people_val = split.val.people.size();
  t.faces_val = split.val.stranger_chips();
  for (const auto& p : split.train.people) t.trained_people.push_back(p.name);
  for (const auto& p : split.val.people) t.validation_people.push_back(p.name);
  t.excluded_by = o.exclude_pairs;
  t.excluded_people = data.excluded.size();
  t.seed = seed;
}

nlohmann::json record_sessions(
    const TrainData& data, const std::set<int>& skip, const fs::path& run_dir,
    Thresholds& thresholds,
    const std::function<std::vector<bool>(const std::vector<int>&)>& accept) {
  const auto& split = data.split;
  const auto& owner_split = data.owner_split;
  nlohmann::json report = nlohmann::json::array();
  const std::set<int> held(split.val.owner.begin(), split.val.owner.end());
  for (std::size_t i = 0; i < data.sessions.size(); ++i) {
    std::vector<int> ids;
    std::size_t held_photos = 0;
    for (const auto& p : data.photos)
      if (p.session == static_cast<int>(i) && !skip.count(p.chip)) {
        ids.push_back(p.chip);
        held_photos += held.count(p.chip);
      }
    const bool held_out = std::count(owner_split.held_out_sessions.begin(),
                                     owner_split.held_out_sessions.end(), int(i)) > 0;
    nlohmann::json entry = {{"name", data.sessions[i].name},
                            {"dir", data.sessions[i].dir.string()},
                            {"role", held_out                 ? "held out"
                                     : owner_split.by_session ? "trained"
                                                              : "trained and held out"},
                            {"faces", ids.size()},
                            {"held_out_faces", held_photos}};
    if (!ids.empty()) {
      const auto yes = accept(ids);
      const auto accepted = static_cast<std::size_t>(std::count(yes.begin(), yes.end(), true));
      entry["accepted"] = accepted;
      entry["tar"] = static_cast<double>(accepted) / static_cast<double>(ids.size());
    }
    report.push_back(std::move(entry));
  }
  thresholds.calibration["sessions"] = report;
  thresholds.calibration["owner_split"] =
      owner_split.by_session ? "whole sessions held out" : "photos held out";
  thresholds.calibration["owner_duplicates"] = {
      {"groups", owner_split.duplicate_groups},
      {"photos", owner_split.duplicate_photos},
      {"held_out_copies_moved_to_training", owner_split.moved_to_train}};
  write_file_atomically(run_dir / "sessions.json", "the session report",
                        nlohmann::json{{"sessions", report},
                                       {"by_session", owner_split.by_session},
                                       {"duplicates", thresholds.calibration["owner_duplicates"]}}
                                .dump(2) +
                            "\n");
  return report;
}

void print_sessions(const nlohmann::json& report) {
  for (const auto& s : report)
    std::cout << fmt::format(
        "session {} ({}): {}\n", s["name"].get<std::string>(), s["role"].get<std::string>(),
        s.contains("tar") ? fmt::format("owner rule accepts {} of {} photos = {:.3f}{}",
                                        s["accepted"].get<std::size_t>(),
                                        s["faces"].get<std::size_t>(), s["tar"].get<double>(),
                                        s["role"] == "held out" ? "" : " (trained on: optimistic)")
                          : std::string("no face"));
}

void fill_references(const fs::path& dir, const FaceSet& faces, const std::vector<int>& held_out) {
  create_folder(dir, "the references folder");
  std::error_code ec;
  std::size_t copied = 0;
  for (const int id : held_out) {
    const fs::path source = faces.sources.at(static_cast<std::size_t>(id)),
                   target = dir / source.filename();
    if (fs::exists(target, ec)) continue;
    // Copied beside and renamed, so that a killed run never leaves half a photo among the
    // references.
    const fs::path tmp = temporary_beside(target);
    if (!fs::copy_file(source, tmp, ec)) {
      const std::string why = ec.message();
      fs::remove(tmp, ec);
      throw input_error(target.string() + ": cannot write a reference photo: " + why);
    }
    replace_with(tmp, target, "a reference photo");
    ++copied;
  }
  logger()->info(
      "{}: {} held-out owner photos copied as faceverify references ({} were there already)",
      dir.string(), copied, held_out.size() - copied);
  if (held_out.size() < 20)
    logger()->warn(
        "{}: only {} held-out owner photos; add more photos of the owner there (about 50 is best)",
        dir.string(), held_out.size());
}

fs::path open_run_dir(const std::string& dir, bool append) {
  const fs::path run_dir = dir.empty() ? fs::path("runs") / timestamp() : fs::path(dir);
  create_folder(run_dir, "the run folder");
  // The run's log keeps everything from info up, whatever -q/-v say about the terminal.
  auto log = logger();
  for (auto& sink : log->sinks()) sink->set_level(log->level());
  auto file_sink = std::make_shared<RunLogSink>(run_dir / "train.log", append);
  file_sink->set_level(spdlog::level::info);
  log->sinks().push_back(file_sink);
  g_run_log = file_sink;
  log->set_level(std::min(log->level(), spdlog::level::info));
  return run_dir;
}

void check_run_log() {
  if (g_run_log) g_run_log->check();
}

std::string timestamp() {
  char buf[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&now));
  return buf;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace faceid::facetrain
