#!/usr/bin/env python3
"""PyTorch peer for `swtrain quantize` latency: the MLP 40 -> 1024 -> 1024 -> 1024 -> 10 (ReLU
between) in fp32, `quantize_dynamic` with the x86 (fbgemm) and onednn engines, and static
post-training quantization with the x86 qconfig (eager mode, calibrated on random inputs), also
with each Linear + ReLU fused first (`fuse_modules`, so the ReLU runs in the quantized linear
and quint8 activations pass between layers, like swtrain's fused int8 layers), at batch 1, 32
and 256 on one thread. Timings alternate between the variants within each
repetition; the statistic is the median forward time in ms.

    python3 Benchmarks/peer/torch_quant.py [--threads 1] [--repeats 200] [--batch 1 32 256]

Prints one JSON line per (variant, batch). Optional: needs `pip install torch`. Never used by
the tests.
"""
import argparse, copy, json, statistics, time, warnings
warnings.filterwarnings("ignore")
import torch
from torch import nn
import torch.ao.quantization as tq


def mlp(widths=(40, 1024, 1024, 1024, 10)):
    mods = []
    for i in range(len(widths) - 1):
        mods.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


class Static(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.quant, self.body, self.dequant = tq.QuantStub(), body, tq.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.body(self.quant(x)))


def dynamic(model, engine):
    torch.backends.quantized.engine = engine
    return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)


def static_x86(model, calib, fuse=False):
    torch.backends.quantized.engine = "x86"
    m = Static(copy.deepcopy(model)).eval()
    if fuse:   # Linear i with the ReLU after it: nn.intrinsic.LinearReLU
        pairs = [[str(i), str(i + 1)] for i, mod in enumerate(m.body) if isinstance(mod, nn.Linear)
                 and i + 1 < len(m.body) and isinstance(m.body[i + 1], nn.ReLU)]
        m.body = tq.fuse_modules(m.body, pairs)
    m.qconfig = tq.get_default_qconfig("x86")
    tq.prepare(m, inplace=True)
    with torch.no_grad():
        m(calib)
    tq.convert(m, inplace=True)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=0, help="0: 20000 / batch, clamped to 10...200")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 32, 256])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = mlp().eval()
    calib = torch.randn(512, 40)
    variants = {"fp32": (model, None), "dynamic-x86": (dynamic(model, "x86"), "x86"),
                "dynamic-onednn": (dynamic(model, "onednn"), "onednn"), "static-x86": (static_x86(model, calib), "x86"),
                "static-x86-fused": (static_x86(model, calib, fuse=True), "x86")}
    for b in a.batch:
        x = torch.randn(b, 40)
        reps = a.repeats or max(10, min(200, 20000 // b))
        times = {k: [] for k in variants}
        with torch.no_grad():
            for name, (m, engine) in variants.items():
                if engine: torch.backends.quantized.engine = engine
                for _ in range(3): m(x)
            for _ in range(reps):
                for name, (m, engine) in variants.items():
                    if engine: torch.backends.quantized.engine = engine
                    t0 = time.perf_counter(); m(x); times[name].append(time.perf_counter() - t0)
        for name in variants:
            print(json.dumps({"bench": "torch-quant", "case": f"{name}-b{b}-t{a.threads}", "median_ms": round(statistics.median(times[name]) * 1e3, 4),
                              "torch": torch.__version__}))


if __name__ == "__main__":
    main()
