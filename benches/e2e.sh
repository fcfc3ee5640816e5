#!/usr/bin/env bash
# End-to-end benchmark of the release CLI on a generated eBay US Orders report (82 columns):
# `ebay-import --dry-run` and a SQLite import into a fresh database, against a Polars peer that
# reads the same file and runs the equivalent checks (benches/polars-peer). Prints a markdown
# table (medians of E2E_RUNS runs) ready to paste into the README.
#
# Usage: bash benches/e2e.sh
#
# Environment:
#   E2E_ROWS=1000000        rows of the main report
#   E2E_10M=1               also run a 10,000,000-row report (~6 GB on disk, ~10 GB RAM for Polars)
#   E2E_RUNS=3              timed runs per measurement (the median is printed)
#   E2E_WARMUP=1            untimed runs before them (page cache, allocator, first-run effects)
#   E2E_FAULTS_EVERY=1000   one injected fault every N records (0: a clean file)
#   E2E_SKIP_POLARS=1       skip the Polars peer (its clean release build takes ~11+ minutes)
#   E2E_POLARS_TARGET_DIR   target dir of the peer build (default target/polars-peer: a separate
#                           dir, so the long Polars build never holds the workspace's build lock)
#   E2E_OUT=bench-out       where reports, databases and logs go (git-ignored)
#   E2E_REGEN=1             regenerate reports that already exist
#   E2E_PG_URL=postgres://postgres@127.0.0.1:5432
#                           PostgreSQL server (no database): when reachable, a clean report of the
#                           same size goes through the PostgreSQL sink and, for comparison, its raw
#                           rows through `psql \copy` into an 82-text-column table
#   E2E_SKIP_PG=1           skip the PostgreSQL runs
#   E2E_SKIP_LAYOUTS=1      skip the German Orders report and the All active listings report
#                           (E2E_ROWS rows each, dry run and SQLite import)
#
# Peak RSS comes from `/usr/bin/time -f %M` when present, else from python3's
# resource.getrusage(RUSAGE_CHILDREN).ru_maxrss around the process. Both are in KiB.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=benches/common.sh
source benches/common.sh

ROWS="${E2E_ROWS:-1000000}"
RUNS="${E2E_RUNS:-3}"
WARMUP="${E2E_WARMUP:-1}"
FAULTS_EVERY="${E2E_FAULTS_EVERY:-1000}"
POLARS_TARGET="${E2E_POLARS_TARGET_DIR:-target/polars-peer}"
GEN_LISTINGS="$TARGET/release/gen-listings"
PEER="$POLARS_TARGET/release/polars-peer"

mkdir -p "$OUT"

# ---------------------------------------------------------------------------------------------
# Helpers

HAVE_TIME=0
if command -v /usr/bin/time >/dev/null 2>&1 && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
  HAVE_TIME=1
fi
PY_RSS='
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
'

# with_rss RSS_FILE CMD...: runs CMD, writes its peak RSS (KiB) to RSS_FILE, keeps its exit code.
with_rss() {
  local rss_file="$1"
  shift
  if ((HAVE_TIME)); then
    /usr/bin/time -f %M -o "$rss_file" -- "$@"
  else
    python3 -c "$PY_RSS" "$rss_file" "$@"
  fi
}

PG_DB=ebay_import_e2e
RAW_COLUMNS="$(for i in $(seq 1 82); do printf 'c%s text, ' "$i"; done)"
RAW_COLUMNS="${RAW_COLUMNS%, }"

