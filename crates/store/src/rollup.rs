//! Summary tables refreshed from stored rows (customers from orders): the query each store
//! runs and the rows it gives, which then go through the store's ordinary upsert, so counts,
//! unchanged rows, history and rollback work as for imported rows.

use arrow_array::{ArrayRef, Int64Array, StringArray, TimestampSecondArray};
use ebay_import_map::Rollup;
use ebay_import_resolve::{hash_rows, Outcome, RowWrite, TableRows};
use std::sync::Arc;

/// How a store's SQL spells what differs between them.
pub(crate) struct Dialect {
    /// The account parameter as an expression of the column's type.
    pub account: &'static str,
    /// `col IN <keys>`: the group keys parameter (a list) as a set.
    pub in_keys: &'static str,
    /// Wraps a timestamp expression so it reads as `YYYY-MM-DD HH:MM:SS` text.
    pub timestamp_text: fn(&str) -> String,
}

pub(crate) const SQLITE: Dialect = Dialect {
    account: "?1",
    in_keys: "IN (SELECT value FROM json_each(?2))",
    timestamp_text: |e| e.to_string(),
};

pub(crate) const POSTGRES: Dialect = Dialect {
    account: "$1::uuid",
    in_keys: "= ANY($2::text[])",
    timestamp_text: |e| format!("to_char({e}, 'YYYY-MM-DD HH24:MI:SS')"),
};

/// One row per group among the given keys: the group key, the `latest` columns, first, last
/// (as text) and count.
pub(crate) fn query(r: &Rollup, d: &Dialect) -> String {
    let latest: Vec<String> = r
        .latest
        .iter()
        .map(|(column, sources)| match sources {
            [one] => format!("{one} AS {column}"),
            many => format!("COALESCE({}) AS {column}", many.join(", ")),
        })
        .collect();
    // A refresh never erases what the table knows with nothing: a column the latest row
    // leaves empty keeps its stored value.
    let kept: Vec<String> = r
        .latest
        .iter()
        .map(|(c, _)| format!("COALESCE(ranked.{c}, t.{c})"))
        .collect();
    let ts = d.timestamp_text;
    format!(
        "SELECT ranked.g, {kept}, ranked.{first}, ranked.{last}, ranked.n FROM (\
           SELECT {group} AS g, {latest}, \
             {min} AS {first}, {max} AS {last}, COUNT(*) OVER w AS n, \
             ROW_NUMBER() OVER (PARTITION BY {group} \
               ORDER BY {order} DESC NULLS LAST, {key} DESC) AS rn \
           FROM {source} WHERE account_id = {account} AND {group} {in_keys} \
           WINDOW w AS (PARTITION BY {group})\
         ) ranked \
         LEFT JOIN {table} t ON t.account_id = {account} AND t.{target_key} = ranked.g \
         WHERE ranked.rn = 1 ORDER BY ranked.g",
        kept = kept.join(", "),
        first = r.first,
        last = r.last,
        group = r.group_by,
        latest = latest.join(", "),
        min = ts(&format!("MIN({}) OVER w", r.order_by)),
        max = ts(&format!("MAX({}) OVER w", r.order_by)),
        order = r.order_by,
        key = r.source_key,
        source = r.source,
        table = r.table,
        target_key = r.key_column,
        account = d.account,
        in_keys = d.in_keys,
    )
}

/// A row the query gave: key, latest values, first, last, count.
pub(crate) struct RollupRow {
    pub key: String,
    pub latest: Vec<Option<String>>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub count: i64,
}

/// The rows as a table to upsert, typed as an import of the summary table would be.
pub(crate) fn table(r: &'static Rollup, rows: &[RollupRow]) -> TableRows {
    let n = rows.len();
    let text = |f: &dyn Fn(&RollupRow) -> Option<&str>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let time = |f: &dyn Fn(&RollupRow) -> Option<&str>| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|row| f(row).and_then(seconds))
                .collect::<TimestampSecondArray>(),
        )
    };
    let mut columns: Vec<(&'static str, ArrayRef)> =
        vec![(r.key_column, text(&|row| Some(&row.key)))];
    for (i, (column, _)) in r.latest.iter().enumerate() {
        columns.push((column, text(&|row| row.latest[i].as_deref())));
    }
    columns.push((r.first, time(&|row| row.first.as_deref())));
    columns.push((r.last, time(&|row| row.last.as_deref())));
    columns.push((
        r.count,
        Arc::new(
            rows.iter()
                .map(|row| Some(row.count))
                .collect::<Int64Array>(),
        ),
    ));
    let hashes = hash_rows(&columns, n, |_| true);
    TableRows {
        table: r.table,
        key_column: r.key_column,
        columns,
        rows: rows
            .iter()
            .zip(hashes)
            .enumerate()
            .map(|(i, (row, hash))| RowWrite {
                row: i as u32,
                key: row.key.clone(),
                hash,
                // A summary row comes from no one line of the file.
                line: 0,
            })
            .collect(),
    }
}

fn seconds(text: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// Inserted, updated and unchanged rows.
pub(crate) fn counts(outcomes: &[Outcome]) -> [u64; 3] {
    let mut c = [0; 3];
    for o in outcomes {
        c[*o as usize] += 1;
    }
    c
}
