"""Train the small face-expression CNN ("fer-vgg") on FER2013 train, on the CPU, and export it.

Usage:
    python scripts/train_faces.py train --out runs/faces [--epochs 30] [--budget-minutes 105]
                                        [--resume]
    python scripts/train_faces.py export --ckpt runs/faces/best_ema.pt \
        --out resources/models/fer-vgg/fer_vgg.onnx

Data: ``../shared/data/fer2013/train/<label>/*.jpg`` (48x48 grayscale). A stratified 10 %
of it (seed 0) is held out for early stopping: the checkpoint kept is the one with the best
held-out accuracy. The PublicTest split is not read here (model selection between the
shipped variants is done on it by ``scripts/eval_faces.py``); PrivateTest is never read.

Method: a VGG-style network (4 stages of 3x3 conv + batch norm + ReLU, 1-2-2-2 convs,
24-48-96-192 channels, 2x2 max pooling between stages, global average pooling, dropout,
one linear layer; 0.66 M parameters) that takes raw 48x48 gray pixels (0..255) and
standardises each image itself (zero mean, unit variance), so the app only has to resize.
Training: SGD with Nesterov momentum, a one-cycle learning rate (linear warm-up, cosine
decay) driven by ``max(elapsed / budget, epoch / epochs)`` so that a run on a shared CPU
ends within its wall-time budget, label smoothing 0.1, weight decay 5e-4, an exponential
moving average of the weights (EMA, evaluated and checkpointed too), and augmentation on
each batch: random affine (rotation, scale, shift), horizontal flip, brightness/contrast
jitter and random erasing. Each epoch writes ``last.pt`` (model, EMA, optimiser, RNG state,
time spent), so a stopped run continues with ``--resume``; ``best.pt``/``best_ema.pt`` keep
the best held-out weights. The ONNX export (opset 17, softmax included, dynamic batch) is checked against
the torch model; the script fails when the largest difference exceeds 1e-4.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "fer2013"
# The same order as the mini-Xception model, so the two can be averaged directly.
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SIDE = 48
OPSET = 17
TOLERANCE = 1e-4
WIDTHS = (24, 48, 96, 192)  # channels of the four stages (48, 24, 12, 6 px)
DEPTHS = (1, 2, 2, 2)  # 3x3 convs per stage; one at 48 px keeps CPU training affordable


class FerVgg(nn.Module):
    """VGG-style CNN for 48x48 gray faces; input raw pixels (N, 1, 48, 48), output logits."""

    def __init__(
        self,
        widths: tuple[int, ...] = WIDTHS,
        depths: tuple[int, ...] = DEPTHS,
        dropout: float = 0.4,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for i, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            if i:
                layers.append(nn.MaxPool2d(2))
            for _ in range(depth):
                layers += [
                    nn.Conv2d(channels, width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                ]
                channels = width
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(channels, len(LABELS))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Standardise each image (lighting-invariant), then classify."""
        mean = pixels.mean(dim=(2, 3), keepdim=True)
        std = pixels.std(dim=(2, 3), keepdim=True)
        x = (pixels - mean) / (std + 1.0)  # +1 grey level keeps flat images finite
        x = self.features(x)
        x = x.mean(dim=(2, 3))
        return self.head(self.dropout(x))


class WithSoftmax(nn.Module):
    """The exported graph: probabilities instead of logits."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(pixels), dim=1)


def load_split(folder: Path, cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read ``folder/<label>/*.jpg`` into (N, 48, 48) uint8 pixels and (N,) label indices."""
    if cache is not None and cache.is_file():
        data = np.load(cache)
        return data["x"], data["y"]
    xs, ys = [], []
    for index, label in enumerate(LABELS):
        for path in sorted((folder / label).glob("*.jpg")):
            gray = Image.open(path).convert("L")
            if gray.size != (SIDE, SIDE):
                gray = gray.resize((SIDE, SIDE), Image.Resampling.BILINEAR)
            xs.append(np.asarray(gray, dtype=np.uint8))
            ys.append(index)
    x, y = np.stack(xs), np.asarray(ys, dtype=np.int64)
    if cache is not None:  # outside the repository (FER images must not be copied into it)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x, y=y)
    return x, y


