// facetrain's flags, by part of the run (each binds to Options; defaults shown by --help are the
// from-scratch recipe's where the pretrained one differs, as each flag's text says).

#include "facetrain.hpp"

namespace faceid::facetrain {

// The faces: where the strangers and the owner's photos are, where the bundle goes.
void add_data_flags(CLI::App& app, Options& o) {
  app.add_option("--lfw", o.lfw,
                 "LFW-style root of strangers: <Person>/<image> (--lfw, --faces or both)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--faces", o.faces,
                 "More strangers: face sets laid out one folder per person "
                 "(<person>/<image>, e.g. CASIA-WebFace or a photo archive); their people "
                 "are named <root>/<person> and split like LFW's")
      ->check(CLI::ExistingDirectory);
  app.add_option("--self", o.self,
                 "Folders of the owner's photos, one per capture session (or one folder "
                 "with a sub-folder per session); with two or more sessions whole sessions "
                 "are held out for validation and calibration")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("-o,--out", o.output, "Model bundle folder to write")->capture_default_str();
  cli::add_old_spelling(app, "--output", "-o/--out", o.output);
  app.add_option("--run-dir", o.run_dir,
                 "Run folder (params, metrics, curves, log, checkpoint); default runs/<time>");
  app.add_option("--exclude-pairs", o.exclude_pairs,
                 "LFW pairs file(s) whose people are left out of training")
      ->check(CLI::ExistingFile);
}

// The start: the pretrained descriptor or a net from scratch, and its shape.
void add_model_flags(CLI::App& app, Options& o) {
  o.arch_option =
      app.add_option("--arch", o.arch,
                     "Train from scratch (--init none): resnet (the from-scratch recipe), "
                     "koch or koch-small (the seed's Koch net)")
          ->check(CLI::IsMember({"resnet", "koch", "koch-small"}))
          ->capture_default_str();
  o.init_option =
      app.add_option("--init", o.init,
                     "Start from: face-api (dlib's pretrained face descriptor from the npm "
                     "package scripts/setup.sh installs: 150 px chips of dlib's geometry; "
                     "LFW figures then belong to LFW's labeled-outside-data protocol) or "
                     "none (random weights: the from-scratch recipe; the default when "
                     "--arch is given)")
          ->check(CLI::IsMember({"none", "face-api"}))
          ->capture_default_str();
  app.add_option("--pretrained", o.pretrained,
                 "--init face-api: its model folder (default: $FACEID_FACE_API, else "
                 "pretrained/face-api/node_modules/@vladmandic/face-api/model)");
  o.train_layers_option =
      app.add_option("--train-layers", o.train_layers,
                     "--init face-api: what trains: head (the pretrained embedding "
                     "frozen; the default, one epoch), last (its last stage and "
                     "descriptor layer too) or all (both: --lr 1e-4 unless given)")
          ->check(CLI::IsMember({"head", "last", "all"}));
  app.add_option("--embedding-size", o.embedding_size, "Embedding size (0: resnet 256, koch 4096)")
      ->check(CLI::Range(0, kMaxEmbeddingSize))
      ->capture_default_str();
  app.add_option("--dropout", o.dropout,
                 "resnet: dropout before the embedding layer in training (-1: 0.2)")
      ->check(CLI::Range(-1.0, 0.9))
      ->capture_default_str();
  app.add_flag("--batch-norm", o.batch_norm, "koch: BatchNorm after each convolution");
  app.add_option("--input-norm", o.input_norm,
                 "Input normalisation: none (x/255) or face (each chip standardised on its "
                 "central half: brightness, contrast and colour cast cancel)")
      ->check(CLI::IsMember({"none", "face"}))
      ->capture_default_str();
}

// The training loop: time, batches, precision, ranks, optimiser.
void add_training_flags(CLI::App& app, Options& o) {
  o.budget_option = app.add_option("--time-budget", o.train.time_budget_minutes,
                                   "Minutes of training: the schedule ends and training "
                                   "stops then (0: run --epochs)")
                        ->check(CLI::Range(0.0, 100000.0))
                        ->capture_default_str();
  o.epochs_option =
      app.add_option("--epochs", o.train.epochs, "Epochs (the most, with a time budget)")
          ->check(CLI::Range(1, 100000))
          ->capture_default_str();
  app.add_option("--batch-people", o.train.batch.people, "P: different people per batch")
      ->check(CLI::Range(2, 4096))
      ->capture_default_str();
  app.add_option("--batch-photos", o.train.batch.photos, "K: photos of each person per batch")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--accumulate", o.train.accumulate,
                 "Batches per optimisation step and rank, their gradients averaged (a step "
                 "of ranks x accumulate x P x K photos)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--precision", o.train.precision,
                 "fp32, or bf16: the forward pass under bfloat16 autocast (for GPUs with "
                 "bfloat16 units; on this kind of CPU measured slower)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  app.add_option("--nproc", o.nproc,
                 "Train data-parallel on this many local ranks (processes; c10d/Gloo), the "
                 "cores shared among them; a launcher's RANK, WORLD_SIZE, MASTER_ADDR and "
                 "MASTER_PORT do the same across machines")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--rank-timeout", o.rank_timeout,
                 "Data-parallel: seconds a rank waits for the others to join and in each "
                 "exchange before it gives up (a rank that dies is noticed at once)")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  o.lr_option = app.add_option("--lr", o.train.learning_rate,
                               "Peak AdamW learning rate (warm-up, then cosine decay; koch: "
                               "2e-4 unless given)")
                    ->check(CLI::PositiveNumber)
                    ->capture_default_str();
  app.add_option("--warmup", o.train.warmup, "Fraction of the run spent warming up")
      ->check(CLI::Range(0.0, 0.5))
      ->capture_default_str();
  o.wd_option = app.add_option("--weight-decay", o.train.weight_decay,
                               "AdamW weight decay (koch: 5e-4 unless given)")
                    ->capture_default_str();
}

