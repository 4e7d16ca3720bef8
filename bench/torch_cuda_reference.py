#!/usr/bin/env python3
"""Checks tabpilot's CUDA path for one MLP training step against PyTorch on the same GPU.

Reads the JSON that the GPU test GpuTorchReference.DumpsOneCudaTrainingStepForTorch writes
(TABPILOT_TORCH_DUMP=<file>): inputs, weights, our dropout mask, and what our CUDA kernels
computed — logits, loss, every parameter gradient, the parameters after one AdamW step.
Recomputes all of it with torch autograd and torch.optim.AdamW on CUDA (TF32 off) and
compares with a relative tolerance of 1e-5 (plus 1e-6 absolute). Prints one JSON line and
exits 1 on any mismatch.

usage: torch_cuda_reference.py DUMP.json [--out RESULT.json]
"""
import json
import sys

import torch


def main():
    dump = json.load(open(sys.argv[1]))
    out_path = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = torch.device("cuda")
    n, d_in, h, k, rate = dump["n"], dump["in"], dump["hidden"], dump["k"], dump["rate"]

    def t(name, *shape, grad=False):
        x = torch.tensor(dump[name], dtype=torch.float32, device=dev).reshape(*shape)
        return x.requires_grad_(grad)

    x = t("x", n, d_in)
    w1, b1 = t("w1", h, d_in, grad=True), t("b1", h, grad=True)
    w2, b2 = t("w2", k, h, grad=True), t("b2", k, grad=True)
    y = t("labels", n).long()
    mask = t("mask", n, h)
    a1 = torch.relu(x @ w1.T + b1) * mask / (1.0 - rate)
    logits = a1 @ w2.T + b2
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()

    checks = {}

    def compare(name, ours, theirs):
        ours = torch.tensor(ours, dtype=torch.float32, device=dev).reshape(theirs.shape)
        err = (ours - theirs).abs()
        tol = 1e-5 * theirs.abs() + 1e-6
        checks[name] = {"max_abs_err": float(err.max()), "ok": bool((err <= tol).all())}

    compare("a1", dump["a1"], a1.detach())
    compare("logits", dump["logits"], logits.detach())
    compare("loss", [dump["loss"]], loss.detach().reshape(1))
    for name, p in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)):
        compare("grad_" + name, dump["grad_" + name], p.grad)
    a = dump["adam"]
    decayed = torch.optim.AdamW([w1, w2], lr=a["lr"], betas=(a["beta1"], a["beta2"]),
                                eps=a["eps"], weight_decay=a["weight_decay"])
    plain = torch.optim.AdamW([b1, b2], lr=a["lr"], betas=(a["beta1"], a["beta2"]),
                              eps=a["eps"], weight_decay=0.0)
    decayed.step()
    plain.step()
    for name, p in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)):
        compare("after_" + name, dump["after_" + name], p.detach())
    result = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0),
              "ok": all(c["ok"] for c in checks.values()), "checks": checks}
    line = json.dumps(result)
    print(line)
    if out_path:
        open(out_path, "w").write(line + "\n")
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