# setup KIND: a fresh database or table before each run.
setup() {
  case "$1" in
    sqlite) rm -rf "$DB" "$DB-wal" "$DB-shm" "$DB-locks" ;;
    sqlitefloor)
      rm -rf "$FLOOR_DB" "$FLOOR_DB-wal" "$FLOOR_DB-shm" "$FLOOR_DB-locks"
      # The engine's own schema (migrations, WAL), empty.
      "$BIN" --database "sqlite://$FLOOR_DB" migrate >/dev/null
      ;;
    keep) ;;
    pgloaded)
      setup pg
      "$BIN" --database "$PG_URL/$PG_DB" import --account bench --json --max-file-size 1000GB \
        "$(clean_path "$ROWS")" >/dev/null
      psql -q -X "$PG_URL/postgres" -c "CHECKPOINT" >/dev/null
      ;;
    pgfloor)
      psql -q -X "$PG_URL/$PG_DB" -c "DROP TABLE IF EXISTS floor_orders, floor_order_items, floor_customers" \
        -c "CHECKPOINT" >/dev/null
      ;;
    pg | rawcopy)
      psql -q -X "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" \
        -c "CREATE DATABASE $PG_DB" >/dev/null
      if [[ "$1" == rawcopy ]]; then
        psql -q -X "$PG_URL/$PG_DB" -c "CREATE TABLE raw82 ($RAW_COLUMNS)" >/dev/null
      fi
      psql -q -X "$PG_URL/postgres" -c "CHECKPOINT" >/dev/null
      ;;
  esac
}

# rate_json ROWS T0 T1: the JSON line the CLI prints, for a timed command that is not the CLI.
rate_json() {
  awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "{\"rows\":%d,\"seconds\":%.3f,\"rows_per_second\":%.0f}\n", n, b - a, n / (b - a) }'
}
export -f rate_json

# The raw rows of a generated report (no preamble, header, padding row, blank line or footer)
# into the 82-text-column table; prints a JSON line like the CLI's.
RAW_COPY='
t0=$(date +%s.%N)
n=$(tail -n +4 "$2" | head -n -3 | psql -q -X "$1" -c "\copy raw82 FROM STDIN (FORMAT csv)" -c "SELECT count(*) FROM raw82" -At)
t1=$(date +%s.%N)
rate_json "$n" "$t0" "$t1"
'

# SQLite's own floor: the rows an import stored (orders, order items, customers), copied table to
# table by SQLite itself into an empty database with the engine's schema and settings (WAL,
# synchronous=NORMAL, the same page cache, the buyer index built after the orders, one
# transaction). No CSV, no binding, no upsert lookups, no history: the least time any importer
# needs to write those rows into this schema here. Prints a JSON line with the import's record
# count ($3), so its rows/s compares with the import's.
SQLITE_FLOOR='
t0=$(date +%s.%N)
sqlite3 "$2" >/dev/null <<SQL
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = -32768;
ATTACH DATABASE '"'"'$1'"'"' AS src;
DROP INDEX orders_buyer;
BEGIN;
INSERT INTO accounts SELECT * FROM src.accounts WHERE 1;
INSERT INTO orders SELECT * FROM src.orders WHERE 1;
INSERT INTO order_items SELECT * FROM src.order_items WHERE 1;
CREATE INDEX orders_buyer ON orders (buyer_username, account_id, sale_date, order_key);
INSERT INTO customers SELECT * FROM src.customers WHERE 1;
COMMIT;
SQL
t1=$(date +%s.%N)
rate_json "$3" "$t0" "$t1"
'

# PostgreSQL's own floor: the rows an import stored (orders, order items, customers), dumped
# by binary COPY (untimed, once) and copied back by binary COPY into three fresh tables of the same
# columns, then the same unique and buyer indexes built, in one transaction: no CSV, no checks,
# no upsert, no history. Arguments: the database, the dump directory, the import's record count.
PG_FLOOR_DUMP='
for t in orders order_items customers; do
  psql -q -X "$1" -c "\\copy (SELECT * FROM $t) TO '"'"'$2/$t.bin'"'"' (FORMAT binary)"
done
'
PG_FLOOR='
t0=$(date +%s.%N)
psql -q -X -v ON_ERROR_STOP=1 "$1" >/dev/null <<SQL
BEGIN;
CREATE TABLE floor_orders (LIKE orders);
CREATE TABLE floor_order_items (LIKE order_items);
CREATE TABLE floor_customers (LIKE customers);
\\copy floor_orders FROM '"'"'$2/orders.bin'"'"' (FORMAT binary)
\\copy floor_order_items FROM '"'"'$2/order_items.bin'"'"' (FORMAT binary)
\\copy floor_customers FROM '"'"'$2/customers.bin'"'"' (FORMAT binary)
ALTER TABLE floor_orders ADD PRIMARY KEY (account_id, order_key);
CREATE INDEX ON floor_orders (account_id, buyer_username, sale_date, order_key);
ALTER TABLE floor_order_items ADD PRIMARY KEY (account_id, item_key);
ALTER TABLE floor_customers ADD PRIMARY KEY (account_id, username);
COMMIT;
SQL
t1=$(date +%s.%N)
rate_json "$3" "$t0" "$t1"
'