def split_holdout(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split: (train indices, held-out indices)."""
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for label in range(len(LABELS)):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        held.append(idx[: round(len(idx) * fraction)])
    out = np.sort(np.concatenate(held))
    keep = np.setdiff1d(np.arange(len(y)), out)
    return keep, out


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random affine + flip + brightness/contrast + erasing on a batch of raw pixels."""
    n = x.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=gen)

    angle = uniform(-15, 15) * math.pi / 180
    scale = uniform(0.85, 1.15)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    tx, ty = uniform(-0.12, 0.12), uniform(-0.12, 0.12)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    contrast = uniform(0.7, 1.3)[:, None, None, None]
    brightness = uniform(-30, 30)[:, None, None, None]
    mean = x.mean(dim=(2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean + brightness).clamp(0, 255)
    # Random erasing: a grey box over up to ~20 % of the face in half of the images.
    erase = torch.rand(n, generator=gen) < 0.5
    side = (uniform(0.15, 0.45) * SIDE).long()
    x0 = (torch.rand(n, generator=gen) * (SIDE - side)).long()
    y0 = (torch.rand(n, generator=gen) * (SIDE - side)).long()
    cols = torch.arange(SIDE)
    inside_x = (cols[None, :] >= x0[:, None]) & (cols[None, :] < (x0 + side)[:, None])
    inside_y = (cols[None, :] >= y0[:, None]) & (cols[None, :] < (y0 + side)[:, None])
    box = (inside_y[:, :, None] & inside_x[:, None, :] & erase[:, None, None])[:, None]
    fill = torch.rand(n, 1, 1, 1, generator=gen) * 255
    return torch.where(box, fill.expand_as(x), x)


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, flip: bool = True, batch: int = 128) -> np.ndarray:
    """Probabilities for uint8 faces (N, 48, 48); with ``flip``, averaged with the mirror."""
    model.eval()
    out = []
    for start in range(0, len(x), batch):
        t = torch.from_numpy(x[start : start + batch]).float()[:, None]
        p = torch.softmax(model(t), 1)
        if flip:
            p = (p + torch.softmax(model(t.flip(3)), 1)) / 2
        out.append(p.numpy())
    return np.concatenate(out)


