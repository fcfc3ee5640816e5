#!/usr/bin/env bash
# PostgreSQL with many accounts: a daily import (10,000 records of new orders) into an account
# already holding a big report, a small import while another account backfills, and a new
# account's first import with 1,000 other accounts' partitions present. Prints a markdown
# table; each case beside the yardstick it is judged by (same run).
#
# Usage: bash benches/accounts.sh
#
# Environment:
#   ACC_BIG=1000000        records of the big account's report (its backfill in case 2)
#   ACC_BIGGER=0           also measure the daily import with this many records stored (3000000)
#   ACC_SMALL=10000        records of the daily import
#   ACC_ACCOUNTS=1000      other accounts present in case 3
#   ACC_RUNS=3             timed runs of each small import (the median is printed)
#   E2E_OUT, E2E_PG_URL    as for benches/e2e.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=benches/common.sh
source benches/common.sh
BIG="${ACC_BIG:-1000000}"
BIGGER="${ACC_BIGGER:-0}"
SMALL="${ACC_SMALL:-10000}"
ACCOUNTS="${ACC_ACCOUNTS:-1000}"
RUNS="${ACC_RUNS:-3}"
DB=ebay_import_accounts
URL="$PG_URL/$DB"

cargo build --release -p ebay-import -p ebay-import-generate >&2

report() { # report ROWS SEED: a clean report's path, generated once
  local f="$OUT/acc-orders-$1-s$2.csv"
  if [[ ! -s "$f" ]]; then "$GEN" --rows "$1" --seed "$2" --faults-every 0 --out "$f" >/dev/null; fi
  printf '%s\n' "$f"
}
fresh_db() {
  psql -q -X "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
  "$BIN" --database "$URL" migrate >/dev/null
}
import() { # import ACCOUNT FILE: prints the seconds it took
  local t0 t1
  t0="$(now)"
  "$BIN" --database "$URL" import --account "$1" --json --max-file-size 1000GB "$2" >"$OUT/acc-last.json"
  t1="$(now)"
  calc "$t1 - $t0"
}
small_runs() { # small_runs PREFIX FILE: the median seconds of RUNS imports, each into a new account
  local i
  for i in $(seq 1 "$RUNS"); do import "$1-$i-$RANDOM" "$2"; done | median
}
daily_runs() { # daily_runs ACCOUNT: the median of RUNS daily imports of new orders into ACCOUNT
  local i
  for i in $(seq 1 "$RUNS"); do import "$1" "$(report "$SMALL" $((100 + i)))"; done | median
}

small="$(report "$SMALL" 7)"
big="$(report "$BIG" 42)"
dry="$(for i in $(seq 1 "$RUNS"); do
  t0="$(now)"; "$BIN" import --account x --json --dry-run "$small" >/dev/null; t1="$(now)"; calc "$t1 - $t0"
done | median)"
TABLE=()
row() { TABLE+=("| $1 | $2 s | $3 |"); }

log "1. daily imports into an account holding $BIG records"
fresh_db
import big "$big" >/dev/null
daily_big="$(daily_runs big)"
row "$SMALL new records into an account holding $BIG" "$daily_big" \
  "$(calc "$daily_big / ($dry * 2 + 1)")× the limit (2 × dry run $dry s + 1 s)"
if ((BIGGER > 0)); then
  fresh_db
  import bigger "$(report "$BIGGER" 43)" >/dev/null
  daily_bigger="$(daily_runs bigger)"
  row "$SMALL new records into an account holding $BIGGER" "$daily_bigger" \
    "$(calc "$daily_bigger / $daily_big")× the same into $BIG (≤ 1.2×)"
fi

log "2. a small import alone, then while another account backfills $BIG records"
fresh_db
import existing "$small" >/dev/null
alone="$(daily_runs existing)"
"$BIN" --database "$URL" import --account backfill --json --max-file-size 1000GB "$big" >/dev/null &
backfill=$!
sleep 3
during="$(daily_runs existing)"
wait "$backfill"
row "$SMALL records into an existing account alone" "$alone" ""
row "the same while a new account backfills $BIG" "$during" "$(calc "$during / $alone")× alone (≤ 2×)"

log "3. a new account's first import with $ACCOUNTS other accounts present"
fresh_db
first_alone="$(small_runs first "$small")"
# One transaction per account: a transaction making them all would need a lock per partition.
psql -q -X "$URL" -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT format('SELECT ebay_import_add_partition(t, %L) FROM unnest(%L::text[]) t', gen_random_uuid(),
              ARRAY['orders', 'order_items', 'listings', 'products', 'customers'])
FROM generate_series(1, $ACCOUNTS) \\gexec
SQL
first_many="$(small_runs many "$small")"
row "a new account's $SMALL records, no other account" "$first_alone" ""
row "the same with $ACCOUNTS other accounts' partitions" "$first_many" "$(calc "$first_many / $first_alone")× without"
psql -q -X "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null

printf '| case | median | against its yardstick |\n|---|---:|---|\n'
printf '%s\n' "${TABLE[@]}"
