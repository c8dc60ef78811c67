#include "faceid/enrol.hpp"

#include <utime.h>

#include <atomic>
#include <ctime>
#include <set>

#include <nlohmann/json.hpp>

#include "faceid/error.hpp"
#include "faceid/image.hpp"
#include "faceid/verifier.hpp"
#include "fixture_model.hpp"
#include "test_images.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;
using faceid::test::TempDir;
using faceid::test::write_fixture_model;
namespace fs = std::filesystem;

namespace {

// Noon UTC of these days: the same local day in every time zone within 11 hours.
constexpr std::time_t kFirstDay = 1662552000;   // 2022-09-07 12:00 UTC
constexpr std::time_t kSecondDay = 1662811200;  // 2022-09-10 12:00 UTC

std::string local_day(std::time_t t) {
  std::tm local{};
  localtime_r(&t, &local);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &local);
  return text;
}

void copy_photo(const fs::path& from, const fs::path& to, std::time_t mtime) {
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  const utimbuf times{mtime, mtime};
  ::utime(to.c_str(), &times);
}

EnrolOptions options(const fs::path& library, const fs::path& seeds, const fs::path& cache) {
  EnrolOptions o;
  o.library = library;
  o.seeds = seeds;
  o.cache_dir = cache;
  return o;
}

// A library where the model (which says "same" only for identical faces, fixture_model.hpp)
// knows the answer: anchor photos 0-5 taken on the first day, copies of photos 0 and 1 taken on
// the second (in a sub-folder), three strangers, a truncated photo and a text file; the seeds
// are photos 0 and 1. The owner's faces are those four photos, two per day.
struct Library {
  TempDir dir;
  std::vector<fs::path> anchor;
  fs::path root() const { return dir / "library"; }
  fs::path seeds() const { return dir / "seeds"; }
  fs::path cache() const { return dir / "cache"; }

  explicit Library(const fs::path& owner, const fs::path& lfw) {
    anchor = list_images(owner);
    for (int i = 0; i < 6; ++i)
      copy_photo(anchor[i], root() / ("me_" + std::to_string(i) + ".jpg"), kFirstDay);
    copy_photo(anchor[0], root() / "2022" / "trip" / "again_0.jpg", kSecondDay);
    copy_photo(anchor[1], root() / "2022" / "trip" / "again_1.jpg", kSecondDay);
    for (int i = 1; i <= 3; ++i)
      copy_photo(lfw / ("George_W_Bush_000" + std::to_string(i) + ".jpg"),
                 root() / "news" / ("gwb_" + std::to_string(i) + ".jpg"), kFirstDay);
    const std::string bytes = test::read_file(anchor[2]);
    test::write_file(root() / "broken.jpg", bytes.substr(0, bytes.size() * 2 / 5));
    test::write_file(root() / "notes.txt", "not a photo");
    copy_photo(anchor[0], seeds() / "seed_0.jpg", kFirstDay);
    copy_photo(anchor[1], seeds() / "seed_1.jpg", kFirstDay);
    write_fixture_model(dir / "model");
  }

  Proposal propose() const {
    Verifier verifier(dir / "model");
    return propose_enrolment(verifier, options(root(), seeds(), cache()));
  }
};

std::set<std::string> names_of(const Proposal& p, const OwnerDay& day) {
  std::set<std::string> names;
  for (int id : day.faces) names.insert(fs::path(p.faces[id].file).filename().string());
  return names;
}

std::size_t files_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

}  // namespace

TEST(Enrol, ProposesTheSeedsFacesByDayAndSkipsTheUnreadable) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  FACEID_REQUIRE_DATA(lfw, "lfw/George_W_Bush");
  const Library lib(owner, lfw);
  const Proposal p = lib.propose();
  EXPECT_EQ(p.scan.photos, 12u);  // 6 + 2 + 3 + the broken one; not the text file
  EXPECT_EQ(p.scan.detected, 12u);
  ASSERT_EQ(p.scan.unreadable, 1u);
  EXPECT_NE(p.scan.unreadable_files[0].find("broken.jpg"), std::string::npos);
  EXPECT_GE(p.scan.faces, 11u);
  EXPECT_EQ(p.seed_faces, 2u);
  EXPECT_FLOAT_EQ(p.cut, 0.5f);  // the fixture's detection threshold (it has no strangers)
  ASSERT_EQ(p.days.size(), 2u);
  EXPECT_EQ(p.days[0].day, local_day(kFirstDay));
  EXPECT_EQ(p.days[1].day, local_day(kSecondDay));
  EXPECT_EQ(p.days[0].taken_from, "file time");
  EXPECT_EQ(names_of(p, p.days[0]), (std::set<std::string>{"me_0.jpg", "me_1.jpg"}));
  EXPECT_EQ(names_of(p, p.days[1]), (std::set<std::string>{"again_0.jpg", "again_1.jpg"}));
  for (const auto& d : p.days)
    for (int id : d.faces) {
      EXPECT_TRUE(p.faces[id].matches);
      EXPECT_FLOAT_EQ(p.faces[id].score, 0.5f);  // one of the two seeds
    }
  // Each photo and its copy make a group; every other face is alone, and not the owner's.
  std::size_t owner_groups = 0;
  for (const auto& g : p.groups) {
    owner_groups += g.owner;
    EXPECT_EQ(g.faces.size(), g.owner ? 2u : 1u);
  }
  EXPECT_EQ(owner_groups, 2u);
}

