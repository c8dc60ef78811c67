#pragma once
// Data-parallel training across processes (docs/design.md §4): LibTorch's own distributed engine,
// c10d with the Gloo backend (what PyTorch's DistributedDataParallel and torchrun use), behind
// a small interface so that only distributed.cpp sees the c10d headers. The ranks find each
// other by torchrun's conventions: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace faceid {

/// Where this process stands in a data-parallel run.
struct RankInfo {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";  ///< rank 0's host: it serves the rendezvous store
  int master_port = 29500;
};

/// torchrun's variables from the environment; {rank 0, world 1} when WORLD_SIZE is unset. Throws
/// Error(Usage) for a malformed or inconsistent value (e.g. RANK >= WORLD_SIZE).
RankInfo rank_from_env();

/// True when this build has the Gloo backend (it needs Gloo's headers at build time).
bool have_gloo();

/// One rank's handle on the process group: every rank calls the same collectives in the same
/// order. A rank that dies or stops answering makes the others' collectives throw Error(Internal)
/// (a closed connection at once; a silent rank after the timeout) instead of hanging.
class Collective {
 public:
  /// Joins the run described by `info` over TCP (rank 0 serves the store at master_addr:
  /// master_port); waits up to `timeout` for the other ranks here and in every collective.
  /// Throws Error(Usage) without Gloo, Error(Internal) when the rendezvous fails.
  static std::shared_ptr<Collective> connect(const RankInfo& info, std::chrono::seconds timeout);
  /// `world_size` ranks of one process group inside this process (element r is rank r; each must
  /// be driven by its own thread): the tests' loopback run without processes.
  static std::vector<std::shared_ptr<Collective>> in_process(int world_size,
                                                             std::chrono::seconds timeout);
  ~Collective();
  Collective(const Collective&) = delete;
  Collective& operator=(const Collective&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }

  /// Every rank's tensors summed and divided by the world size, in place (one allreduce over a
  /// flat buffer): data-parallel SGD's gradient average. All float, same shapes on every rank.
  void average(const std::vector<torch::Tensor>& tensors);
  /// Rank `root`'s values copied into every rank's tensors, in place.
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
  /// Element-wise sum / maximum over the ranks.
  std::vector<double> sum(const std::vector<double>& values);
  std::vector<double> max(const std::vector<double>& values);

  struct Group;  ///< the c10d process group, opaque here

 private:
  Collective(std::unique_ptr<Group> group, int rank, int world_size);
  std::vector<double> reduce(const std::vector<double>& values, bool max);
  std::unique_ptr<Group> group_;
  int rank_ = 0, world_size_ = 1;
};

}  // namespace faceid
