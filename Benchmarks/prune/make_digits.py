#!/usr/bin/env python3
"""Image-like data for the pruning measurement: scikit-learn's bundled 8x8 handwritten digits
(1797 images, no download), upsampled to 16x16 (256 pixels, values 0..1).

A fixed split (seed 0): 360 test images as they are; the other 1437 training images plus 7
augmented copies each (random shift of up to 1 pixel in each direction at 16x16, Gaussian
pixel noise sigma 0.05, clipped to 0..1) = 11496 training samples. Written as float32 .npy
inputs (N, 256) and int64 labels (N,) into OUT:

    python3 Benchmarks/prune/make_digits.py runs/prune-data      # needs: pip install scikit-learn
"""
import os, sys
import numpy as np
from sklearn.datasets import load_digits

out = sys.argv[1] if len(sys.argv) > 1 else "runs/prune-data"
os.makedirs(out, exist_ok=True)
d = load_digits()
img = np.kron(d.images / 16.0, np.ones((2, 2)))            # (1797, 16, 16)
rng = np.random.default_rng(0)
perm = rng.permutation(len(img))
test, train = perm[:360], perm[360:]
xs, ys = [img[train]], [d.target[train]]
for _ in range(7):
    a = np.zeros_like(img[train])
    for i, k in enumerate(train):
        dy, dx = rng.integers(-1, 2, size=2)
        a[i] = np.roll(np.roll(img[k], dy, axis=0), dx, axis=1)
    a = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1)
    xs.append(a); ys.append(d.target[train])
tx = np.concatenate(xs).reshape(-1, 256).astype(np.float32)
ty = np.concatenate(ys).astype(np.int64)
p = rng.permutation(len(tx))
np.save(os.path.join(out, "train_x.npy"), tx[p]); np.save(os.path.join(out, "train_y.npy"), ty[p])
np.save(os.path.join(out, "test_x.npy"), img[test].reshape(-1, 256).astype(np.float32))
np.save(os.path.join(out, "test_y.npy"), d.target[test].astype(np.int64))
print(f"{out}: train {tx.shape}, test {(len(test), 256)}")
