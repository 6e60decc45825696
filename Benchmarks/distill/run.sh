#!/usr/bin/env bash
# The distillation measurement of docs/distill.md, swtrain and PyTorch side by side on the same
# data and the same teacher: scikit-learn's 8x8 digits (Benchmarks/distill/make_digits.py,
# 1437 train / 360 test), a teacher MLP 64 -> 512 -> 512 -> 10 (examples/distill-digits-teacher.json),
# a student 64 -> 8 -> 10 (examples/distill-digits-student.json) trained alone (distill.alpha=0)
# and distilled (T = 4, alpha = 0.9) for seeds 1 2 3, same steps, batch and Adam settings; then
# torch_distill.py runs the same recipe with swtrain's teacher checkpoint loaded into torch.
# Seed s starts from the same weights in both: torch's init for s, written by torch_distill.py
# --write-inits and read by swtrain through model.init_from.
#
#   swift build -c release --product swtrain && Benchmarks/distill/run.sh [OUT=runs/distill-bench]
set -eu
SW=${SWTRAIN:-.build/release/swtrain}
OUT=${1:-runs/distill-bench}
T=examples/distill-digits-teacher.json S=examples/distill-digits-student.json D=runs/digits8
mkdir -p "$OUT"
[ -f $D/train_x.npy ] || python3 Benchmarks/distill/make_digits.py $D
[ -f runs/digits-teacher/latest ] || "$SW" train $T > "$OUT/teacher-train.log" 2>&1
acc() { sed -n 's/.*accuracy \([0-9.]*\).*/\1/p'; }
python3 Benchmarks/peer/torch_distill.py $S --teacher-config $T --train-x $D/train_x.npy --train-y $D/train_y.npy \
  --test-x $D/test_x.npy --test-y $D/test_y.npy --seeds 1 2 3 --init-dir "$OUT/inits" --write-inits
echo "teacher,$("$SW" eval $T --checkpoint runs/digits-teacher | acc)" | tee "$OUT/swtrain.csv"
for seed in 1 2 3; do
  for mode in alone distilled; do
    run="$OUT/s$seed-$mode"; rm -rf "$run"
    set -- --set seed=$seed --set checkpoint.dir="\"$run\"" --set model.init_from="\"$PWD/$OUT/inits/init-s$seed.safetensors\""
    [ $mode = alone ] && set -- "$@" --set distill.alpha=0
    "$SW" train $S "$@" > "$run.log" 2>&1
    echo "$seed,$mode,$("$SW" eval $S --checkpoint "$run" | acc)" | tee -a "$OUT/swtrain.csv"
  done
done
python3 - "$OUT/swtrain.csv" <<'PY' | tee "$OUT/swtrain-summary.json"
import csv, json, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) == 3]
m = {k: [float(r[2]) for r in rows if r[1] == k] for k in ("alone", "distilled")}
a, d = sum(m["alone"]) / len(m["alone"]), sum(m["distilled"]) / len(m["distilled"])
print(json.dumps({"summary": "swtrain", "alone": m["alone"], "distilled": m["distilled"],
                  "alone_mean": round(a, 6), "distilled_mean": round(d, 6), "gain": round(d - a, 6)}))
PY
python3 Benchmarks/peer/torch_distill.py $S --teacher-config $T \
  --teacher-weights "runs/digits-teacher/$(cat runs/digits-teacher/latest)/model.safetensors" \
  --train-x $D/train_x.npy --train-y $D/train_y.npy --test-x $D/test_x.npy --test-y $D/test_y.npy \
  --seeds 1 2 3 --init-dir "$OUT/inits" | tee "$OUT/torch.jsonl"
