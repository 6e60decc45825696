#!/usr/bin/env python3
"""Data for the distillation measurement: scikit-learn's bundled 8x8 handwritten digits (1797
images, no download) as they are, 64 pixels scaled to 0..1. The split of
Benchmarks/prune/make_digits.py (seed 0): 360 test images, the other 1437 for training, no
augmentation (a small training set, where a teacher's soft labels help a small student most).
Written as float32 .npy inputs (N, 64) and int64 labels (N,) into OUT:

    python3 Benchmarks/distill/make_digits.py runs/digits8      # needs: pip install scikit-learn
"""
import os, sys
import numpy as np
from sklearn.datasets import load_digits

out = sys.argv[1] if len(sys.argv) > 1 else "runs/digits8"
os.makedirs(out, exist_ok=True)
d = load_digits()
x = (d.images / 16.0).reshape(-1, 64).astype(np.float32)
perm = np.random.default_rng(0).permutation(len(x))
test, train = perm[:360], perm[360:]
np.save(os.path.join(out, "train_x.npy"), x[train]); np.save(os.path.join(out, "train_y.npy"), d.target[train].astype(np.int64))
np.save(os.path.join(out, "test_x.npy"), x[test]); np.save(os.path.join(out, "test_y.npy"), d.target[test].astype(np.int64))
print(f"{out}: train {x[train].shape}, test {x[test].shape}")
