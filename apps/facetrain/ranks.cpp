// facetrain --nproc N: starts N local ranks of a data-parallel run (this binary again, with
// torchrun's variables) and waits for them, as torchrun would on one machine.

#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "faceid/error.hpp"
#include "faceid/log.hpp"
#include "facetrain.hpp"

namespace faceid::facetrain {
namespace {

std::vector<pid_t> g_children;                 // written before the handlers are installed
volatile std::sig_atomic_t g_interrupted = 0;  // a Ctrl-C or SIGTERM was passed on

// Ctrl-C or a SIGTERM (a scheduler's stop) reaches every rank as a Ctrl-C: each stops at the same
// step and rank 0 checkpoints. (The ranks have process groups of their own, so that the
// terminal's Ctrl-C reaches them once, through here.)
extern "C" void forward_interrupt(int) {
  g_interrupted = 1;
  for (const pid_t child : g_children) kill(child, SIGINT);
}

// This process's environment with torchrun's variables for `rank` of `nproc` (built before fork:
// the child only calls async-signal-safe functions).
std::vector<std::string> rank_environment(int rank, int nproc, const std::string& port) {
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"RANK", std::to_string(rank)},        {"LOCAL_RANK", std::to_string(rank)},
      {"WORLD_SIZE", std::to_string(nproc)}, {"LOCAL_WORLD_SIZE", std::to_string(nproc)},
      {"MASTER_ADDR", "127.0.0.1"},          {"MASTER_PORT", port}};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (std::none_of(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; }))
      env.push_back(entry);
  }
  for (const auto& [name, value] : vars) env.push_back(name + "=" + value);
  return env;
}

// A free TCP port on this machine for the rendezvous (the kernel picks it; released at once).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw internal_error(std::string("cannot open a socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  if (!ok) throw internal_error(std::string("cannot find a free port: ") + std::strerror(errno));
  return ntohs(address.sin_port);
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return fmt::format("exited with {}", WEXITSTATUS(status));
}

int exit_code(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

int launch_local_ranks(int nproc, const std::vector<std::string>& args) {
  const char* port_env = std::getenv("MASTER_PORT");
  const std::string port = port_env && *port_env ? port_env : std::to_string(free_port());
  logger()->info("starting {} local ranks (c10d/Gloo on 127.0.0.1:{})", nproc, port);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t launcher = getpid();
  for (int rank = 0; rank < nproc; ++rank) {
    const auto env_strings = rank_environment(rank, nproc, port);
    std::vector<char*> env;
    for (const auto& e : env_strings) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      for (const pid_t child : g_children) kill(child, SIGKILL);
      throw internal_error(std::string("cannot start a rank: ") + std::strerror(errno));
    }
    if (pid == 0) {
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGTERM);     // no orphaned rank if the launcher is killed
      if (getppid() != launcher) _exit(5);  // ... even before prctl
      execve("/proc/self/exe", argv.data(), env.data());
      static const char message[] = "error: a rank cannot start: exec of /proc/self/exe failed\n";
      [[maybe_unused]] const auto written = write(STDERR_FILENO, message, sizeof message - 1);
      _exit(5);
    }
    g_children.push_back(pid);
  }
  std::signal(SIGINT, forward_interrupt);
  std::signal(SIGTERM, forward_interrupt);
  // Wait for every rank. Once one has failed the others should fail at their next collective;
  // any still running a minute later is stopped.
  std::vector<int> status(g_children.size(), -1);
  std::size_t running = g_children.size();
  int failed = -1;
  auto failed_at = std::chrono::steady_clock::now();
  while (running > 0) {
    int s = 0;
    const pid_t pid = waitpid(-1, &s, WNOHANG);
    if (pid > 0) {
      for (std::size_t r = 0; r < g_children.size(); ++r)
        if (g_children[r] == pid) {
          status[r] = s;
          --running;
          // 1 is a verdict (collapsed, or an unusable model), 130 a stop that was asked for.
          const int code = exit_code(s);
          const bool failure = code != 0 && code != 1 && !(g_interrupted && code == 130);
          if (failure && failed < 0) {
            failed = static_cast<int>(r);
            failed_at = std::chrono::steady_clock::now();
            logger()->warn("rank {} {}; stopping the other ranks", r, describe(s));
          }
        }
      continue;
    }
    if (pid < 0 && errno != EINTR)
      throw internal_error(std::string("waiting for the ranks: ") + std::strerror(errno));
    if (failed >= 0 && std::chrono::steady_clock::now() - failed_at > std::chrono::minutes(1)) {
      for (std::size_t r = 0; r < g_children.size(); ++r)
        if (status[r] == -1) kill(g_children[r], SIGKILL);
      failed_at = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  // Rank 0's exit code (it writes the model); another rank's failure when rank 0 succeeded.
  if (failed >= 0 && exit_code(status[0]) == 0) return exit_code(status[failed]);
  return exit_code(status[0]);
}

}  // namespace faceid::facetrain
