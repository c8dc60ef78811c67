// faceserve: the owner's face-ID web page and HTTP API (docs/design.md §10). Loads the model and
// the reference embeddings once, then serves the page and /api/verify until SIGINT or SIGTERM,
// after which the requests in flight are finished and it exits 0. With --library, a background
// scan proposes the owner's faces in a photo library for the page's review (enrol_view.hpp).
//
// Exit codes (docs/design.md §9): 0 stopped by a signal, 2 usage (or the address cannot be bound),
// 3 references unusable, 4 model.

#include <csignal>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "../common/cli.hpp"
#include "../common/preprocess_options.hpp"
#include "../common/verdicts.hpp"
#include "faceid/log.hpp"
#include "server.hpp"

using namespace faceid;

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) {
  g_stop = 1;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
  std::signal(SIGTERM, SIG_DFL);
}

int run(serve::ServeOptions o, const cli::PipelineOptions& pipeline,
        const cli::CommonOptions& common) {
  o.device = common.device;
  o.threads = cli::resolve_threads(common.threads);
  o.yunet_model = pipeline.yunet_model;
  o.cache_dir = pipeline.cache_dir;
  serve::FaceServer server(o);
  const int port = server.bind();
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // The handler only sets a flag; this thread turns it into a graceful stop.
  std::thread watcher([&] {
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    logger()->info("stopping: finishing the requests in flight");
    server.stop();
  });
  std::cout << "faceserve: listening on http://" << o.host << ":" << port << "/" << std::endl;
  server.run();
  g_stop = 1;
  watcher.join();
  logger()->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  serve::ServeOptions o;
  cli::PipelineOptions pipeline;
  cli::UnsureOptions unsure;
  return cli::run_main(
      argc, argv,
      {"faceserve",
       "The owner's face-ID web page and HTTP API: open http://HOST:PORT/ and drop a photo, or use "
       "the webcam. POST /api/verify takes a JPEG or PNG and answers faceverify's JSON. Runs until "
       "Ctrl-C / SIGTERM (exit 0).",
       [&](CLI::App& app, cli::CommonOptions&) {
         app.add_option("-m,--model", o.model, "Model bundle folder (from facetrain)")
             ->capture_default_str();
         app.add_option("--refs", o.refs,
                        "Folder of the owner's reference photos (siamese models; an owner model "
                        "needs none)")
             ->capture_default_str();
         app.add_option("--host", o.host, "Address to listen on (0.0.0.0: every interface)")
             ->capture_default_str();
         app.add_option("--port", o.port, "Port to listen on (0: any free port)")
             ->check(CLI::Range(0, 65535))
             ->capture_default_str();
         app.add_option("--workers", o.workers,
                        "Requests processed at once (the model runs one picture at a time)")
             ->check(CLI::Range(1, 64))
             ->capture_default_str();
         app.add_option("--queue", o.queue,
                        "Requests waiting for a worker; beyond that: 503 with Retry-After")
             ->check(CLI::Range(0, 1000))
             ->capture_default_str();
         app.add_option("--max-upload-mb", o.max_upload_mb, "Largest upload in MB (413 beyond)")
             ->check(CLI::Range(0.01, 1024.0))
             ->capture_default_str();
         app.add_option("--max-megapixels", o.max_megapixels,
                        "Largest picture in megapixels, read from its header (413 beyond)")
             ->check(CLI::Range(0.01, 1000.0))
             ->capture_default_str();
         app.add_option("--timeout", o.timeout_s, "Socket read and write timeout in seconds")
             ->check(CLI::Range(1, 3600))
             ->capture_default_str();
         app.add_option("--save-dir", o.save_dir,
                        "Keep every upload and its JSON here (default: nothing is written)");
         auto* library =
             app.add_option("--library", o.library,
                            "A photo library (only read): the page's \"Find me in my photos\" "
                            "view proposes the owner's faces in it, grouped by day")
                 ->check(CLI::ExistingDirectory);
         auto* seeds =
             app.add_option("--seeds", o.seeds,
                            "A few photos of the owner that start the search in --library")
                 ->check(CLI::ExistingDirectory);
         library->needs(seeds);
         seeds->needs(library);
         app.add_option("--enrol-into", o.enrol_into,
                        "Where confirming the view's faces writes (a folder per day, references/, "
                        "enrolment.json); nothing is written before")
             ->capture_default_str();
         app.add_option("--cluster", o.cluster, "How the library's faces are grouped into people")
             ->check(CLI::IsMember({"average", "whispers"}))
             ->capture_default_str();
         cli::add_threshold_options(app, o.threshold, o.ratio);
         cli::add_unsure_options(app, unsure);
         cli::add_model_pipeline_options(app, pipeline);
       },
       [&](const cli::CommonOptions& common) {
         o.min_face = unsure.min_face;
         o.min_sharpness = unsure.min_sharpness;
         return run(o, pipeline, common);
       }});
}
