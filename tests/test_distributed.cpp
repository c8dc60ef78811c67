#include "faceid/train/distributed.hpp"

#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "faceid/error.hpp"

using namespace faceid;

namespace {

// Sets environment variables for one test and restores them after it.
class Env {
 public:
  Env(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
      if (value)
        setenv(name, value, 1);
      else
        unsetenv(name);
    }
  }
  ~Env() {
    for (const auto& [name, value] : saved_)
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Runs f(rank) on one thread per rank, as the ranks of a run would.
template <class F>
void on_every_rank(int world_size, F f) {
  std::vector<std::thread> threads;
  for (int r = 0; r < world_size; ++r) threads.emplace_back(f, r);
  for (auto& t : threads) t.join();
}

}  // namespace

TEST(RankFromEnv, ReadsTorchrunsVariables) {
  {
    Env env{{"WORLD_SIZE", nullptr},
            {"RANK", nullptr},
            {"LOCAL_RANK", nullptr},
            {"MASTER_ADDR", nullptr},
            {"MASTER_PORT", nullptr}};
    const RankInfo alone = rank_from_env();
    EXPECT_EQ(alone.world_size, 1);
    EXPECT_EQ(alone.rank, 0);
  }
  Env env{{"WORLD_SIZE", "4"},
          {"RANK", "3"},
          {"LOCAL_RANK", "1"},
          {"MASTER_ADDR", "10.0.0.7"},
          {"MASTER_PORT", "1234"}};
  const RankInfo info = rank_from_env();
  EXPECT_EQ(info.world_size, 4);
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.master_addr, "10.0.0.7");
  EXPECT_EQ(info.master_port, 1234);
}

TEST(RankFromEnv, RejectsMalformedValues) {
  for (const auto& [world, rank, port] :
       std::vector<std::tuple<const char*, const char*, const char*>>{{"2", "2", "29500"},
                                                                      {"two", "0", "29500"},
                                                                      {"2", "-1", "29500"},
                                                                      {"2", "0", "70000"},
                                                                      {"0", "0", "29500"}}) {
    Env env{{"WORLD_SIZE", world}, {"RANK", rank}, {"MASTER_PORT", port}};
    try {
      rank_from_env();
      ADD_FAILURE() << world << " " << rank << " " << port << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
    }
  }
}

TEST(Collective, AveragesBroadcastsAndReducesOverTheRanks) {
  if (!have_gloo()) GTEST_SKIP() << "built without Gloo";
  const int n = 3;
  auto ranks = Collective::in_process(n, std::chrono::seconds(30));
  ASSERT_EQ(ranks.size(), 3u);
  std::vector<torch::Tensor> averaged(n), broadcast(n);
  std::vector<std::vector<double>> sums(n), maxima(n);
  on_every_rank(n, [&](int r) {
    auto& group = *ranks[static_cast<std::size_t>(r)];
    EXPECT_EQ(group.rank(), r);
    EXPECT_EQ(group.world_size(), n);
    // Two tensors of different shapes: one flat buffer goes over the wire, the shapes come back.
    std::vector<torch::Tensor> grads{torch::full({2, 2}, float(r)),
                                     torch::full({3}, float(10 * r))};
    group.average(grads);
    averaged[static_cast<std::size_t>(r)] = torch::cat({grads[0].reshape({-1}), grads[1]});
    std::vector<torch::Tensor> weights{torch::full({4}, float(r + 7))};
    group.broadcast(weights);
    broadcast[static_cast<std::size_t>(r)] = weights[0];
    sums[static_cast<std::size_t>(r)] = group.sum({double(r), 1.0});
    maxima[static_cast<std::size_t>(r)] = group.max({double(r), -double(r)});
  });
  const auto expected = torch::tensor({1.f, 1.f, 1.f, 1.f, 10.f, 10.f, 10.f});  // mean of 0,1,2
  for (int r = 0; r < n; ++r) {
    const auto i = static_cast<std::size_t>(r);
    EXPECT_TRUE(torch::allclose(averaged[i], expected)) << r << averaged[i];
    EXPECT_TRUE(torch::equal(broadcast[i], torch::full({4}, 7.f))) << r;  // rank 0's
    EXPECT_EQ(sums[i], (std::vector<double>{3.0, 3.0}));
    EXPECT_EQ(maxima[i], (std::vector<double>{2.0, 0.0}));
  }
}

TEST(Collective, ARankThatLeavesMakesTheOthersFailInsteadOfHanging) {
  if (!have_gloo()) GTEST_SKIP() << "built without Gloo";
  // A long timeout: the closed connection, not the timeout, must end the wait.
  auto ranks = Collective::in_process(2, std::chrono::seconds(120));
  ranks[1].reset();  // rank 1 is gone: its connections close
  const auto start = std::chrono::steady_clock::now();
  try {
    ranks[0]->sum({1.0});
    ADD_FAILURE() << "a collective without its peer returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(std::string(e.what()).find("another rank stopped"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
}