class Ema:
    """Exponential moving average of a model's weights (buffers copied as they are)."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = FerVgg().to(memory_format=torch.channels_last)
        self.model.load_state_dict(model.state_dict())
        self.model.eval()

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for ema_p, p in zip(self.model.parameters(), model.parameters(), strict=True):
            ema_p.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)
        for ema_b, b in zip(self.model.buffers(), model.buffers(), strict=True):
            ema_b.copy_(b)


def train(args: argparse.Namespace) -> int:
    """Train (or resume), checkpointing every epoch; log one JSON line per epoch."""
    torch.set_num_threads(args.threads)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    x, y = load_split(args.data / "train", args.cache)
    keep, held = split_holdout(y, args.holdout, seed=0)
    if args.limit:  # a quick smoke run of the whole loop
        keep, held = keep[:: len(keep) // args.limit], held[:: len(held) // args.limit]
    xt, yt = torch.from_numpy(x[keep]).float()[:, None], torch.from_numpy(y[keep])
    print(f"train {len(keep)}  held out {len(held)}", flush=True)

    torch.manual_seed(args.seed)
    model = FerVgg(dropout=args.dropout).to(memory_format=torch.channels_last)
    ema = Ema(model, args.ema)
    opt = torch.optim.SGD(
        model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.wd
    )
    steps_per_epoch = math.ceil(len(keep) / args.batch)
    gen = torch.Generator().manual_seed(args.seed)
    state: dict[str, Any] = {"epoch": 0, "best": 0.0, "best_ema": 0.0, "seconds": 0.0}
    last = out / "last.pt"
    if args.resume and last.is_file():
        ckpt = torch.load(last, weights_only=False)
        model.load_state_dict(ckpt["model"])
        ema.model.load_state_dict(ckpt["ema"])
        opt.load_state_dict(ckpt["opt"])
        gen.set_state(ckpt["gen"])
        state = ckpt["state"]
        print(f"resumed after epoch {state['epoch']}", flush=True)
    params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {params:,}", flush=True)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.smoothing)

    budget = args.budget_minutes * 60
    lr = args.lr
    for epoch in range(state["epoch"] + 1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(keep), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for b in range(steps_per_epoch):
            spent = state["seconds"] + time.perf_counter() - start
            progress = max(spent / budget, (epoch - 1 + b / steps_per_epoch) / args.epochs)
            if progress >= 1:
                break
            lr = one_cycle(progress, args.lr)
            for group in opt.param_groups:
                group["lr"] = lr
            idx = order[b * args.batch : (b + 1) * args.batch]
            xb = augment(xt[idx], gen).contiguous(memory_format=torch.channels_last)
            yb = yt[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(model)
            total += len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            loss_sum += loss.item() * len(idx)
        if total == 0:  # the budget ran out exactly at the end of the previous epoch
            break
        acc = float((predict(model, x[held], flip=False).argmax(1) == y[held]).mean())
        acc_ema = float((predict(ema.model, x[held], flip=False).argmax(1) == y[held]).mean())
        row = {
            "epoch": epoch,
            "loss": round(loss_sum / total, 4),
            "train_acc": round(correct / total, 4),
            "held_acc": round(acc, 4),
            "held_acc_ema": round(acc_ema, 4),
            "lr": round(lr, 5),
            "seconds": round(time.perf_counter() - start, 1),
        }
        state["seconds"] += time.perf_counter() - start
        if acc > state["best"]:
            state["best"] = acc
            torch.save({"model": model.state_dict(), "epoch": epoch, "acc": acc}, out / "best.pt")
        if acc_ema > state["best_ema"]:
            state["best_ema"] = acc_ema
            torch.save(
                {"model": ema.model.state_dict(), "epoch": epoch, "acc": acc_ema},
                out / "best_ema.pt",
            )
        state["epoch"] = epoch
        ckpt = {
            "model": model.state_dict(),
            "ema": ema.model.state_dict(),
            "opt": opt.state_dict(),
            "gen": gen.get_state(),
            "state": state,
            "args": {k: str(v) for k, v in vars(args).items()},
        }
        torch.save(ckpt, out / "last.tmp")
        (out / "last.tmp").replace(last)  # an interrupted save never spoils the checkpoint
        print(json.dumps(row), flush=True)
        if total < len(keep):  # the time budget ran out in this epoch
            break
    return 0


def one_cycle(progress: float, peak: float, warmup: float = 0.15) -> float:
    """Learning rate at ``progress`` (0..1): linear warm-up from peak/25, cosine to ~0."""
    if progress < warmup:
        return peak / 25 + (peak - peak / 25) * progress / warmup
    t = (progress - warmup) / (1 - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, t))) + peak * 1e-4


def export(args: argparse.Namespace) -> int:
    """Export a checkpoint to ONNX and check it against the torch model."""
    import onnxruntime as ort

    model = FerVgg()
    model.load_state_dict(torch.load(args.ckpt, weights_only=False)["model"])
    wrapped = WithSoftmax(model).eval()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.rand(2, 1, SIDE, SIDE) * 255
    with warnings.catch_warnings():
        # The TorchScript exporter (dynamo=False: no onnxscript needed) warns that it is
        # deprecated; the graph it writes is checked below.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (dummy,),
            str(args.out),
            input_names=["input"],
            output_names=["probabilities"],
            dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    diff = check_onnx(wrapped, args.out, ort)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB); max abs diff {diff:.2e}")
    if diff > TOLERANCE:
        print(f"ONNX output differs from torch by more than {TOLERANCE}", file=sys.stderr)
        return 1
    return 0


def check_onnx(wrapped: nn.Module, path: Path, ort: Any) -> float:
    """Largest |ONNX - torch| over random, flat and (when present) real faces."""
    rng = np.random.default_rng(0)
    batches = [
        rng.integers(0, 256, (8, 1, SIDE, SIDE)).astype(np.float32),
        np.full((2, 1, SIDE, SIDE), 128, np.float32),
    ]
    dev = DATA / "publictest" / "happy"
    if dev.is_dir():
        paths = sorted(dev.glob("*.jpg"))[:16]
        faces = [np.asarray(Image.open(p).convert("L"), np.float32) for p in paths]
        batches.append(np.stack(faces)[:, None])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    with torch.no_grad():
        for batch in batches:
            want = wrapped(torch.from_numpy(batch)).numpy()
            got = session.run(None, {"input": batch})[0]
            worst = max(worst, float(np.abs(got - want).max()))
    return worst


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run ``train`` or ``export``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", type=Path, default=DATA)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--cache", type=Path, default=Path("/tmp/vsa-fer-cache/train.npz"))
    t.add_argument("--epochs", type=int, default=40, help="at most this many epochs")
    t.add_argument(
        "--budget-minutes",
        type=float,
        default=1e9,
        help="wall-time budget: the schedule runs on max(time, epoch) progress",
    )
    t.add_argument("--batch", type=int, default=128)
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--wd", type=float, default=5e-4)
    t.add_argument("--dropout", type=float, default=0.4)
    t.add_argument("--smoothing", type=float, default=0.1)
    t.add_argument("--ema", type=float, default=0.999)
    t.add_argument("--holdout", type=float, default=0.1)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--resume", action="store_true")
    t.add_argument("--limit", type=int, default=0, help="smoke run on about N faces")
    e = sub.add_parser("export")
    e.add_argument("--ckpt", type=Path, required=True)
    e.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    return train(args) if args.command == "train" else export(args)


if __name__ == "__main__":
    sys.exit(main())
