#!/usr/bin/env node
// Reference face descriptors computed by the ORIGINAL TF.js face recognition
// model of @vladmandic/face-api 1.7.15, through the package's own code path
// (dist/face-api.node-wasm.js, FaceRecognitionNet.computeFaceDescriptor) on
// the pure-JS 'cpu' backend of @tensorflow/tfjs 4.22.0.
//
// usage: node descriptors.cjs MODEL_DIR CHIPS_FILE COUNT OUT_FILE
//   MODEL_DIR  holds face_recognition_model-weights_manifest.json and
//              face_recognition_model.bin
//              (as shipped: node_modules/@vladmandic/face-api/model)
//   CHIPS_FILE COUNT chips of 150x150x3 uint8 RGB, row-major HWC, back to back
//   COUNT      number of chips (integer >= 1)
//   OUT_FILE   receives COUNT x 128 float32 little-endian descriptors
//
// exit codes: 0 ok, 1 other failure, 2 usage, 3 unreadable/short chips file,
//             4 missing or corrupt model files
'use strict';

const fs = require('fs');
const path = require('path');

const CHIP = 150;
const CHIP_BYTES = CHIP * CHIP * 3;
const DIM = 128;
const MANIFEST = 'face_recognition_model-weights_manifest.json';
const SETUP_HINT = 'run scripts/setup.sh';

function die(code, msg) {
  process.stderr.write(`error: ${msg}\n`);
  process.exit(code);
}

function usage() {
  process.stderr.write('usage: node descriptors.cjs MODEL_DIR CHIPS_FILE COUNT OUT_FILE\n');
  process.exit(2);
}

const BYTES_PER_VALUE = { float32: 4, int32: 4, uint16: 2, uint8: 1, float16: 2, bool: 1 };

// Reads and checks the manifest and the weight files it names; returns
// { specs, data } for tf.io.decodeWeights. Exits with 4 on any problem.
function readModel(modelDir) {
  const manifestPath = path.join(modelDir, MANIFEST);
  let text;
  let manifest;
  try {
    text = fs.readFileSync(manifestPath, 'utf8');
  } catch (e) {
    die(4, `cannot read model manifest ${manifestPath} (${e.code || e.message}); ${SETUP_HINT}`);
  }
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    die(4, `corrupt model manifest ${manifestPath} (${e.message}); ${SETUP_HINT}`);
  }
  if (!Array.isArray(manifest) || manifest.length === 0
      || !manifest.every((g) => g && Array.isArray(g.weights) && Array.isArray(g.paths))) {
    die(4, `corrupt model manifest ${manifestPath} (not a weights manifest); ${SETUP_HINT}`);
  }
  const specs = [];
  const buffers = [];
  for (const group of manifest) {
    let expected = 0;
    for (const w of group.weights) {
      const bpv = BYTES_PER_VALUE[(w.quantization && w.quantization.dtype) || w.dtype];
      if (!w.name || !Array.isArray(w.shape) || !bpv) {
        die(4, `corrupt model manifest ${manifestPath} (bad entry ${JSON.stringify(w.name)}); ${SETUP_HINT}`);
      }
      expected += bpv * w.shape.reduce((a, b) => a * b, 1);
      specs.push(w);
    }
    let got = 0;
    const groupBuffers = [];
    for (const p of group.paths) {
      const binPath = path.join(modelDir, p);
      let buf;
      try {
        buf = fs.readFileSync(binPath);
      } catch (e) {
        die(4, `cannot read model weights ${binPath} (${e.code || e.message}); ${SETUP_HINT}`);
      }
      got += buf.length;
      groupBuffers.push(buf);
    }
    if (got !== expected) {
      die(4, `corrupt model weights ${group.paths.map((p) => path.join(modelDir, p)).join(', ')}`
        + ` (${got} bytes, manifest needs ${expected}); ${SETUP_HINT}`);
    }
    buffers.push(...groupBuffers);
  }
  const all = Buffer.concat(buffers);
  const data = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  return { specs, data, manifestPath };
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 4) usage();
  const [modelDir, chipsFile, countStr, outFile] = args;
  if (!/^[0-9]+$/.test(countStr) || Number(countStr) < 1) usage();
  const count = Number(countStr);

  let chips;
  try {
    chips = fs.readFileSync(chipsFile);
  } catch (e) {
    die(3, `cannot read chips file ${chipsFile} (${e.code || e.message})`);
  }
  if (chips.length < count * CHIP_BYTES) {
    die(3, `chips file ${chipsFile} is short: ${chips.length} bytes, ${count} chips need ${count * CHIP_BYTES}`);
  }

  const model = readModel(modelDir);

  // The package's own CommonJS build; it re-exports @tensorflow/tfjs (plus the
  // wasm backend, which it requires at load time but which is not used here).
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const { tf } = faceapi;
  tf.enableProdMode(); // only silences the "install tfjs-node" banner
  if (!(await tf.setBackend('cpu'))) die(1, 'cannot select the tfjs cpu backend');
  await tf.ready();

  let weightMap;
  try {
    weightMap = tf.io.decodeWeights(model.data, model.specs);
  } catch (e) {
    die(4, `corrupt model files in ${modelDir} (${e.message}); ${SETUP_HINT}`);
  }
  const net = faceapi.nets.faceRecognitionNet;
  try {
    net.loadFromWeightMap(weightMap);
  } catch (e) {
    die(4, `corrupt model files in ${modelDir} (${e.message}); ${SETUP_HINT}`);
  }

  const out = Buffer.alloc(count * DIM * 4);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) {
    const bytes = chips.subarray(i * CHIP_BYTES, (i + 1) * CHIP_BYTES);
    const input = tf.tensor4d(Float32Array.from(bytes), [1, CHIP, CHIP, 3], 'float32');
    const desc = await net.computeFaceDescriptor(input);
    input.dispose();
    if (!(desc instanceof Float32Array) || desc.length !== DIM) {
      die(1, `unexpected descriptor for chip ${i}`);
    }
    for (let k = 0; k < DIM; k += 1) out.writeFloatLE(desc[k], (i * DIM + k) * 4);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;

  try {
    fs.writeFileSync(outFile, out);
  } catch (e) {
    die(1, `cannot write ${outFile} (${e.code || e.message})`);
  }
  const extra = chips.length - count * CHIP_BYTES;
  process.stderr.write(`face-api ${faceapi.version} tfjs ${tf.version_core} backend ${tf.getBackend()}: `
    + `${count} descriptors -> ${outFile} in ${secs.toFixed(2)} s (${(secs / count).toFixed(3)} s/chip)`
    + `${extra ? `; ignored ${extra} trailing bytes of ${chipsFile}` : ''}\n`);
}

main().catch((e) => die(1, e && e.stack ? e.stack : String(e)));