// The losses, validation and augmentation.
void add_loss_flags(CLI::App& app, Options& o) {
  app.add_option("--id-loss", o.train.id_loss.kind,
                 "Identity-margin loss on the embedding: cosface, arcface or none")
      ->check(CLI::IsMember({"cosface", "arcface", "none"}))
      ->capture_default_str();
  app.add_option("--id-weight", o.train.id_weight,
                 "Weight of the identity loss (the pair BCE has --pair-weight)")
      ->capture_default_str();
  app.add_option("--id-margin", o.train.id_loss.margin,
                 "Margin m (CosFace: cosine; ArcFace: radians)")
      ->capture_default_str();
  app.add_option("--id-scale", o.train.id_loss.scale, "Scale s of the identity logits")
      ->capture_default_str();
  app.add_option("--id-smoothing", o.train.id_smoothing,
                 "Label smoothing of the identity loss (0: one-hot targets)")
      ->check(CLI::Range(0.0, 0.5))
      ->capture_default_str();
  app.add_option("--ema", o.train.ema,
                 "Decay per step of a moving average of the weights that validation and "
                 "the bundle use (0: the last weights; e.g. 0.998)")
      ->check(CLI::Range(0.0, 0.9999))
      ->capture_default_str();
  app.add_option("--pair-weight", o.train.pair_weight,
                 "Weight of the Siamese head's binary cross-entropy")
      ->capture_default_str();
  app.add_option("--val-pairs", o.train.val_pairs, "Validation pairs per family")
      ->capture_default_str();
  o.val_option = app.add_option("--val-fraction", o.val_fraction,
                                "Share of people and owner photos held out (--init "
                                "face-api --train-layers head: 0.5 unless given)")
                     ->check(CLI::Range(0.0, 0.9))
                     ->capture_default_str();
  app.add_option("--patience", o.train.patience,
                 "Early stop after this many epochs without a better val AUC (0: never)")
      ->capture_default_str();
  app.add_flag("--no-augment", o.no_augment, "Train without augmentation");
  app.add_option("--erase-prob", o.train.augment.erase_prob,
                 "Random erasing: share of training chips with a rectangle of noise")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  o.zoom_option = app.add_option("--zoom-view", o.train.augment.zoom_view,
                                 "Second view of each face: the chip's centre zoomed in by "
                                 "this factor (the face without hair and background), shown "
                                 "for --zoom-prob of the training chips; faces are embedded "
                                 "as the sum of both views (0: off; koch: 0 unless given)")
                      ->check(CLI::Range(0.0, double{kMaxZoomView}))
                      ->capture_default_str();
  app.add_option("--zoom-prob", o.train.augment.zoom_prob,
                 "Share of training chips shown as the zoom view")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
}