TEST(Enrol, ASecondRunDetectsAndEmbedsOnlyTheNewPhotos) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  FACEID_REQUIRE_DATA(lfw, "lfw/George_W_Bush");
  const Library lib(owner, lfw);
  const Proposal first = lib.propose();
  const Proposal again = lib.propose();
  EXPECT_EQ(again.scan.detected, 0u);
  EXPECT_EQ(again.scan.from_cache, 12u);
  EXPECT_EQ(again.scan.embedded, 0u);
  EXPECT_EQ(again.owner_faces(), first.owner_faces());
  EXPECT_EQ(again.scan.unreadable, 1u);  // remembered, not retried

  copy_photo(lib.anchor[6], lib.root() / "new" / "me_6.jpg", kSecondDay);
  copy_photo(lib.anchor[7], lib.root() / "new" / "me_7.jpg", kSecondDay);
  const Proposal grown = lib.propose();
  EXPECT_EQ(grown.scan.photos, 14u);
  EXPECT_EQ(grown.scan.detected, 2u);
  EXPECT_EQ(grown.scan.from_cache, 12u);
  EXPECT_EQ(grown.scan.embedded, grown.scan.faces - first.scan.faces);
  EXPECT_GE(grown.scan.embedded, 2u);
}

TEST(Enrol, AStoppedScanKeepsWhatItDetectedAndTheNextCarriesOn) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  FACEID_REQUIRE_DATA(lfw, "lfw/George_W_Bush");
  const Library lib(owner, lfw);
  Verifier verifier(lib.dir / "model");
  std::atomic<bool> stop{false};
  EnrolOptions o = options(lib.root(), lib.seeds(), lib.cache());
  o.stop = &stop;
  o.progress = [&](std::size_t done, std::size_t) { stop = stop || done >= 3; };
  expect_error([&] { propose_enrolment(verifier, o); }, ErrorKind::Input, "stopped after");
  try {
    propose_enrolment(verifier, o);
    ADD_FAILURE() << "not stopped";
  } catch (const ScanStopped&) {  // the type faceenroll and faceserve tell apart
  }
  const Proposal p = lib.propose();
  EXPECT_EQ(p.scan.detected + p.scan.from_cache, 12u);
  EXPECT_GE(p.scan.from_cache, 3u);
  EXPECT_GE(p.scan.detected, 1u);
  EXPECT_EQ(p.owner_faces(), 4u);
}

