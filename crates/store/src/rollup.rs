//! Summary tables refreshed from stored rows (customers from orders): the query each store
//! runs and the rows it gives, which then go through the store's ordinary upsert, so counts,
//! unchanged rows, history and rollback work as for imported rows.

use crate::StoreError;
use arrow_array::{ArrayRef, Int64Array, StringArray, TimestampSecondArray};
use ebay_import_map::Rollup;
use ebay_import_resolve::{hash_rows, Outcome, RowWrite, TableRows};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

/// The queries of a refresh, as one store runs them for one rollup, account and job.
#[allow(async_fn_in_trait)]
pub(crate) trait RefreshQueries {
    /// The summary rows of the next touched groups after `after`: [`page_by_keys`], or a
    /// store's own way through them.
    async fn next_page(&mut self, after: &str) -> Result<Page, StoreError>;
    /// The next page of touched groups after `after`, in order: [`Dialect::page`].
    async fn next_keys(&mut self, after: &str) -> Result<Vec<String>, StoreError>;
    /// [`written_by_job`] of the keys.
    async fn written_by_job(&mut self, keys: &[String]) -> Result<HashSet<String>, StoreError>;
    /// The summary rows of the groups, in key order ([`by_scan`], or [`summaries`] as one
    /// statement).
    async fn summaries(&mut self, keys: &[String]) -> Result<Vec<RollupRow>, StoreError>;
    /// Upserts the summary rows, as the store writes imported rows.
    async fn write(&mut self, table: &TableRows) -> Result<Vec<Outcome>, StoreError>;
}

/// The two queries of a summary computed in the engine: the groups' source rows, narrow, then
/// the `latest` values of each group's latest row.
#[allow(async_fn_in_trait)]
pub(crate) trait ScanQueries {
    /// How the store names a source row (a rowid, a natural key).
    type Ref: Clone + Eq + Hash;
    /// [`scan`] of the keys: group, reference, order value, natural key.
    async fn scan(&mut self, keys: &[String]) -> Result<Vec<SourceRow<Self::Ref>>, StoreError>;
    /// [`latest`] of the references, by reference.
    async fn latest(&mut self, refs: Vec<Self::Ref>)
        -> Result<LatestValues<Self::Ref>, StoreError>;
}

/// The summary rows of the groups, folded in the engine from their scanned source rows.
pub(crate) async fn by_scan<Q: ScanQueries>(
    q: &mut Q,
    keys: &[String],
) -> Result<Vec<RollupRow>, StoreError> {
    let groups = fold(q.scan(keys).await?);
    let latest = q.latest(latest_refs(&groups)).await?;
    Ok(rows(groups, latest))
}

/// A page of summary rows, and the last group it covers (`None`: no group is left).
pub(crate) type Page = (Vec<RollupRow>, Option<String>);

/// The next page of touched groups after `after` and their summary rows.
pub(crate) async fn page_by_keys<Q: RefreshQueries>(
    q: &mut Q,
    after: &str,
) -> Result<Page, StoreError> {
    let keys = q.next_keys(after).await?;
    let Some(last) = keys.last().cloned() else {
        return Ok((Vec::new(), None));
    };
    Ok((q.summaries(&keys).await?, Some(last)))
}

/// A scanned source row: group, reference, order value (as text), natural key.
pub(crate) type SourceRow<R> = (String, R, Option<String>, String);

/// The `latest` values of source rows, by reference.
pub(crate) type LatestValues<R> = HashMap<R, Vec<Option<String>>>;

/// Refreshes the summary rows of every touched group, [`PAGE`] groups at a time; returns the
/// rows inserted, updated and unchanged (each group once per job).
pub(crate) async fn refresh<Q: RefreshQueries>(
    q: &mut Q,
    r: &'static Rollup,
) -> Result<[u64; 3], StoreError> {
    let mut counts = [0; 3];
    let mut after = String::new();
    loop {
        let (rows, last) = q.next_page(&after).await?;
        let Some(last) = last else { break };
        after = last;
        let keys: Vec<String> = rows.iter().map(|row| row.key.clone()).collect();
        let already = q.written_by_job(&keys).await?;
        let table = table(r, &rows);
        let outcomes = q.write(&table).await?;
        add_counts(&mut counts, &table, &outcomes, &already);
    }
    Ok(counts)
}

