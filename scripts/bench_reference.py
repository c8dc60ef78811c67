#!/usr/bin/env python3
"""Reference PyTorch (Python) implementation of faceid's Siamese net and training step, for the
benchmark (scripts/bench.sh). Same architecture, same batch, same threads; its data pipeline is
the seed tutorial's: decode each JPEG and resize it to the model input on every step.

Prints one JSON object per measurement on stdout.
"""
import argparse
import glob
import json
import os
import random
import resource
import time

import cv2
import torch
import torch.nn as nn
import torch.nn.functional as F


class Koch(nn.Module):
    def __init__(self, width=1, size=100, embedding=4096):
        super().__init__()
        c = [64 // width, 128 // width, 128 // width, 256 // width]
        self.features = nn.Sequential(
            nn.Conv2d(3, c[0], 10), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c[0], c[1], 7), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c[1], c[2], 4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c[2], c[3], 4), nn.ReLU(), nn.Flatten())
        s = size
        s = (s - 9) // 2; s = (s - 6) // 2; s = (s - 3) // 2; s = s - 3
        self.embedding = nn.Linear(c[3] * s * s, embedding)
        self.classifier = nn.Linear(embedding, 1)

    def embed(self, x):
        return torch.sigmoid(self.embedding(self.features(x)))

    def forward(self, a, b):
        e = self.embed(torch.cat([a, b]))
        n = a.shape[0]
        return self.classifier((e[:n] - e[n:]).abs()).squeeze(-1)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def step(net, opt, a, b, y):
    loss = F.binary_cross_entropy_with_logits(net(a, b), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--what", choices=["gemm", "train", "e2e", "embed"], required=True)
    ap.add_argument("--arch", default="koch")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lfw", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    width = 2 if a.arch == "koch-small" else 1
    out = {"impl": "pytorch-python", "what": a.what, "arch": a.arch, "batch": a.batch, "threads": a.threads}

    if a.what == "gemm":
        n = 2048
        x, y = torch.rand(n, n), torch.rand(n, n)
        torch.mm(x, y)
        t = time.perf_counter()
        reps = 10
        for _ in range(reps):
            torch.mm(x, y)
        out["gflops"] = 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9
    elif a.what in ("train", "e2e"):
        net = Koch(width)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        files = sorted(glob.glob(os.path.join(a.lfw, "*", "*.jpg"))) if a.what == "e2e" else []
        rng = random.Random(0)

        def load(path):  # the seed's pipeline: decode + resize + scale, every step
            img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
            img = cv2.resize(img, (100, 100))
            return torch.from_numpy(img).permute(2, 0, 1).float() / 255.0

        def batch():
            if a.what == "train":
                return torch.rand(a.batch, 3, 100, 100), torch.rand(a.batch, 3, 100, 100), torch.randint(0, 2, (a.batch,)).float()
            xs = torch.stack([load(rng.choice(files)) for _ in range(a.batch)])
            ys = torch.stack([load(rng.choice(files)) for _ in range(a.batch)])
            return xs, ys, torch.randint(0, 2, (a.batch,)).float()

        step(net, opt, *batch())  # warm-up
        t = time.perf_counter()
        for _ in range(a.steps):
            step(net, opt, *batch())
        out["pairs_per_second"] = a.batch * a.steps / (time.perf_counter() - t)
    else:
        net = Koch(width).eval()
        x = torch.rand(64, 3, 100, 100)
        with torch.no_grad():
            net.embed(x)
            t = time.perf_counter()
            for _ in range(a.steps):
                net.embed(x)
        out["faces_per_second"] = 64 * a.steps / (time.perf_counter() - t)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
