#!/usr/bin/env bash
# Benchmark of `crampcheck batch` against a bare CSV scan of the same file
# (examples/csv_count.rs: the csv crate counting rows into one reused
# ByteRecord). Files come from examples/gen_prescriptions.rs in two layouts:
# `short` (patient_id,drug,start,stop; ~67 bytes a row) and `synthea`
# (Synthea's medications.csv columns; ~215 bytes a row), 33 rows per patient
# on average, each patient's rows contiguous; a file of long patients (330
# rows each); plus shuffled files (rows of a patient scattered) to show
# speed and memory when patients are not contiguous, with two patient
# counts.
# Each figure is the best of RUNS runs (default 3) of the whole process, with
# the median of the batch runs beside it: wall clock and peak RSS from
# /usr/bin/time -v; the bare scan and batch runs alternate.
#
# Usage: benches/batch.sh            (1M and 10M rows)
#        ROWS="1000000" RUNS=1 benches/batch.sh
# Needs GNU time: apt-get install time
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
cargo build --release --quiet --bin crampcheck --example gen_prescriptions --example csv_count
BIN=target/release
DIR=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$DIR"
ROWS=${ROWS:-"1000000 10000000"}
RUNS=${RUNS:-3}

# run_once CMD...: prints "seconds max_rss_kb" of one run. The wall clock is
# read in nanoseconds around the run (GNU time prints it in hundredths, too
# coarse for a bare scan of 0.09 s); the peak RSS comes from GNU time.
run_once() {
  local start end secs rss
  start=$(date +%s%N)
  /usr/bin/time -v -o "$DIR/time.txt" "$@" >/dev/null 2>"$DIR/stderr.txt" || true
  end=$(date +%s%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")
  echo "$secs $rss"
}
# faster A B: prints whichever of two "seconds rss" results is faster.
faster() {
  if [ -z "$2" ] || awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN{exit !(a<b)}'; then echo "$1"; else echo "$2"; fi
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| layout | rows | MB | bare scan rows/s | batch rows/s | batch MB/s | batch / bare | batch s | median s | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
run_case() { # layout rows shuffle [patients]
  local layout=$1 rows=$2 shuffle=$3 patients=${4:-$(($2 / 33))} file cols name
  name=$layout
  file=$DIR/$layout-$rows-$patients$shuffle.csv
  if [ -n "$shuffle" ]; then
    name="$layout, shuffled, $patients patients"
  elif [ -n "${4:-}" ]; then
    name="$layout, $patients patients of $(($2 / patients)) rows"
  fi
  [ -f "$file" ] || $BIN/examples/gen_prescriptions --rows "$rows" --patients "$patients" --seed 7 \
      --layout "$layout" $shuffle --out "$file"
  if [ "$layout" = synthea ]; then
    cols="--patient-col PATIENT --drug-col DESCRIPTION --start-col START --stop-col STOP"
  else
    cols="--start-col start --stop-col stop"
  fi
  local mb bare="" batch="" times="" one
  mb=$(awk -v b="$(stat -c %s "$file")" 'BEGIN{printf "%.0f", b/1e6}')
  # The two commands take turns, so both see the same machine: on a shared
  # one its speed drifts by tens of percent within minutes.
  for _ in $(seq "$RUNS"); do
    bare=$(faster "$(run_once $BIN/examples/csv_count "$file")" "$bare")
    # shellcheck disable=SC2086
    one=$(run_once $BIN/crampcheck batch "$file" $cols --quiet)
    times="$times ${one%% *}"
    batch=$(faster "$one" "$batch")
  done
  # The median of the batch runs, beside the best: the machine is shared
  # and its speed drifts, so the spread is part of the figure.
  local median
  median=$(echo "$times" | tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')
  awk -v name="$name" -v rows="$rows" -v mb="$mb" -v bare="${bare%% *}" -v bs="${batch%% *}" -v med="$median" -v rss="${batch##* }" 'BEGIN {
    printf "| %s | %d | %d | %.2fM | %.2fM | %.0f | %.0f %% | %.3f | %.3f | %.0f MB |\n",
      name, rows, mb, rows/bare/1e6, rows/bs/1e6, mb/bs, 100*bare/bs, bs, med, rss/1024 }'
}
for rows in $ROWS; do
  run_case short "$rows" ""
  run_case synthea "$rows" ""
done
last=${ROWS##* }
# Long patients: ten times the rows per patient, still contiguous.
run_case short "$last" "" $((last / 330))
for rows in $ROWS; do
  run_case short "$rows" "--shuffle"
done
run_case short "$last" "--shuffle" $((last / 10))
echo
echo "files in $DIR"