// The owner rule's calibration, the references, resuming.
void add_calibration_flags(CLI::App& app, Options& o) {
  app.add_option("--target-far", o.calibration_far,
                 "False-accept rate the owner thresholds are calibrated for")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--references", o.references, "Owner reference photos used in calibration")
      ->capture_default_str();
  app.add_option("--min-owner-tar", o.min_owner_tar,
                 "Exit 1 (model unusable) when the calibrated rule accepts fewer of the "
                 "held-out owner photos")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--calibration-strangers", o.calibration_strangers,
                 "Held-out stranger faces used in calibration (0: all)")
      ->capture_default_str();
  app.add_option("--fill-refs", o.fill_refs,
                 "Copy the owner photos held out from training into this folder as "
                 "faceverify's references (e.g. verification_data)");
  app.add_flag("--resume", o.train.resume, "Continue the run in --run-dir from its checkpoint");
}

// --owner-only: the owner's own model on top of a general bundle.
void add_owner_flags(CLI::App& app, Options& o) {
  cli::add_pipeline_options(app, o.pipeline);
  auto* owner_only = app.add_flag(
      "--owner-only", o.owner_only,
      "Train the owner's own model on top of the general model --from: an owner-vs-everyone "
      "head on its embedding (owner photos positive; LFW people and --negatives negative; "
      "class-weighted BCE, augmented), its threshold calibrated for --target-far on "
      "held-out faces; writes an owner bundle that faceverify, faceeval and faceserve use "
      "without reference photos");
  app.add_option("--from", o.from,
                 "--owner-only: the general (siamese) model bundle to start from (required)")
      ->needs(owner_only);
  app.add_option("--negatives", o.negatives,
                 "--owner-only: folders of photos of other people (family, colleagues: the "
                 "hard cases), always training negatives; a folder with sub-folders is one "
                 "person per sub-folder")
      ->needs(owner_only)
      ->check(CLI::ExistingDirectory);
  app.add_option("--fine-tune", o.owner.fine_tune,
                 "--owner-only: none (frozen embedding, the head alone: seconds) or last "
                 "(then the last residual stage and the embedding layer with the head, at a "
                 "small learning rate)")
      ->needs(owner_only)
      ->check(CLI::IsMember({"none", "last"}))
      ->capture_default_str();
  o.owner_fit_option =
      app.add_option("--owner-fit", o.owner.fit,
                     "--owner-only: centroid (cosine to the owner's mean embedding) or bce "
                     "(class-weighted BCE on the embeddings; the default with --fine-tune "
                     "last or --owner-hidden)")
          ->needs(owner_only)
          ->check(CLI::IsMember({"bce", "centroid"}))
          ->capture_default_str();
  app.add_option("--owner-hidden", o.owner.hidden,
                 "--owner-only: hidden ReLU units of the owner head (0: logistic regression "
                 "on the embedding)")
      ->needs(owner_only)
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  app.add_option("--owner-copies", o.owner.owner_copies,
                 "--owner-only: augmented copies of each owner photo the head learns from")
      ->needs(owner_only)
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option(
         "--owner-weight-decay", o.owner.weight_decay,
         "--owner-only: AdamW weight decay of the owner head (and of the fine-tuned layers)")
      ->needs(owner_only)
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  app.add_option("--owner-steps", o.owner.fine_tune_steps,
                 "--owner-only --fine-tune last: joint steps (16 owner + 48 stranger faces each)")
      ->needs(owner_only)
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
}

void add_flags(CLI::App& app, Options& o) {
  add_data_flags(app, o);
  add_model_flags(app, o);
  add_training_flags(app, o);
  add_loss_flags(app, o);
  add_calibration_flags(app, o);
  add_owner_flags(app, o);
}

}  // namespace faceid::facetrain
