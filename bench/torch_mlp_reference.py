#!/usr/bin/env python3
"""PyTorch reference for bench/bench_gpu_mlp.cpp: the same two workloads on the same GPU.

(a) one training epoch of Linear(100,256)-ReLU-Dropout(0.1) x3 + Linear(256,1), AdamW
    (fused), MSE, batch 1024, on 1M x 100 rows already on the GPU, a shuffled index gather per
    batch; FP32 (TF32 off) and TF32. Mean of 2 timed epochs after a warm-up, plus a 10k-row
    validation pass per epoch as ours does.
(b) K = 1, 8, 64 sequential trainings of Linear(100,128)-ReLU-Dropout x2 + Linear(128,1) on
    50k x 100 (5k validation rows evaluated each epoch, one .item() per epoch), batch 1024,
    5 epochs, each with its own learning rate, weight decay, dropout and seed: trials/s.

Timed with torch.cuda.synchronize() around each measurement. Prints JSON (and writes it with
--out).
"""
import argparse
import json
import time

import torch
from torch import nn

DIM = 100


def make_data(rows, valid_rows, device, seed):
    g = torch.Generator(device="cpu").manual_seed(seed)
    x = (torch.rand(rows + valid_rows, DIM, generator=g) - 0.5) * 3.4641
    y = torch.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] - 0.3 * x[:, 3]
    x, y = x.to(device), y.to(device)
    return x[:rows], y[:rows], x[rows:], y[rows:]


def mlp(hidden, width, dropout):
    layers, d = [], DIM
    for _ in range(hidden):
        layers += [nn.Linear(d, width), nn.ReLU(), nn.Dropout(dropout)]
        d = width
    layers.append(nn.Linear(d, 1))
    return nn.Sequential(*layers)


def run_epoch(model, opt, x, y, xv, yv, batch, max_steps=None):
    model.train()
    n = x.shape[0]
    perm = torch.randperm(n, device=x.device)
    for step, i in enumerate(range(0, n, batch)):
        if max_steps is not None and step >= max_steps:
            break
        idx = perm[i:i + batch]
        loss = nn.functional.mse_loss(model(x[idx]).squeeze(1), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        total = 0.0
        for i in range(0, xv.shape[0], 2048):
            total = total + ((model(xv[i:i + 2048]).squeeze(1) - yv[i:i + 2048]) ** 2).sum()
        return float(total) / xv.shape[0]  # one host sync per epoch


def epoch_workload(dev, tf32, rows):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    x, y, xv, yv = make_data(rows, 10_000, dev, 1)
    torch.manual_seed(0)
    model = mlp(3, 256, 0.1).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-5, fused=True)
    run_epoch(model, opt, x, y, xv, yv, 1024, max_steps=50)  # warm-up
    torch.cuda.synchronize()
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        run_epoch(model, opt, x, y, xv, yv, 1024)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    sec = sum(times) / len(times)
    return {"sec_per_epoch": sec, "rows_per_s": rows / sec, "epochs_timed": len(times)}


def trials_workload(dev, ks, epochs):
    torch.backends.cuda.matmul.allow_tf32 = False
    x, y, xv, yv = make_data(50_000, 5_000, dev, 2)

    def one_trial(t):
        u = ((t * 0.6180339887) % 1.0)
        torch.manual_seed(t)
        model = mlp(2, 128, 0.5 * ((t * 0.41421356) % 1.0)).to(dev)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4 * 300.0 ** u,
                                weight_decay=1e-7 * 1e6 ** u, fused=True)
        for _ in range(epochs):
            run_epoch(model, opt, x, y, xv, yv, 1024)

    one_trial(0)  # warm-up
    torch.cuda.synchronize()
    out = {}
    for k in ks:
        t0 = time.perf_counter()
        for t in range(k):
            one_trial(t)
        torch.cuda.synchronize()
        sec = time.perf_counter() - t0
        out[str(k)] = {"seconds": sec, "trials_per_s": k / sec}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write the JSON here too")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of workload (a)")
    ap.add_argument("--ks", default="1,8,64", help="trial counts of workload (b)")
    ap.add_argument("--epochs", type=int, default=5, help="epochs per trial in (b)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("torch_mlp_reference: no CUDA device visible to torch")
    dev = torch.device("cuda")
    result = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "epoch_fp32": epoch_workload(dev, False, args.rows),
        "epoch_tf32": epoch_workload(dev, True, args.rows),
        "trials": trials_workload(dev, [int(k) for k in args.ks.split(",")], args.epochs),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