TEST(Enrol, ConfirmWritesExactlyTheTickedFacesAndUndoRemovesOnlyThem) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  FACEID_REQUIRE_DATA(lfw, "lfw/George_W_Bush");
  const Library lib(owner, lfw);
  const Proposal p = lib.propose();
  ASSERT_EQ(p.owner_faces(), 4u);
  std::vector<int> ticked;
  int unticked = -1;
  for (const auto& d : p.days)
    for (int id : d.faces) {
      if (p.faces[id].file.find("again_1") != std::string::npos)
        unticked = id;
      else
        ticked.push_back(id);
    }
  const fs::path into = lib.dir / "enrolled";
  const std::string day1 = p.days[0].day, day2 = p.days[1].day;
  const Enrolment e = confirm_enrolment(p, ticked, into, 1);
  EXPECT_EQ(e.faces, 3u);
  EXPECT_EQ(e.days, 2u);
  EXPECT_EQ(e.references, 2u);  // one per day
  EXPECT_EQ(files_in(into / day1), 2u);
  EXPECT_EQ(files_in(into / day2), 1u);
  EXPECT_FALSE(fs::exists(into / day2 / "again_1_0.jpg"));
  EXPECT_TRUE(fs::exists(into / day2 / "again_0_0.jpg"));
  EXPECT_EQ(files_in(into / "references"), 2u);
  EXPECT_TRUE(fs::exists(into / kEnrolmentManifest));
  EXPECT_EQ(e.files.size(), 3u + 2u + 1u);
  // A crop holds the face, and is what facetrain and faceverify detect it in.
  const cv::Mat crop = read_image(into / day2 / "again_0_0.jpg");
  EXPECT_LE(crop.cols, read_image(lib.anchor[0]).cols);
  EXPECT_EQ(FacePipeline(PreprocessConfig{}).make_detector()->detect(crop).size(), 1u);

  expect_error([&] { confirm_enrolment(p, ticked, into); }, ErrorKind::Usage, "undo it first");
  expect_error(
      [&] {
        confirm_enrolment(p, {unticked, 9999}, lib.dir / "x");
      },
      ErrorKind::Usage, "9999 is not one of the proposed faces");
  expect_error([&] { confirm_enrolment(p, {}, lib.dir / "x"); }, ErrorKind::Usage, "no face");
  expect_error([&] { confirm_enrolment(p, ticked, lib.root() / "2022" / "enrolled"); },
               ErrorKind::Usage, "inside the library");
  EXPECT_FALSE(fs::exists(lib.root() / "2022" / "enrolled"));
  EXPECT_FALSE(fs::exists(lib.dir / "x"));

  test::write_file(into / day1 / "mine.jpg", "the user's own file");
  EXPECT_EQ(undo_enrolment(into), 6u);  // 3 faces, 2 references and the manifest
  EXPECT_TRUE(fs::exists(into / day1 / "mine.jpg"));
  EXPECT_EQ(files_in(into), 1u);
  EXPECT_FALSE(fs::exists(into / day2));
  EXPECT_FALSE(fs::exists(into / "references"));
  expect_error([&] { undo_enrolment(into); }, ErrorKind::Input, "no enrolment to undo");
}

TEST(Enrol, TwoPhotosOfOneNameGetTwoFilesAndAFailedConfirmLeavesNothing) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  FACEID_REQUIRE_DATA(lfw, "lfw/George_W_Bush");
  const Library lib(owner, lfw);
  copy_photo(lib.anchor[0], lib.root() / "elsewhere" / "me_0.jpg", kFirstDay);
  const Proposal p = lib.propose();
  ASSERT_EQ(p.days[0].faces.size(), 3u);  // me_0, me_1 and elsewhere/me_0
  std::vector<int> all;
  for (const auto& d : p.days) all.insert(all.end(), d.faces.begin(), d.faces.end());
  const fs::path into = lib.dir / "enrolled";
  confirm_enrolment(p, all, into);
  EXPECT_TRUE(fs::exists(into / p.days[0].day / "me_0_0.jpg"));
  EXPECT_TRUE(fs::exists(into / p.days[0].day / "me_0_0-2.jpg"));
  undo_enrolment(into);

  // Another person's group as negatives (facetrain --negatives), never the owner's.
  const auto other =
      std::find_if(p.groups.begin(), p.groups.end(), [](const FaceGroup& g) { return !g.owner; });
  ASSERT_NE(other, p.groups.end());
  const Enrolment e = confirm_enrolment(p, all, into, 10, {other->id});
  EXPECT_EQ(e.negatives, other->faces.size());
  EXPECT_EQ(files_in(into / "negatives" / ("person-" + std::to_string(other->id))),
            other->faces.size());
  undo_enrolment(into);
  EXPECT_FALSE(fs::exists(into / "negatives"));
  const int owner_group = p.faces[p.days[0].faces[0]].group;
  expect_error([&] { confirm_enrolment(p, all, into, 10, {owner_group}); }, ErrorKind::Usage,
               "not one of the other people's groups");

  // A photo gone between the proposal and the confirm: the confirm fails, and what it had
  // written goes, folders and manifest included.
  fs::remove(lib.root() / "2022" / "trip" / "again_1.jpg");
  expect_error([&] { confirm_enrolment(p, all, into); }, ErrorKind::Input, "again_1.jpg");
  EXPECT_TRUE(fs::is_empty(into));  // it was there before (undo leaves the folder itself)
  expect_error([&] { confirm_enrolment(p, all, lib.dir / "new"); }, ErrorKind::Input, "again_1");
  EXPECT_FALSE(fs::exists(lib.dir / "new"));
}