/// Groups refreshed per query: bounds the rows a refresh holds in memory.
pub(crate) const PAGE: i64 = 5000;

/// How a store's SQL spells what differs between them.
pub(crate) struct Dialect {
    /// Makes the temporary table of touched groups, `{keys} (k text primary key)`.
    pub keys_table: &'static str,
    /// Adds the groups of parameter 1 (a list) to it, once each.
    pub add_keys: &'static str,
    /// The next page of touched groups after parameter 1, at most parameter 2 of them.
    pub page: &'static str,
    /// Empties it.
    pub clear_keys: &'static str,
    /// The account parameter as an expression of the column's type.
    pub account: &'static str,
    /// How a row of the source is named cheaply (`rowid`); `None`: by its natural key.
    pub row_ref: Option<&'static str>,
    /// The job parameter (parameter 2).
    pub job: &'static str,
    /// The `FROM` item and the `WHERE` condition that give the rows of `table` (as `s`) whose
    /// `column` is one of the list parameter `n`, filtered by `filter`: one index lookup per
    /// listed value, whatever the planner believes about a table filled in this very
    /// transaction.
    pub rows_by_key: fn(table: &str, column: &str, filter: &str, n: usize) -> (String, String),
    /// Wraps a timestamp expression so it reads as `YYYY-MM-DD HH:MM:SS` text.
    pub timestamp_text: fn(&str) -> String,
}

pub(crate) const SQLITE: Dialect = Dialect {
    keys_table: "CREATE TEMP TABLE IF NOT EXISTS {keys} (k TEXT PRIMARY KEY) WITHOUT ROWID",
    add_keys: "INSERT OR IGNORE INTO {keys} SELECT value FROM json_each(?1)",
    page: "SELECT k FROM {keys} WHERE k > ?1 ORDER BY k LIMIT ?2",
    clear_keys: "DELETE FROM {keys}",
    account: "?1",
    row_ref: Some("rowid"),
    job: "?2",
    rows_by_key: |table, column, filter, n| {
        (
            format!("{table} s"),
            format!("s.{column} IN (SELECT value FROM json_each(?{n})) AND {filter}"),
        )
    },
    timestamp_text: |e| e.to_string(),
};

pub(crate) const POSTGRES: Dialect = Dialect {
    keys_table: "CREATE TEMP TABLE IF NOT EXISTS {keys} (k text PRIMARY KEY) ON COMMIT DROP",
    add_keys: "INSERT INTO {keys} SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
    page: "SELECT k FROM {keys} WHERE k > $1 ORDER BY k LIMIT $2",
    clear_keys: "TRUNCATE {keys}",
    account: "$1::uuid",
    row_ref: None,
    job: "$2::uuid",
    // OFFSET 0 keeps the subquery a nested loop over the listed values.
    rows_by_key: |table, column, filter, n| {
        (
            format!(
                "unnest(${n}::text[]) k(value) CROSS JOIN LATERAL \
                 (SELECT * FROM {table} s WHERE s.{column} = k.value AND {filter} OFFSET 0) s"
            ),
            "TRUE".to_string(),
        )
    },
    timestamp_text: |e| format!("to_char({e}, 'YYYY-MM-DD HH24:MI:SS')"),
};

impl Dialect {
    /// A statement on the rollup's table of touched groups.
    pub(crate) fn on_keys(&self, statement: &str, r: &Rollup) -> String {
        statement.replace("{keys}", &format!("rollup_keys_{}", r.table))
    }
}

/// The summary rows among the given keys that the job wrote in an earlier part (a
/// `--commit-every` job refreshes a group in each part that touches it): counted once, when
/// first written. Parameters: the account, the job, the keys.
pub(crate) fn written_by_job(r: &Rollup, d: &Dialect) -> String {
    let filter = format!("s.account_id = {} AND s.job_id = {}", d.account, d.job);
    let (rows, cond) = (d.rows_by_key)(r.table, r.key_column, &filter, 3);
    format!(
        "SELECT s.{key} FROM {rows} WHERE {cond}",
        key = r.key_column
    )
}

