#include "faceid/score/pair_report.hpp"

#include "faceid/error.hpp"
#include "test_support.hpp"

using namespace faceid;
using faceid::test::expect_error;
using faceid::test::TempDir;
using faceid::test::write_file;

TEST(PairReport, ScoresFilesAreMatchedToPairsAndMalformedLinesNamed) {
  TempDir dir;
  write_file(dir / "pairs.txt", "1\nA 1 2\nA 1 B 1\n");
  const auto pairs = read_pairs_file(dir / "pairs.txt");
  write_file(dir / "ok.csv", "name1,n1,name2,n2,score\nB,1,A,1,0.2\nA,1,A,2,0.9\n");
  EXPECT_EQ(read_scores_csv(dir / "ok.csv", pairs), (std::vector<float>{0.9f, 0.2f}));
  write_file(dir / "bad.csv", "A,1,A,2,0.9\nA,1,B,x,0.2\n");
  try {
    read_scores_csv(dir / "bad.csv", pairs);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Input);
    EXPECT_NE(std::string(e.what()).find("bad.csv:2"), std::string::npos) << e.what();
  }
  write_file(dir / "short.csv", "A,1,A,2,0.9\n");
  try {
    read_scores_csv(dir / "short.csv", pairs);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no score for pair A 1 / B 1"), std::string::npos)
        << e.what();
  }
  // Scores that are not finite numbers would break the threshold search: refused by line.
  for (const char* odd : {"nan", "inf", "-INF", "NaN(1)"}) {
    write_file(dir / "odd.csv", std::string("A,1,A,2,0.9\nA,1,B,1,") + odd + "\n");
    faceid::test::expect_error(
        [&] { read_scores_csv(dir / "odd.csv", pairs); }, ErrorKind::Input,
        std::string("odd.csv:2: score '") + odd + "' is not a finite number");
  }
  const auto report = pairs_report(score_pairs(pairs, {0.9f, 0.2f}));
  EXPECT_DOUBLE_EQ(report.auc, 1.0);
}