# measure KIND LABEL ROWS_KEY CMD...: runs CMD $RUNS times (stdout: one JSON line) and appends
# one table row to $TABLE. KIND is used for the setup before each run (sqlite: fresh database).
# Sets MED_WALL_RPS and MED_RSS_KB for the ratio line.
measure() {
  local kind="$1" label="$2" rows_key="$3"
  shift 3
  local walls=() rss=() inner_s=() inner_rps=() rows="" status="" i rc
  for ((i = 1; i <= WARMUP; i++)); do
    setup "$kind"
    sync
    rc=0
    "$@" >"$OUT/run.json" 2>"$OUT/run.stderr" || rc=$?
    if ((rc != 0)); then
      log "error: $label (warm-up) exited with $rc"
      cat "$OUT/run.stderr" >&2
      exit 1
    fi
  done
  for ((i = 1; i <= RUNS; i++)); do
    setup "$kind"
    # Flush what earlier runs left dirty (a SQLite run leaves ~1 GB), so its write-back does not
    # land in this run's time.
    sync
    local json="$OUT/run.json" rss_file="$OUT/run.rss" t0 t1
    t0="$(now)"
    rc=0
    with_rss "$rss_file" "$@" >"$json" 2>"$OUT/run.stderr" || rc=$?
    t1="$(now)"
    if ((rc != 0)) || [[ ! -s "$json" ]]; then
      log "error: $label (run $i) exited with $rc"
      cat "$OUT/run.stderr" >&2
      exit 1
    fi
    rows="$(json_field "$rows_key" "$json")"
    status="$(json_field status "$json")"
    if [[ -n "$status" && "$status" == failed ]]; then
      log "error: $label (run $i): job failed: $(json_field error "$json")"
      exit 1
    fi
    walls+=("$(calc "$t1 - $t0")")
    rss+=("$(tail -n 1 "$rss_file")")
    inner_s+=("$(json_field seconds "$json")")
    inner_rps+=("$(json_field rows_per_second "$json")")
    log "  $label run $i: wall $(printf '%.3f' "${walls[-1]}") s, engine $(json_field seconds "$json") s, \
$(group "${inner_rps[-1]}") rows/s (engine), peak RSS $(group "$(calc "${rss[-1]} / 1024")") MiB${status:+, status $status}"
    cp "$json" "$OUT/last-$kind.json"
  done
  local med_wall med_rss med_s med_rps wall_rps
  med_wall="$(printf '%s\n' "${walls[@]}" | median)"
  med_rss="$(printf '%s\n' "${rss[@]}" | median)"
  med_s="$(printf '%s\n' "${inner_s[@]}" | median)"
  med_rps="$(printf '%s\n' "${inner_rps[@]}" | median)"
  wall_rps="$(calc "$rows / $med_wall")"
  printf '| %s | %s | %.2f | %s | %.2f | %s | %s |\n' "$label" "$(group "$rows")" "$med_s" \
    "$(group "$med_rps")" "$med_wall" "$(group "$wall_rps")" "$(group "$(calc "$med_rss / 1024")")" >>"$TABLE"
  MED_WALL_RPS="$wall_rps"
  MED_RPS="$med_rps"
  MED_RSS_KB="$med_rss"
}

# ---------------------------------------------------------------------------------------------
# Build

log "building the release CLI and the generator"
cargo build --release -p ebay-import -p ebay-import-generate

POLARS=1
POLARS_NOTE=""
if [[ "${E2E_SKIP_POLARS:-0}" == 1 ]]; then
  POLARS=0
  POLARS_NOTE="Polars peer skipped (E2E_SKIP_POLARS=1)."
else
  log "building the Polars peer (release, target dir $POLARS_TARGET; a clean build takes ~11+ minutes)"
  if CARGO_TARGET_DIR="$POLARS_TARGET" cargo build --release -p polars-peer 2>"$OUT/polars-build.log"; then
    :
  else
    POLARS=0
    POLARS_NOTE="Polars peer skipped: \`cargo build --release -p polars-peer\` failed (see $OUT/polars-build.log)."
    log "$POLARS_NOTE"
  fi
