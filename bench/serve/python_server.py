#!/usr/bin/env python3
"""The baseline for bench/serve: a minimal Python endpoint (standard-library
ThreadingHTTPServer + the xgboost package) serving the SAME tabpilot model. It reads
model.json, applies the fitted feature transform with numpy from the parameters stored there
(numeric: impute, centre, scale, missing indicator; categorical: one-hot or ordinal over the
kept categories), loads each member's XGBoost booster from its weights file (the UBJSON model
after tabpilot's 56-byte header) and averages the members with their weights, as
Pipeline::predict does.
POST /invocations takes headerless CSV in training column order and answers one predicted
value (regression) or label per line; GET /ping answers 200.

Usage: python_server.py MODEL_DIR PORT
"""
import csv
import io
import json
import math
import os
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import xgboost as xgb

HEADER = 8 + 8 * 6  # magic "TPXGB001" + task, classes, features, best iteration, rounds, threads
MISSING = {"", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"}


def load(model_dir):
    spec = json.load(open(os.path.join(model_dir, "model.json")))
    members = []
    for m in spec["members"]:
        if m["learner"] != "xgboost":
            raise SystemExit("python_server: only xgboost members are supported")
        raw = open(os.path.join(model_dir, m["weights"]["file"]), "rb").read()
        task, classes, features, best, rounds, threads = struct.unpack("<6q", raw[8:HEADER])
        booster = xgb.Booster()
        booster.load_model(bytearray(raw[HEADER:]))
        booster.set_param({"nthread": 1})
        members.append([m["transform"], booster, best, m.get("weight", 0.0)])
    total = sum(m[3] for m in members)
    for m in members:  # shares as Pipeline::member_shares: weights, or equal when none
        m[3] = m[3] / total if total > 0 else 1.0 / len(members)
    return spec, members


def transform(t, features, rows):
    """rows: list of lists of strings in training order -> float32 matrix."""
    index = {name: i for i, name in enumerate(features)}
    one_hot = t["recipe"].get("categorical", "one-hot") == "one-hot"
    blocks = []
    for ct in t["columns"]:
        values = [r[index[ct["name"]]].strip() for r in rows]
        if ct["type"] == "numeric":
            v = np.array([math.nan if s in MISSING else float(s) for s in values], dtype=np.float32)
            missing = np.isnan(v)
            fill = np.float32(math.nan if ct["fill"] is None else ct["fill"])
            out = (np.where(missing, fill, v) - np.float32(ct["center"])) * np.float32(ct["inv_scale"])
            blocks.append(out[:, None])
            if ct.get("indicator"):
                blocks.append(missing.astype(np.float32)[:, None])
        elif ct["type"] == "categorical":
            kept = {k: i for i, k in enumerate(ct["kept"])}
            other = len(ct["kept"])
            if one_hot:
                width = other + (1 if ct.get("other_slot") else 0)
                out = np.zeros((len(values), width), dtype=np.float32)
                for r, s in enumerate(values):
                    if s in MISSING:
                        continue
                    slot = kept.get(s, other if ct.get("other_slot") else -1)
                    if slot >= 0:
                        out[r, slot] = 1.0
                blocks.append(out)
                if ct.get("indicator"):
                    blocks.append(np.array([[1.0 if s in MISSING else 0.0] for s in values], dtype=np.float32))
            else:
                blocks.append(np.array([[math.nan if s in MISSING else kept.get(s, other)] for s in values],
                                       dtype=np.float32))
        else:
            raise SystemExit("python_server: column type %s is not supported" % ct["type"])
    return np.hstack(blocks)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the C++ endpoint

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="text/csv"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/ping":
            self.reply(200, b"")
        else:
            self.reply(404, b"not found\n", "text/plain")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if self.path != "/invocations":
            self.reply(404, b"not found\n", "text/plain")
            return
        rows = [r for r in csv.reader(io.StringIO(body)) if r]
        spec, members = self.server.model
        total = None
        for t, booster, best, share in members:
            x = transform(t, spec["features"], rows)
            p = share * booster.inplace_predict(x, iteration_range=(0, best + 1))
            total = p if total is None else total + p
        if spec["labels"]:
            labels = spec["labels"]
            if total.ndim == 1:
                picks = [labels[1] if v >= 0.5 else labels[0] for v in total]
            else:
                picks = [labels[i] for i in total.argmax(axis=1)]
            out = "".join(s + "\n" for s in picks)
        else:
            out = "".join("%.9g\n" % v for v in total)
        self.reply(200, out.encode())


def main():
    model_dir, port = sys.argv[1], int(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.model = load(model_dir)
    print("python_server: listening on 127.0.0.1:%d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