/// The source rows of the given groups, narrow: group, row reference, order value (as text)
/// and natural key. Parameters: the account, the groups.
pub(crate) fn scan(r: &Rollup, d: &Dialect) -> String {
    let filter = format!("s.account_id = {}", d.account);
    let (rows, cond) = (d.rows_by_key)(r.source, r.group_by, &filter, 2);
    format!(
        "SELECT s.{group}, s.{row_ref}, {order}, s.{key} FROM {rows} WHERE {cond}",
        group = r.group_by,
        row_ref = d.row_ref.unwrap_or(r.source_key),
        order = (d.timestamp_text)(&format!("s.{}", r.order_by)),
        key = r.source_key,
    )
}

/// The `latest` columns of the given source rows, each the first non-null of its sources and
/// else the summary table's value from before the job (a refresh never erases what the table
/// knows with nothing). A row this job already wrote (in an earlier `--commit-every` part)
/// falls back to the version the job replaced, not to what the earlier part wrote, so a job
/// refreshes the same rows whether it commits once or in parts. Parameters: the account, the
/// job, the row references. Columns: reference, then `latest`.
pub(crate) fn latest(r: &Rollup, d: &Dialect) -> String {
    let job = d.job;
    let kept = kept_values(r, d, "s");
    let row_ref = d.row_ref.unwrap_or(r.source_key);
    let filter = format!("s.account_id = {}", d.account);
    let (rows, cond) = (d.rows_by_key)(r.source, row_ref, &filter, 3);
    format!(
        "SELECT s.{row_ref}, {kept} FROM {rows} \
         LEFT JOIN {table} t ON t.account_id = {account} AND t.{target_key} = s.{group} \
         LEFT JOIN {table}_history h ON t.job_id = {job} AND h.account_id = t.account_id \
         AND h.{target_key} = t.{target_key} AND h.replaced_by = {job} AND h.job_id <> {job} \
         WHERE {cond}",
        table = r.table,
        target_key = r.key_column,
        group = r.group_by,
        account = d.account,
    )
}

/// The `latest` columns read from the source row `alias`: each the first non-null of its
/// sources, else the summary table's value (`t`) from before the job (`h`, the version the job
/// replaced, when the job wrote `t`).
fn kept_values(r: &Rollup, d: &Dialect, alias: &str) -> String {
    let job = d.job;
    let kept: Vec<String> = r
        .latest
        .iter()
        .map(|(column, sources)| {
            let from: Vec<String> = sources.iter().map(|c| format!("{alias}.{c}")).collect();
            format!(
                "COALESCE({}, CASE WHEN t.job_id = {job} THEN h.{column} ELSE t.{column} END)",
                from.join(", ")
            )
        })
        .collect();
    kept.join(", ")
}

/// The summary rows of the given groups as one statement, folded by the server as
/// [`by_scan`] folds them: per group the earliest and latest order value, the count, and the
/// `latest` columns of its latest row (by order value, nulls first, then natural key in byte
/// order; the window is sorted as the groups' rows are picked, so one sort serves both),
/// with [`latest`]'s fallback to the table's value from before the job. Parameters:
/// the account, the job, the groups. Columns: key, `latest`, first, last, count. When
/// `whole`, every group of the account, in key order, and no groups parameter. PostgreSQL.
pub(crate) fn summaries(r: &Rollup, d: &Dialect, whole: bool) -> String {
    let (job, account) = (d.job, d.account);
    let mut sources: Vec<&str> = r
        .latest
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .filter(|&c| c != r.group_by)
        .collect();
    sources.sort_unstable();
    sources.dedup();
    let kept = kept_values(r, d, "g");
    let filter = format!("s.account_id = {account}");
    let (rows, cond) = match whole {
        true => (
            format!("{} s", r.source),
            format!("{filter} AND s.{} IS NOT NULL", r.group_by),
        ),
        false => (d.rows_by_key)(r.source, r.group_by, &filter, 3),
    };
    let in_order = match whole {
        true => format!(" ORDER BY g.{}", r.group_by),
        false => String::new(),
    };
    let text = |e: &str| (d.timestamp_text)(e);
    format!(
        "SELECT g.{group}, {kept}, {first}, {last}, g.n FROM (\
         SELECT DISTINCT ON (s.{group}) s.{group}, {sources}, \
         min(s.{order}) OVER w AS first_value, max(s.{order}) OVER w AS last_value, \
         count(*) OVER w AS n FROM {rows} WHERE {cond} \
         WINDOW w AS (PARTITION BY s.{group} ORDER BY s.{order} DESC NULLS LAST, \
         s.{key} COLLATE \"C\" DESC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) \
         ORDER BY s.{group}, s.{order} DESC NULLS LAST, s.{key} COLLATE \"C\" DESC) g \
         LEFT JOIN {table} t ON t.account_id = {account} AND t.{target_key} = g.{group} \
         LEFT JOIN {table}_history h ON t.job_id = {job} AND h.account_id = t.account_id \
         AND h.{target_key} = t.{target_key} AND h.replaced_by = {job} AND h.job_id <> {job}\
         {in_order}",
        group = r.group_by,
        first = text("g.first_value"),
        last = text("g.last_value"),
        sources = sources
            .iter()
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", "),
        order = r.order_by,
        key = r.source_key,
        table = r.table,
        target_key = r.key_column,
    )
}