fi

# ---------------------------------------------------------------------------------------------
# Reports

SIZES=("$ROWS")
if [[ "${E2E_10M:-0}" == 1 ]]; then SIZES+=(10000000); fi

report_path() { printf '%s/orders-%s-f%s.csv\n' "$OUT" "$1" "$FAULTS_EVERY"; }

PG=0
if [[ "${E2E_SKIP_PG:-0}" != 1 ]] && psql -q -X "$PG_URL/postgres" -c "SELECT 1" >/dev/null 2>&1; then
  PG=1
fi
clean_path() { printf '%s/orders-%s-clean.csv\n' "$OUT" "$1"; }

for rows in "${SIZES[@]}"; do
  if ((PG)) && [[ "$rows" == "$ROWS" ]]; then
    clean="$(clean_path "$rows")"
    if [[ ! -s "$clean" || "${E2E_REGEN:-0}" == 1 ]]; then
      log "generating $clean ($rows rows, no faults, for the PostgreSQL comparison)"
      "$GEN" --rows "$rows" --faults-every 0 --out "$clean.tmp" >/dev/null
      mv "$clean.tmp" "$clean"
    fi
  fi
  file="$(report_path "$rows")"
  if [[ ! -s "$file" || "${E2E_REGEN:-0}" == 1 ]]; then
    log "generating $file ($rows rows, a fault every $FAULTS_EVERY records)"
    "$GEN" --rows "$rows" --faults-every "$FAULTS_EVERY" --out "$file.tmp"
    mv "$file.tmp" "$file"
  fi
done

# ---------------------------------------------------------------------------------------------
# Measure

DB="$OUT/e2e.db"
FLOOR_DB="$OUT/e2e-floor.db"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
rev="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if ! git diff --quiet HEAD 2>/dev/null; then rev="$rev+dirty"; fi

