#!/usr/bin/env python3
"""MNIST-1D as the official generator makes it (pip package mnist1d, default arguments, seed 42:
4000 training and 1000 test signals of 40 values, 10 classes), written as float32 inputs (N, 40)
and int64 labels (N,) .npy files into OUT, for the low-rank measurement and its PyTorch peer:

    python3 Benchmarks/lowrank/make_mnist1d.py runs/mnist1d-official      # needs: pip install mnist1d
"""
import os, sys
import numpy as np
from mnist1d.data import get_dataset_args, make_dataset

out = sys.argv[1] if len(sys.argv) > 1 else "runs/mnist1d-official"
os.makedirs(out, exist_ok=True)
d = make_dataset(get_dataset_args())
for split, xk, yk in (("train", "x", "y"), ("test", "x_test", "y_test")):
    np.save(os.path.join(out, f"{split}_x.npy"), np.asarray(d[xk], dtype=np.float32))
    np.save(os.path.join(out, f"{split}_y.npy"), np.asarray(d[yk], dtype=np.int64))
print(f"{out}: train {np.shape(d['x'])}, test {np.shape(d['x_test'])}")
