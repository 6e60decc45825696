#!/usr/bin/env python3
"""PyTorch side of swtrain's distillation measurement (see docs/distill.md).

The issue's recipe on the same .npy files swtrain reads: a student trained alone (plain
cross-entropy) and the same student distilled from a teacher with
    loss = alpha * T^2 * KL(softmax(z_t / T) || softmax(z_s / T)) + (1 - alpha) * CE(z_s, y)
for each seed, the same number of steps, batch size and Adam settings as the student's swtrain
config (model, optimizer, training.batch_size, training.max_steps, distill.temperature/alpha).
With --init-dir each seed starts from the same weights in both frameworks: torch's seeded
init written as init-s<seed>.safetensors (--write-inits writes them and exits), which swtrain
loads with --set model.init_from=...; the runs then differ only in data order and rounding.
The teacher is swtrain's checkpoint (loaded strictly into the torch model of the teacher's
config) or, with --train-teacher, one trained here the teacher config's way.

    python3 Benchmarks/peer/torch_distill.py examples/distill-digits-student.json --init-dir runs/inits \
        --teacher-config examples/distill-digits-teacher.json --teacher-weights runs/digits-teacher/checkpoint-N/model.safetensors \
        --train-x tx.npy --train-y ty.npy --test-x x.npy --test-y y.npy --seeds 1 2 3

One JSON line per (seed, mode) and a closing summary line. Needs torch and numpy; never
used by the tests.
"""
import argparse, json, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_prune import accuracy, load_npy, read_safetensors  # noqa: E402
from torch_step import build  # noqa: E402


def adam_for(cfg, params):
    o = cfg.get("optimizer", {})
    kind = o.get("type", "adam")
    if kind not in ("adam", "adamw"):
        raise SystemExit(f"torch_distill.py: optimizer {kind} not handled here (adam, adamw)")
    opt = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    return opt(params, lr=o.get("lr", 1e-3), betas=tuple(o.get("betas", [0.9, 0.999])), eps=o.get("eps", 1e-8),
               weight_decay=o.get("weight_decay", 0.0 if kind == "adam" else 0.01))


def distill_loss(zs, zt, y, T, alpha):
    """alpha T^2 KL(p_t^T || p_s^T) + (1 - alpha) CE, each averaged over the batch."""
    ce = F.cross_entropy(zs, y)
    if alpha == 0:
        return ce
    kl = F.kl_div(F.log_softmax(zs / T, dim=1), F.log_softmax(zt / T, dim=1), reduction="batchmean", log_target=True)
    return alpha * T * T * kl + (1 - alpha) * ce


def write_safetensors(net, path):
    """net's state_dict as an F32 safetensors file (what swtrain's model.init_from reads)."""
    header, blobs, off = {}, [], 0
    for k, v in net.state_dict().items():
        b = v.detach().numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def initial(cfg, seed, init_dir=None):
    """The config's model with torch's init for `seed`; with `init_dir`, the weights of
    init_dir/init-s<seed>.safetensors (written from that init when missing), so swtrain can
    start from the same numbers (model.init_from)."""
    torch.manual_seed(seed)
    _, net = model_for_cfg(cfg)
    if init_dir:
        path = os.path.join(init_dir, f"init-s{seed}.safetensors")
        if not os.path.exists(path):
            os.makedirs(init_dir, exist_ok=True)
            write_safetensors(net, path)
        net.load_state_dict(read_safetensors(path), strict=True)
    return net


def train(cfg, seed, x, y, teacher=None, T=1.0, alpha=0.0, steps=None, init_dir=None):
    """The config's model trained from the seeded init for `steps` (default training.max_steps) Adam steps
    of training.batch_size, reshuffling every epoch; distilled from `teacher` when alpha > 0."""
    return fit(cfg, initial(cfg, seed, init_dir), x, y, steps or cfg["training"]["max_steps"], seed, teacher, T, alpha)