RESULT="$OUT/e2e-$(date +%Y%m%d-%H%M%S).md"
for rows in "${SIZES[@]}"; do
  file="$(report_path "$rows")"
  bytes="$(stat -c %s "$file")"
  cat "$file" >/dev/null # warm the page cache: every run reads from memory
  TABLE="$OUT/table.md"
  : >"$TABLE"
  log "measuring on $file ($WARMUP warm-up + $RUNS timed runs each)"
  measure dry "\`ebay-import --dry-run\`" rows_read \
    "$BIN" import --account bench --json --dry-run --max-file-size 1000GB "$file"
  OURS_RPS="$MED_WALL_RPS" OURS_ENGINE_RPS="$MED_RPS" OURS_RSS="$MED_RSS_KB"
  measure sqlite "\`ebay-import\` → SQLite (fresh DB)" rows_read \
    "$BIN" --database "sqlite://$DB" import --account bench --json --max-file-size 1000GB "$file"
  OURS_SQLITE="$MED_WALL_RPS"
  FLOOR_NOTE=""
  if command -v sqlite3 >/dev/null 2>&1; then
    # `WHERE 1` keeps SQLite from copying the stored records verbatim (its transfer
    # optimisation), so every row is decoded, encoded and indexed as an importer's would be.
    measure sqlitefloor "SQLite's own \`INSERT … SELECT\` of the rows that import stored (fresh DB)" rows \
      bash -c "$SQLITE_FLOOR" _ "$DB" "$FLOOR_DB" "$(json_field rows_read "$OUT/last-sqlite.json")"
    FLOOR_NOTE="$(printf '**SQLite import vs SQLite'"'"'s own copy of the same rows**: %.2f× (1.00×: the import costs no more than SQLite'"'"'s writing of its rows; %s rows/s is the most any importer of this schema reaches here).' \
      "$(calc "$OURS_SQLITE / $MED_WALL_RPS")" "$(group "$MED_WALL_RPS")")"
    rm -rf "$FLOOR_DB" "$FLOOR_DB-wal" "$FLOOR_DB-shm" "$FLOOR_DB-locks"
  fi
  rm -rf "$DB" "$DB-wal" "$DB-shm" "$DB-locks"
  sync
  if ((POLARS)); then
    measure polars "Polars 0.55.2 peer (read + checks)" rows "$PEER" "$file"
    PEER_RPS="$MED_WALL_RPS" PEER_ENGINE_RPS="$MED_RPS" PEER_RSS="$MED_RSS_KB"
  fi
  PG_NOTE=""
  if ((PG)) && [[ "$rows" == "$ROWS" ]]; then
    clean="$(clean_path "$rows")"
    cat "$clean" >/dev/null
    measure pg "\`ebay-import\` → PostgreSQL (fresh DB, clean report)" rows_read \
      "$BIN" --database "$PG_URL/$PG_DB" import --account bench --json --max-file-size 1000GB "$clean"
    OURS_PG="$MED_WALL_RPS"
    PG_RECORDS="$(json_field rows_read "$OUT/last-pg.json")"
    bash -c "$PG_FLOOR_DUMP" _ "$PG_URL/$PG_DB" "$OUT"
    measure pgfloor "PostgreSQL's own binary COPY of the rows that import stored, then their indexes" rows \
      bash -c "$PG_FLOOR" _ "$PG_URL/$PG_DB" "$OUT" "$PG_RECORDS"
    PG_FLOOR_RPS="$MED_WALL_RPS"
    rm -f "$OUT/orders.bin" "$OUT/order_items.bin" "$OUT/customers.bin"
    measure keep "\`ebay-import\` → PostgreSQL, the same file again (every row unchanged)" rows_read \
      "$BIN" --database "$PG_URL/$PG_DB" import --account bench --json --max-file-size 1000GB "$clean"
    PG_AGAIN="$MED_WALL_RPS"
    later="$OUT/orders-$rows-shipped-later.csv"
    if [[ ! -s "$later" || "${E2E_REGEN:-0}" == 1 ]]; then
      "$GEN" --rows "$rows" --faults-every 0 --shipped-later --out "$later.tmp" >/dev/null
      mv "$later.tmp" "$later"
    fi
    cat "$later" >/dev/null
    measure pgloaded "\`ebay-import\` → PostgreSQL, the same orders a day of shipping later (every paid order changed)" rows_read \
      "$BIN" --database "$PG_URL/$PG_DB" import --account bench --json --max-file-size 1000GB "$later"
    PG_LATER="$MED_WALL_RPS"
    measure dry "\`ebay-import --dry-run\`, the clean report" rows_read \
      "$BIN" import --account bench --json --dry-run --max-file-size 1000GB "$clean"
    DRY_CLEAN="$MED_WALL_RPS"
    measure rawcopy "\`psql \\copy\` of the same report's raw rows → 82 text columns" rows \
      bash -c "$RAW_COPY" _ "$PG_URL/$PG_DB" "$clean"
    RAW_PG="$MED_WALL_RPS"
    PG_NOTE="$(printf '**PostgreSQL, by time (ratio = the import'"'"'s time over the yardstick'"'"'s; the targets in brackets)**: a first import %.2f× its floor (≤ 1.3); the same file again %.2f× the dry run (≤ 1.5); a day of shipping updates %.2f× the first import (≤ 1.5); the first import %.2f× a raw \\copy of the text.' \
      "$(calc "$PG_FLOOR_RPS / $OURS_PG")" "$(calc "$DRY_CLEAN / $PG_AGAIN")" "$(calc "$OURS_PG / $PG_LATER")" "$(calc "$RAW_PG / $OURS_PG")")"
    psql -q -X "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
  fi

  {
    printf '\n### End to end: %s-row US Orders report (82 columns, %s MB, a fault every %s records)\n\n' \
      "$(group "$rows")" "$(group "$(calc "$bytes / 1000000")")" "$FAULTS_EVERY"
    printf 'Median of %s runs (after %s warm-up run(s)); %s CPU(s) (%s); release build, commit %s; file in the page cache.\n' \
      "$RUNS" "$WARMUP" "$(nproc)" "${cpu:-unknown CPU}" "$rev"
    printf '"engine" = the time the program reports itself (from opening the input to the summary);\n'
    printf '"wall" = the whole process (start-up, database open/migrations, exit).\n\n'
    printf '| run | rows | engine s | engine rows/s | wall s | wall rows/s | peak RSS MiB |\n'
    printf '|---|---:|---:|---:|---:|---:|---:|\n'
    cat "$TABLE"
    printf '\n'
    if ((POLARS)); then
      printf '**Dry run vs Polars**: %.2f× the rows/s by wall time (%.2f× by engine-reported time); ' \
        "$(calc "$OURS_RPS / $PEER_RPS")" "$(calc "$OURS_ENGINE_RPS / $PEER_ENGINE_RPS")"
      printf 'peak RSS %s MiB vs %s MiB (%.2f×).\n' "$(group "$(calc "$OURS_RSS / 1024")")" \
        "$(group "$(calc "$PEER_RSS / 1024")")" "$(calc "$OURS_RSS / $PEER_RSS")"
      printf '(Ratio > 1: ebay-import is faster. The peer parses the 15 money and 6 date columns and flags\n'
      printf 'scientific-notation item numbers; the dry run validates all 82 columns, groups orders, keys and\n'
      printf 'hashes rows, so the comparison favours Polars.)\n'
    else
      printf '%s\n' "$POLARS_NOTE"
    fi
    if [[ -n "$FLOOR_NOTE" ]]; then printf '\n%s\n' "$FLOOR_NOTE"; fi
    if [[ -n "$PG_NOTE" ]]; then printf '\n%s\n' "$PG_NOTE"; fi
  } | tee -a "$RESULT"
done

# ---------------------------------------------------------------------------------------------
# Other layouts: the German Orders report and the All active listings report, same row count.

if [[ "${E2E_SKIP_LAYOUTS:-0}" != 1 ]]; then
  de="$OUT/orders-de-$ROWS-f$FAULTS_EVERY.csv"
  if [[ ! -s "$de" || "${E2E_REGEN:-0}" == 1 ]]; then
    log "generating $de ($ROWS rows, eBay.de dialect, a fault every $FAULTS_EVERY records)"
    "$GEN" --rows "$ROWS" --layout de --faults-every "$FAULTS_EVERY" --out "$de.tmp" 2>/dev/null
    mv "$de.tmp" "$de"
  fi
  listings="$OUT/listings-$ROWS.csv"
  if [[ ! -s "$listings" || "${E2E_REGEN:-0}" == 1 ]]; then
    log "generating $listings ($ROWS rows)"
    "$GEN_LISTINGS" --rows "$ROWS" --out "$listings.tmp" 2>/dev/null
    mv "$listings.tmp" "$listings"
  fi
  TABLE="$OUT/table.md"
  : >"$TABLE"
  for f in "$de" "$listings"; do
    cat "$f" >/dev/null
    name="$(basename "$f" .csv)"
    log "measuring on $f"
    measure dry "\`ebay-import --dry-run\`, $name" rows_read \
      "$BIN" import --account bench --json --dry-run --max-file-size 1000GB "$f"
    measure sqlite "\`ebay-import\` → SQLite, $name" rows_read \
      "$BIN" --database "sqlite://$DB" import --account bench --json --max-file-size 1000GB "$f"
    rm -rf "$DB" "$DB-wal" "$DB-shm" "$DB-locks"
    sync
  done
  {
    printf '\n### Other layouts: %s rows each\n\n' "$(group "$ROWS")"
    printf 'The German Orders report (82 columns, `;`, German names, `12,50 €`, `15-Mär-24`, a fault every %s records, %s MB)\n' \
      "$FAULTS_EVERY" "$(group "$(calc "$(stat -c %s "$de") / 1000000")")"
    printf 'and the All active listings report (30 columns, %s MB, every listing with a custom label also makes its product).\n' \
      "$(group "$(calc "$(stat -c %s "$listings") / 1000000")")"
    printf 'Same session, commit and medians as above.\n\n'
    printf '| run | rows | engine s | engine rows/s | wall s | wall rows/s | peak RSS MiB |\n'
    printf '|---|---:|---:|---:|---:|---:|---:|\n'
    cat "$TABLE"
  } | tee -a "$RESULT"
fi

rm -f "$OUT/table.md" "$OUT/run.json" "$OUT/run.rss" "$OUT/run.stderr"
log ""
log "saved to $RESULT"