TEST(Enrol, UndoRefusesAManifestPointingOutsideItsFolder) {
  TempDir dir;
  test::write_file(dir / "victim.txt", "keep me");
  test::write_file(dir / "enrolled" / kEnrolmentManifest, R"({"files": ["../victim.txt"]})");
  expect_error([&] { undo_enrolment(dir / "enrolled"); }, ErrorKind::Input, "outside the folder");
  EXPECT_TRUE(fs::exists(dir / "victim.txt"));
  test::write_file(dir / "enrolled" / kEnrolmentManifest, "{not json");
  expect_error([&] { undo_enrolment(dir / "enrolled"); }, ErrorKind::Input,
               "not an enrolment manifest");
}

TEST(Enrol, BadSeedsAndLibraries) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  FACEID_REQUIRE_DATA(lfw, "lfw/George_W_Bush");
  const Library lib(owner, lfw);
  Verifier verifier(lib.dir / "model");
  fs::create_directories(lib.dir / "empty");
  test::write_file(lib.dir / "empty" / "readme.txt", "no photos here");
  expect_error(
      [&] { propose_enrolment(verifier, options(lib.root(), lib.dir / "empty", lib.cache())); },
      ErrorKind::Usage, "no photos in the seeds folder");
  fs::create_directories(lib.dir / "landscape");
  test::write_landscape(lib.dir / "landscape" / "hills.png");
  expect_error(
      [&] { propose_enrolment(verifier, options(lib.root(), lib.dir / "landscape", lib.cache())); },
      ErrorKind::Input, "no face found");
  expect_error(
      [&] { propose_enrolment(verifier, options(lib.dir / "nowhere", lib.seeds(), lib.cache())); },
      ErrorKind::Input, "library folder not found");
  expect_error(
      [&] { propose_enrolment(verifier, options(lib.dir / "empty", lib.seeds(), lib.cache())); },
      ErrorKind::Input, "no photos");

  // Seeds in a sub-folder (a capture session, as references may be) count.
  copy_photo(lib.anchor[0], lib.dir / "nested_seeds" / "evening" / "s.jpg", kFirstDay);
  EXPECT_EQ(propose_enrolment(verifier, options(lib.root(), lib.dir / "nested_seeds", lib.cache()))
                .seed_faces,
            1u);

  // Seeds of someone who is not in the library: groups, but no owner.
  copy_photo(lib.anchor[20], lib.dir / "other_seeds" / "s.jpg", kFirstDay);
  const Proposal none =
      propose_enrolment(verifier, options(lib.root(), lib.dir / "other_seeds", lib.cache()));
  EXPECT_TRUE(none.days.empty());
  EXPECT_FALSE(none.groups.empty());
}

TEST(Enrol, TheProposalRoundTripsThroughJson) {
  FACEID_REQUIRE_DATA(owner, "owners/stads/anchor");
  FACEID_REQUIRE_DATA(lfw, "lfw/George_W_Bush");
  const Library lib(owner, lfw);
  const Proposal p = lib.propose();
  const nlohmann::json j = proposal_json(p);
  EXPECT_EQ(j["owner"]["faces"], 4);
  EXPECT_EQ(j["scan"]["unreadable"], 1);
  const Proposal back = proposal_from_json(j);
  EXPECT_EQ(proposal_json(back)["faces"], j["faces"]);
  EXPECT_EQ(proposal_json(back)["owner"], j["owner"]);
  EXPECT_EQ(proposal_json(back)["groups"], j["groups"]);
  nlohmann::json bad = j;
  bad["owner"]["days"][0]["faces"].push_back(100000);
  expect_error([&] { proposal_from_json(bad); }, ErrorKind::Input, "out of range");
  expect_error([] { proposal_from_json(nlohmann::json::array()); }, ErrorKind::Input,
               "not a faceenroll proposal");
  for (const std::string day : {"../../outside", "/tmp", "2022-09-07/../..", ""}) {
    nlohmann::json edited = j;  // a day becomes a folder name: only dates pass
    edited["owner"]["days"][0]["day"] = day;
    expect_error([&] { proposal_from_json(edited); }, ErrorKind::Input, "is not YYYY-MM-DD");
  }
  // The contact sheet of a day: a header and one thumbnail per face.
  const cv::Mat sheet = day_sheet(p, p.days[0], 100);
  EXPECT_EQ(sheet.rows, 30 + 100);
}
