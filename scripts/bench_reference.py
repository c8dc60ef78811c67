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


class ConvBn(nn.Sequential):
    def __init__(self, i, o, k, s):
        super().__init__(nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o))


class Block(nn.Module):
    def __init__(self, i, o, s):
        super().__init__()
        self.conv1, self.conv2, self.shortcut = ConvBn(i, o, 3, s), ConvBn(o, o, 3, 1), ConvBn(i, o, 1, s)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))) + self.shortcut(x))


class ResNet(nn.Module):
    """faceid's default architecture (lib/core/src/model.cpp, "resnet"): 3x3/s2 stem, four one-block
    stages 32/64/128/256 each halving the map, dropout 0.2, dense 256 + BatchNorm1d, L2-normalised;
    the Siamese head is a linear layer on |e1 - e2|."""

    def __init__(self, size=100, dim=256):
        super().__init__()
        w = [32, 64, 128, 256]
        layers = [ConvBn(3, w[0], 3, 2), nn.ReLU()]
        side = (size + 1) // 2
        for k in range(4):
            layers.append(Block(w[max(k - 1, 0)], w[k], 2))
            side = (side + 1) // 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.drop = nn.Dropout(0.2)
        self.embedding = nn.Linear(w[3] * side * side, dim)
        self.embedding_bn = nn.BatchNorm1d(dim)
        self.classifier = nn.Linear(dim, 1)

    def embed(self, x):
        return F.normalize(self.embedding_bn(self.embedding(self.drop(self.features(x)))), dim=1)


class DlibConv(nn.Module):
    """conv + bias, then the per-channel scale layer (x * w + b), as the TF.js weights store them."""

    def __init__(self, i, o, k, s, same):
        super().__init__()
        self.conv = nn.Conv2d(i, o, k, s, k // 2 if same else 0)
        self.w, self.b = nn.Parameter(torch.ones(o)), nn.Parameter(torch.zeros(o))

    def forward(self, x):
        return self.conv(x) * self.w.view(1, -1, 1, 1) + self.b.view(1, -1, 1, 1)


class DlibBlock(nn.Module):
    def __init__(self, i, o, down):
        super().__init__()
        self.down = down
        self.conv1, self.conv2 = DlibConv(i, o, 3, 2 if down else 1, not down), DlibConv(o, o, 3, 1, True)

    def forward(self, x):
        out = self.conv2(F.relu(self.conv1(x)))
        if not self.down:
            return F.relu(out + x)
        short = F.avg_pool2d(x, 2, 2)
        out = F.pad(out, (0, short.shape[3] - out.shape[3], 0, short.shape[2] - out.shape[2]))
        if short.shape[1] != out.shape[1]:
            short = torch.cat([short, torch.zeros_like(short)], 1)
        return F.relu(out + short)


class DlibResNet(nn.Module):
    """dlib's face descriptor as face-api runs it (faceid's "dlib-resnet"): 150 px, 7x7/s2 stem +
    max pool, residual stages 32/64/128/256, mean pool, dense 128; the plain PyTorch way (no
    folding), as the pretrained peer of ../shared/reference was measured."""

    def __init__(self):
        super().__init__()
        self.stem = DlibConv(3, 32, 7, 2, False)
        blocks, w = [], 32
        for name in ["32", "32", "32", "64d", "64", "64", "64", "128d", "128", "128", "256d", "256", "256", "256d"]:
            o = int(name.rstrip("d"))
            blocks.append(DlibBlock(w, o, name.endswith("d")))
            w = o
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(256, 128, bias=False)
        self.register_buffer("mean", torch.tensor([122.782, 117.001, 104.298]).view(1, 3, 1, 1))

    def embed(self, x):
        x = (x * 255 - self.mean) / 255
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2)
        return F.normalize(self.fc(self.blocks(x).mean((2, 3))), dim=1)