def fit(cfg, net, x, y, steps, seed, teacher=None, T=1.0, alpha=0.0):
    """`steps` Adam steps (the config's optimizer) of training.batch_size on `net`, reshuffled every
    epoch by a generator seeded with `seed`; distilled from `teacher` when alpha > 0."""
    opt = adam_for(cfg, net.parameters())
    b = cfg["training"]["batch_size"]
    g = torch.Generator().manual_seed(seed)
    perm, at = torch.randperm(len(x), generator=g), 0
    net.train()
    for _ in range(steps):
        if at + b > len(x):   # drop the last partial batch, as swtrain's sampler does by default
            perm, at = torch.randperm(len(x), generator=g), 0
        idx = perm[at:at + b]
        at += b
        xb, yb = x[idx], y[idx]
        zs = net(xb)
        if teacher is not None and alpha > 0:
            with torch.no_grad():
                zt = teacher(xb)
            loss = distill_loss(zs, zt, yb, T, alpha)
        else:
            loss = F.cross_entropy(zs, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net


def model_for_cfg(cfg):
    """(cfg, the torch nn.Sequential of cfg's model), as torch_prune.model_for builds it from a file."""
    net, _ = build(cfg["model"]["layers"], list(cfg["model"]["input"]))
    return cfg, net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("student_config")
    ap.add_argument("--teacher-config", required=True)
    ap.add_argument("--teacher-weights", help="swtrain's teacher model.safetensors")
    ap.add_argument("--train-teacher", action="store_true", help="train a teacher here (teacher config's optimizer and steps)")
    ap.add_argument("--train-x", required=True); ap.add_argument("--train-y", required=True)
    ap.add_argument("--test-x", required=True); ap.add_argument("--test-y", required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--steps", type=int, help="student steps (default: the student config's training.max_steps)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init-dir", help="start each seed from DIR/init-s<seed>.safetensors (written from torch's init when missing)")
    ap.add_argument("--write-inits", action="store_true", help="only write the --init-dir files and exit")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    scfg = json.load(open(a.student_config))
    if a.write_inits:
        for s in a.seeds:
            initial(scfg, s, a.init_dir)
        return
    tcfg = json.load(open(a.teacher_config))
    shape = list(scfg["model"]["input"])
    x, y = load_npy(a.train_x, a.train_y)
    tx, ty = load_npy(a.test_x, a.test_y)
    x, tx = x.reshape(len(x), *shape), tx.reshape(len(tx), *shape)
    d = scfg.get("distill", {})
    T, alpha = float(d.get("temperature", 1.0)), float(d.get("alpha", 0.5))

    if a.train_teacher:
        teacher = train(tcfg, tcfg.get("seed", 42), x, y)
        source = "trained here"
    elif a.teacher_weights:
        _, teacher = model_for_cfg(tcfg)
        teacher.load_state_dict(read_safetensors(a.teacher_weights), strict=True)
        source = a.teacher_weights
    else:
        raise SystemExit("torch_distill.py: give --teacher-weights or --train-teacher")
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    print(json.dumps({"teacher": source, "test_accuracy": round(accuracy(teacher, tx, ty), 6)}), flush=True)

    res = {"alone": [], "distilled": []}
    for s in a.seeds:
        for mode in ("alone", "distilled"):
            net = train(scfg, s, x, y, teacher=teacher if mode == "distilled" else None, T=T,
                        alpha=alpha if mode == "distilled" else 0.0, steps=a.steps, init_dir=a.init_dir)
            acc = accuracy(net, tx, ty)
            res[mode].append(acc)
            print(json.dumps({"seed": s, "mode": mode, "temperature": T, "alpha": alpha if mode == "distilled" else 0.0,
                              "test_accuracy": round(acc, 6)}), flush=True)
    ma, md = float(np.mean(res["alone"])), float(np.mean(res["distilled"]))
    print(json.dumps({"summary": "torch", "seeds": a.seeds, "alone_mean": round(ma, 6), "distilled_mean": round(md, 6),
                      "gain": round(md - ma, 6)}))


if __name__ == "__main__":
    main()
