# What the bench scripts share: where things are, and small helpers. Sourced, from the root.
#   E2E_OUT=bench-out       where reports, databases and logs go (git-ignored)
#   E2E_PG_URL=postgres://postgres@127.0.0.1:5432   PostgreSQL server (no database)

OUT="${E2E_OUT:-bench-out}"
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET/release/ebay-import"
GEN="$TARGET/release/gen-orders"
PG_URL="${E2E_PG_URL:-postgres://postgres@127.0.0.1:5432}"
mkdir -p "$OUT"

log() { printf '%s\n' "$*" >&2; }

now() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then printf '%s\n' "${EPOCHREALTIME/,/.}"; else date +%s.%N; fi
}

# json_field NAME FILE: a top-level number or string of a one-line JSON object.
json_field() {
  sed -n "s/.*\"$1\":[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p" "$2" | head -n 1
}

# median: of the numbers on stdin.
median() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]
    else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# group: 1234567.8 -> 1,234,568
group() {
  awk -v n="$1" 'BEGIN {
    s = sprintf("%.0f", n); neg = (substr(s, 1, 1) == "-"); if (neg) s = substr(s, 2)
    out = ""; while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
    printf "%s%s%s\n", (neg ? "-" : ""), s, out }'
}

calc() { awk "BEGIN { printf \"%.6f\n\", $1 }"; }