def augment_batch(x):
    """Batched flip / rotation / scale / shift (one resampling) and contrast / brightness, as faceid."""
    b = x.shape[0]
    angle = (torch.rand(b) * 2 - 1) * 10 * 3.14159265 / 180
    scale = 1 + (torch.rand(b) * 2 - 1) * 0.08
    flip = torch.where(torch.rand(b) < 0.5, -1.0, 1.0)
    th = torch.zeros(b, 2, 3)
    th[:, 0, 0] = flip * angle.cos() / scale
    th[:, 0, 1] = -angle.sin() / scale
    th[:, 1, 0] = flip * angle.sin() / scale
    th[:, 1, 1] = angle.cos() / scale
    th[:, :, 2] = (torch.rand(b, 2) * 2 - 1) * 0.1
    x = F.grid_sample(x, F.affine_grid(th, x.shape, align_corners=False), padding_mode="border", align_corners=False)
    gain = 1 + (torch.rand(b, 1, 1, 1) * 2 - 1) * 0.2
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * gain + mean + (torch.rand(b, 1, 1, 1) * 2 - 1) * 0.15
    return (x + torch.randn_like(x) * 0.01).clamp(0, 1)


def recipe_step(net, ids, opt, chips, labels):
    """One step of faceid's default recipe: P x K batch, CosFace (m 0.35, s 30) on every image and
    the head's BCE on every in-batch positive pair and each image's hardest negative."""
    x = augment_batch(chips.permute(0, 3, 1, 2).float() / 255).contiguous(memory_format=torch.channels_last)
    e = net.embed(x)
    with torch.no_grad():
        same = labels[:, None] == labels[None, :]
        pos = (same & torch.ones_like(same).triu(1)).nonzero()
        best, idx = (e @ e.t()).masked_fill(same, -4).max(1)
    a = torch.cat([pos[:, 0], torch.arange(len(labels))])
    b = torch.cat([pos[:, 1], idx])
    target = torch.cat([torch.ones(len(pos)), torch.zeros(len(labels))])
    bce = F.binary_cross_entropy_with_logits(net.classifier((e[a] - e[b]).abs()).squeeze(-1), target)
    cos = e @ F.normalize(ids, dim=1).t()
    logits = 30 * (cos - 0.35 * F.one_hot(labels, ids.shape[0]))
    loss = bce + F.cross_entropy(logits, labels)
    opt.zero_grad()
    loss.backward()
    opt.step()


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def step(net, opt, a, b, y):
    loss = F.binary_cross_entropy_with_logits(net(a, b), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--what", choices=["gemm", "train", "e2e", "recipe", "embed"], required=True)
    ap.add_argument("--classes", type=int, default=4069)
    ap.add_argument("--size", type=int, default=100, help="chip side of the resnet rows (the Koch rows: 100)")
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
    elif a.what == "recipe":
        net = ResNet(a.size).to(memory_format=torch.channels_last)
        ids = nn.Parameter(torch.randn(a.classes, 256) * 0.01)
        opt = torch.optim.AdamW(list(net.parameters()) + [ids], lr=2e-3, weight_decay=5e-4)
        chips = torch.randint(0, 256, (a.batch, a.size, a.size, 3), dtype=torch.uint8)
        labels = torch.arange(a.batch // 2).repeat_interleave(2)
        recipe_step(net, ids, opt, chips, labels)  # warm-up
        t = time.perf_counter()
        for _ in range(a.steps):
            recipe_step(net, ids, opt, chips, labels)
        out["images_per_second"] = a.batch * a.steps / (time.perf_counter() - t)
        out["size"] = a.size
        out["arch"] = "resnet"
    else:
        # The Koch nets at the size they were measured at; dlib's net at its own.
        size = a.size if a.arch == "resnet" else 150 if a.arch == "dlib-resnet" else 100
        net = (ResNet(size) if a.arch == "resnet" else DlibResNet() if a.arch == "dlib-resnet" else Koch(width)).eval()
        x = torch.rand(64, 3, size, size)
        if a.arch == "resnet":
            net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
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
