#!/usr/bin/env bash
# Issue 22's first target: a 12-configuration sweep (lr × dropout = 4 × 3) over N splits against the 12
# single `train` runs with the same flags, in interleaved rounds (sweep, trains, sweep, trains, ...),
# printing each round's wall times and the median ratio sweep / sum of trains. The sweep's base flags
# (lr 0.001, dropout 0.2) are a grid point, so it trains exactly the 12 configurations.
#   benches/sweep_vs_train.sh BACKEND ROUNDS [SPLITS] [EPOCHS]   (after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-cpu}; ROUNDS=${2:-3}; SPLITS=${3:-100}; EPOCHS=${4:-3}
BIN=target/release/gpulstm
DATA=../shared/data/AAPL_5y_nasdaq.csv
OUT=$(mktemp -d)
LRS="0.0005 0.001 0.003 0.01"; DROPS="0 0.2 0.4"
COMMON=(--data "$DATA" --backend "$BACKEND" --max-splits "$SPLITS" --epochs "$EPOCHS" --quiet --force)
layers() { echo "lstm:50:seq,dropout:$1,lstm:50,dropout:$1,dense:25,dense:1"; }
now() { date +%s.%N; }
echo "load before: $(cat /proc/loadavg)"
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  t0=$(now)
  $BIN sweep "${COMMON[@]}" --layers "$(layers 0.2)" --grid lr=${LRS// /,} --grid dropout=${DROPS// /,} --out "$OUT/sweep" > /dev/null
  t1=$(now)
  for lr in $LRS; do for d in $DROPS; do
    $BIN train "${COMMON[@]}" --lr "$lr" --layers "$(layers "$d")" --out "$OUT/train-$lr-$d" > /dev/null
  done; done
  t2=$(now)
  ratio=$(python3 -c "print(($t1-$t0)/($t2-$t1))")
  ratios+=("$ratio")
  python3 -c "print(f'round $r: sweep {$t1-$t0:.1f} s, 12 trains {$t2-$t1:.1f} s, ratio {$ratio:.3f}')"
done
echo "load after: $(cat /proc/loadavg)"
python3 -c "import statistics,sys; print('median ratio sweep / trains:', round(statistics.median(map(float, sys.argv[1:])), 3))" "${ratios[@]}"
rm -rf "$OUT"
