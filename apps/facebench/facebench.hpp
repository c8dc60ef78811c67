#pragma once
// facebench's options and measurements (measure.cpp); main.cpp binds the flags and prints the line.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "../common/cli.hpp"
#include "../common/preprocess_options.hpp"
#include "faceid/model/model.hpp"

namespace faceid::facebench {

struct Options {
  std::string what = "train", arch = "koch", lfw, image, out;  // koch: the seed's benchmarks
  int batch = 16, steps = 10, workers = 1, size = 100, photos = 10;
  std::int64_t faces = 200000;
  bool bf16 = false;  // embed, recipe: bfloat16 autocast
  cli::PipelineOptions pipeline;
};

/// fp32 matrix product GFLOP/s ("gflops"): the machine's ceiling for this BLAS.
void gemm(nlohmann::json& out);
/// Training steps of `config` on random tensors, compute only ("pairs_per_second").
void train_compute(const ModelConfig& config, const Options& o, nlohmann::json& out);
/// Training steps fed by the face cache -> pairs -> augmentation loader ("pairs_per_second").
void train_end_to_end(const ModelConfig& config, const Options& o, const cli::CommonOptions& common,
                      nlohmann::json& out);
/// The from-scratch recipe's Trainer steps on random chips ("images_per_second",
/// "data_wait_share").
void recipe_steps(const Options& o, const cli::CommonOptions& common, nlohmann::json& out);
/// Inference embeddings, fp32 or under bfloat16 autocast ("faces_per_second").
void embed(const ModelConfig& config, const Options& o, nlohmann::json& out);
/// faceverify's cost per face with 50 references, cached vs the seed's pair-forwards.
void verify_latency(const ModelConfig& config, const Options& o, nlohmann::json& out);
/// Writes a synthetic folder-per-person face set (not a measurement).
void synthetic_set(const Options& o, const cli::CommonOptions& common, nlohmann::json& out);

}  // namespace faceid::facebench