/// One group's summary so far; `R` names a source row (a rowid, a key).
struct Group<R> {
    first: Option<String>,
    last: Option<String>,
    count: i64,
    /// The latest row: its order value, natural key and reference.
    latest: (Option<String>, String, R),
}

/// Folds scanned source rows (group, reference, order value, key) into their groups: the
/// earliest and latest order values, the count, and the latest row (by order value, then key).
fn fold<R>(rows: Vec<SourceRow<R>>) -> BTreeMap<String, Group<R>> {
    let mut groups: BTreeMap<String, Group<R>> = BTreeMap::new();
    for (group, row, order, key) in rows {
        match groups.get_mut(&group) {
            None => {
                groups.insert(
                    group,
                    Group {
                        first: order.clone(),
                        last: order.clone(),
                        count: 1,
                        latest: (order, key, row),
                    },
                );
            }
            Some(g) => {
                g.count += 1;
                if order.is_some() && (g.first.is_none() || order < g.first) {
                    g.first = order.clone();
                }
                if order > g.last {
                    g.last = order.clone();
                }
                if (&order, &key) > (&g.latest.0, &g.latest.1) {
                    g.latest = (order, key, row);
                }
            }
        }
    }
    groups
}

/// The references of the groups' latest rows.
fn latest_refs<R: Clone>(groups: &BTreeMap<String, Group<R>>) -> Vec<R> {
    groups.values().map(|g| g.latest.2.clone()).collect()
}

/// The summary rows, given the `latest` values of each latest row by reference.
fn rows<R: Eq + Hash>(
    groups: BTreeMap<String, Group<R>>,
    mut latest: LatestValues<R>,
) -> Vec<RollupRow> {
    groups
        .into_iter()
        .map(|(key, g)| RollupRow {
            latest: latest.remove(&g.latest.2).unwrap_or_default(),
            key,
            first: g.first,
            last: g.last,
            count: g.count,
        })
        .collect()
}

/// A summary row: key, latest values, first, last (order values as text), count.
pub(crate) struct RollupRow {
    pub key: String,
    pub latest: Vec<Option<String>>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub count: i64,
}

/// The rows as a table to upsert, typed as an import of the summary table would be.
fn table(r: &'static Rollup, rows: &[RollupRow]) -> TableRows {
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
        columns.push((
            column,
            text(&|row| row.latest.get(i).and_then(|v| v.as_deref())),
        ));
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
        // A refresh writes each group once.
        rewrites: false,
    }
}

fn seconds(text: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// Adds the outcomes of a table's rows to inserted, updated and unchanged counts, except for
/// rows the job had written already.
fn add_counts(
    counts: &mut [u64; 3],
    table: &TableRows,
    outcomes: &[Outcome],
    already: &HashSet<String>,
) {
    for (row, o) in table.rows.iter().zip(outcomes) {
        if !already.contains(&row.key) {
            counts[*o as usize] += 1;
        }
    }
}
