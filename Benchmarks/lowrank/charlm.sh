#!/usr/bin/env bash
# Low-rank factorization of the char GPT (examples/charlm.json, 4 transformer blocks, C = 128):
# a short dense training, then `swtrain lowrank` at energy 0.9 and at rank 32 (every projection
# of every block and the output layer), each evaluated one-shot and after a short fine-tune
# of the folder's config. Prints one CSV row per case (parameters, validation loss, accuracy).
#
#   swift build -c release --product swtrain && Benchmarks/lowrank/charlm.sh [OUT=runs/lr-charlm] [STEPS=300] [FT=100]
set -eu
SW=${SWTRAIN:-.build/release/swtrain}
OUT=${1:-runs/lr-charlm}; STEPS=${2:-300}; FT=${3:-100}
CFG=examples/charlm.json
mkdir -p "$OUT"
[ -s data/licenses.txt ] || { mkdir -p data; find /usr/share/common-licenses -maxdepth 1 -type f | LC_ALL=C sort | xargs cat > data/licenses.txt; }
[ -f "$OUT/dense/latest" ] || "$SW" train "$CFG" --set training.max_steps=$STEPS --set training.eval_every_steps=$STEPS \
  --set checkpoint.dir="\"$OUT/dense\"" > "$OUT/dense-train.log" 2>&1
metric() { sed -n 's/.*test loss \([0-9.]*\)  accuracy \([0-9.]*\).*/\1,\2/p'; }
echo "case,params,val_loss_oneshot,val_acc_oneshot,val_loss_finetuned,val_acc_finetuned" > "$OUT/summary.csv"
dense=$("$SW" eval "$CFG" --checkpoint "$OUT/dense" | metric)
params=$(python3 -c "
import json, struct, sys, math
f = open(sys.argv[1], 'rb'); h = json.loads(f.read(struct.unpack('<Q', f.read(8))[0]))
print(sum(math.prod(v['shape']) for k, v in h.items() if k != '__metadata__'))" "$OUT/dense/$(cat "$OUT/dense/latest")/model.safetensors")
echo "dense,$params,$dense,," >> "$OUT/summary.csv"
for rule in "--energy 0.9" "--rank 32"; do
  name=$(echo "$rule" | tr -d ' -')
  "$SW" lowrank "$CFG" --checkpoint "$OUT/dense" --out "$OUT/$name" $rule --batch 1 > "$OUT/$name.log"
  one=$("$SW" eval "$OUT/$name/config.json" --checkpoint "$OUT/$name" | metric)
  rm -rf "$OUT/$name/finetune"
  "$SW" train "$OUT/$name/config.json" --set training.max_steps=$FT --set training.eval_every_steps=$FT \
    --set schedule.warmup_steps=10 --set optimizer.lr=0.001 > "$OUT/$name-finetune.log" 2>&1
  ft=$("$SW" eval "$OUT/$name/config.json" --checkpoint "$OUT/$name/finetune" | metric)
  p=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['after']['parameters'])" "$OUT/$name/compression.json")
  echo "$name,$p,$one,$ft" >> "$OUT/summary.csv"
done
cat "$OUT/summary.csv"
