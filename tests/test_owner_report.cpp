#include "faceid/owner_report.hpp"

#include <torch/torch.h>

#include "faceid/error.hpp"
#include "faceid/face_pipeline.hpp"
#include "faceid/train/owner_run.hpp"
#include "faceid/train/training_run.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::TempDir;

// The owner report's scoring on synthetic faces and an owner model trained on them in-process
// (no ../shared/data): verdicts, TAR/FAR, AUC, the JSON and the histograms.
TEST(OwnerReport, ScoresAnOwnerModelOnOwnerAndStrangerFaces) {
  TempDir dir;
  const FaceSet faces = faceid::test::owner_and_strangers();
  const PoolSplit split = faceid::test::owner_split(faces);
  PreprocessConfig preprocess = FacePipeline(PreprocessConfig{}).config();  // a detector here
  LoadedBundle base = faceid::test::general_bundle(dir / "general", faces, split, preprocess);
  const std::vector<int> held = split.val.stranger_ids();
  OwnerTrainConfig config;
  config.owner_copies = 4;
  config.seed = 3;
  OwnerRun run = train_owner_run(base, (dir / "general").string(), faces.chips, split, held, config,
                                 false, {0.01, 0.5});
  save_bundle(dir / "owner", run.info, base.net, &run.head);

  RuleReport r;
  r.label = "owner model";
  r.model = (dir / "owner").string();
  r.verifier = std::make_unique<Verifier>(dir / "owner", "cpu");
  ASSERT_TRUE(r.owner_kind());
  // The one scorer the tools talk to: an owner model needs no references (the folder is not even
  // looked at), --threshold is its P(owner) threshold, and --ratio is refused.
  r.refs = r.verifier->prepare(dir / "no such folder", dir / "cache", 1);
  EXPECT_FALSE(r.refs.needed);
  EXPECT_EQ(r.refs.used, 0u);
  const float calibrated = r.verifier->thresholds().owner;
  r.verifier->override_thresholds(0.25f, std::nullopt);
  EXPECT_FLOAT_EQ(r.verifier->thresholds().owner, 0.25f);
  EXPECT_EQ(r.verifier->rule(r.refs), "P(owner) > 0.2500");
  EXPECT_THROW(r.verifier->override_thresholds(std::nullopt, 0.5f), Error);
  r.verifier->override_thresholds(calibrated, std::nullopt);
  const auto owner_chips =
      faces.chips.gather(std::vector<std::int64_t>(split.val.owner.begin(), split.val.owner.end()));
  const auto stranger_chips =
      faces.chips.gather(std::vector<std::int64_t>(held.begin(), held.end()));
  score_rule(r, owner_chips, stranger_chips, 0.01);
  EXPECT_EQ(r.owner.accepted, 4u);
  EXPECT_EQ(r.strangers.accepted, 0u);
  EXPECT_DOUBLE_EQ(r.auc_share, 1.0);
  EXPECT_EQ(r.rule().rfind("P(owner) > ", 0), 0u);
  const auto j = rule_json(r, 0.01);
  EXPECT_DOUBLE_EQ(j.at("tar").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j.at("far").get<double>(), 0.0);
  EXPECT_EQ(j.at("kind"), kOwnerKind);
  EXPECT_DOUBLE_EQ(j.at("for_target_far").at("target_far").get<double>(), 0.01);
  const auto charts = rule_histograms(r);
  ASSERT_EQ(charts.size(), 1u);  // an owner model: P(owner) only
  EXPECT_FALSE(charts[0].empty());
  EXPECT_THROW(score_rule(r, owner_chips, stranger_chips.slice(0, 0, 0), 0.01), Error);

  FaceChips a{{"x.jpg"}, owner_chips.slice(0, 0, 1), 2};
  const FaceChips b{{"y.jpg", "z.jpg"}, owner_chips.slice(0, 1, 3), 3};
  a.append(b);
  EXPECT_EQ(a.files.size(), 3u);
  EXPECT_EQ(a.chips.size(0), 3);
  EXPECT_EQ(a.photos, 5u);
}
