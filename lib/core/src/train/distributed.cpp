#include "faceid/train/distributed.hpp"

#include <cstdlib>
#include <exception>
#include <thread>

#ifdef FACEID_WITH_GLOO
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include "faceid/error.hpp"

namespace faceid {
namespace {

// An integer environment variable, `fallback` when unset or empty.
int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (!value || !*value) return fallback;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  if (*end != '\0' || n < 0 || n > 1 << 20)
    throw usage_error(std::string(name) + "=" + value + ": not a non-negative integer");
  return static_cast<int>(n);
}

// The first line of a dependency's message (c10 errors carry a C++ backtrace after it).
std::string first_line(const std::exception& e) {
  const std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

}  // namespace

RankInfo rank_from_env() {
  RankInfo info;
  info.world_size = env_int("WORLD_SIZE", 1);
  if (info.world_size < 1) throw usage_error("WORLD_SIZE=0: a run needs at least one rank");
  info.rank = env_int("RANK", 0);
  info.local_rank = env_int("LOCAL_RANK", info.rank);
  if (info.rank >= info.world_size)
    throw usage_error("RANK=" + std::to_string(info.rank) +
                      " but WORLD_SIZE=" + std::to_string(info.world_size) + " (ranks are 0.." +
                      std::to_string(info.world_size - 1) + ")");
  if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) info.master_addr = addr;
  info.master_port = env_int("MASTER_PORT", info.master_port);
  if (info.master_port < 1 || info.master_port > 65535)
    throw usage_error("MASTER_PORT=" + std::to_string(info.master_port) + ": not a TCP port");
  return info;
}

#ifdef FACEID_WITH_GLOO

bool have_gloo() { return true; }

struct Collective::Group {
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

namespace {

// `loopback`: the tests' ranks inside one process. Otherwise Gloo's device is the network
// interface GLOO_SOCKET_IFNAME names, else the one this host's name resolves to (as in PyTorch).
std::unique_ptr<Collective::Group> make_group(const c10::intrusive_ptr<c10d::Store>& store,
                                              int rank, int world_size,
                                              std::chrono::seconds timeout, bool loopback) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
  options->devices.push_back(
      loopback                  ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
      : interface && *interface ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                : c10d::ProcessGroupGloo::createDefaultDevice());
  auto group = std::make_unique<Collective::Group>();
  group->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
  return group;
}

// Runs a collective, turning c10d's and Gloo's exceptions (a peer gone, a timeout) into ours.
template <class F>
void run_collective(const char* what, F&& f) {
  try {
    f()->wait();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw internal_error(std::string("data-parallel ") + what +
                         " failed (another rank stopped or is unreachable): " + first_line(e));
  }
}

}  // namespace

std::shared_ptr<Collective> Collective::connect(const RankInfo& info,
                                                std::chrono::seconds timeout) {
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(info.master_port);
    // Under torchrun's agent the store on MASTER_PORT is already served: every rank is a client.
    const char* agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    options.isServer = info.rank == 0 && !(agent_store && std::string(agent_store) == "True");
    options.numWorkers = info.world_size;
    options.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(info.master_addr, options);
    return std::shared_ptr<Collective>(
        new Collective(make_group(c10::make_intrusive<c10d::PrefixStore>("faceid", store),
                                  info.rank, info.world_size, timeout, false),
                       info.rank, info.world_size));
  } catch (const std::exception& e) {
    throw internal_error("rank " + std::to_string(info.rank) + " of " +
                         std::to_string(info.world_size) + ": cannot join the run at " +
                         info.master_addr + ":" + std::to_string(info.master_port) + ": " +
                         first_line(e));
  }
}

std::vector<std::shared_ptr<Collective>> Collective::in_process(int world_size,
                                                                std::chrono::seconds timeout) {
  auto store = c10::make_intrusive<c10d::HashStore>();
  // Each rank's constructor waits for the others: build them side by side.
  std::vector<std::unique_ptr<Group>> groups(static_cast<std::size_t>(world_size));
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(groups.size());
  for (int r = 0; r < world_size; ++r)
    threads.emplace_back([&, r] {
      try {
        groups[static_cast<std::size_t>(r)] = make_group(store, r, world_size, timeout, true);
      } catch (...) {
        errors[static_cast<std::size_t>(r)] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  std::vector<std::shared_ptr<Collective>> ranks;
  for (int r = 0; r < world_size; ++r)
    ranks.push_back(std::shared_ptr<Collective>(
        new Collective(std::move(groups[static_cast<std::size_t>(r)]), r, world_size)));
  return ranks;
}

void Collective::average(const std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return;
  std::vector<torch::Tensor> flat;
  for (const auto& t : tensors) flat.push_back(t.detach().reshape({-1}));
  std::vector<torch::Tensor> buffer{torch::cat(flat)};
  run_collective("allreduce", [&] { return group_->pg->allreduce(buffer); });
  buffer[0].div_(world_size_);
  std::int64_t offset = 0;
  torch::NoGradGuard no_grad;
  for (const auto& t : tensors) {
    t.copy_(buffer[0].narrow(0, offset, t.numel()).view_as(t));
    offset += t.numel();
  }
}

void Collective::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  torch::NoGradGuard no_grad;
  for (const auto& t : tensors) {
    std::vector<torch::Tensor> one{t.detach().contiguous()};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    run_collective("broadcast", [&] { return group_->pg->broadcast(one, options); });
    if (!one[0].is_same(t)) t.detach().copy_(one[0]);
  }
}

std::vector<double> Collective::reduce(const std::vector<double>& values, bool max) {
  std::vector<torch::Tensor> buffer{
      torch::tensor(values, torch::TensorOptions().dtype(torch::kFloat64))};
  c10d::AllreduceOptions options;
  options.reduceOp = max ? c10d::ReduceOp::MAX : c10d::ReduceOp::SUM;
  run_collective("allreduce", [&] { return group_->pg->allreduce(buffer, options); });
  const double* p = buffer[0].data_ptr<double>();
  return {p, p + values.size()};
}

#else  // built without Gloo's headers: single-process training only

bool have_gloo() { return false; }

struct Collective::Group {};

std::shared_ptr<Collective> Collective::connect(const RankInfo&, std::chrono::seconds) {
  throw usage_error(
      "this facetrain was built without Gloo (install libgloo-dev and rebuild): it cannot train "
      "on several ranks");
}

std::vector<std::shared_ptr<Collective>> Collective::in_process(int, std::chrono::seconds) {
  connect({}, {});
  return {};
}

void Collective::average(const std::vector<torch::Tensor>&) {}
void Collective::broadcast(const std::vector<torch::Tensor>&, int) {}
std::vector<double> Collective::reduce(const std::vector<double>& values, bool) { return values; }

#endif

Collective::Collective(std::unique_ptr<Group> group, int rank, int world_size)
    : group_(std::move(group)), rank_(rank), world_size_(world_size) {}

Collective::~Collective() = default;

std::vector<double> Collective::sum(const std::vector<double>& values) {
  return reduce(values, false);
}

std::vector<double> Collective::max(const std::vector<double>& values) {
  return reduce(values, true);
}

}  // namespace faceid
