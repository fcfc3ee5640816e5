//! The project's own CSV edge-case corpus, `tests/corpus/`: every file there is run through
//! `inspect --json --rows all`, and the Orders-shaped ones also through `import --dry-run --json
//! --rejects`, and compared with the expectation stored beside it (`NAME.csv` and
//! `NAME.expected.json`). The expectations were written from what the bytes mean (RFC 4180 and
//! the README's rules), not copied from the engine's output.
//!
//! An expectation is a JSON object:
//! - `covers`: what the file is about, in words;
//! - `inspect`: `exit` and optional extra `args`; for exit 0 the `encoding`, `delimiter`,
//!   `header_line` and `columns`, every record (`records`: `{line, values}`, exactly, in order),
//!   every structural error (`errors`: `{line, code}`, exactly, in order; messages are not
//!   compared) and how many rows were `skipped` (a count only: the list's shape is not part of
//!   the contract); for any other exit, `stderr`: the whole message (one line);
//! - `import`, for Orders-shaped files: `exit`, optional extra `args`, the `rows_read`,
//!   `inserted`, `rejected` and `skipped` counts of the dry run's JSON and every reject of its
//!   `--rejects` CSV (`rejects`: `{line, code}`, sorted by line, then code); for a failed job,
//!   `stderr`: a text the output must contain.

mod common;

use common::{parse_rejects, Env};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
const EXPECTED_SUFFIX: &str = ".expected.json";
const TOP_KEYS: [&str; 3] = ["covers", "inspect", "import"];
const INSPECT_KEYS: [&str; 10] = [
    "exit",
    "args",
    "stderr",
    "encoding",
    "delimiter",
    "header_line",
    "columns",
    "records",
    "errors",
    "skipped",
];
const IMPORT_KEYS: [&str; 8] = [
    "exit",
    "args",
    "stderr",
    "rows_read",
    "inserted",
    "rejected",
    "skipped",
    "rejects",
];
/// Differences listed per part before the rest is summarised.
const MAX_LISTED: usize = 12;

/// One corpus file and its expectation.
struct Case {
    name: String,
    file: PathBuf,
    expected: Value,
}

impl Case {
    fn path(&self) -> &str {
        self.file.to_str().expect("corpus paths are UTF-8")
    }
}

/// The corpus files (every file of `tests/corpus/` except dotfiles and expectations), sorted.
fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .unwrap_or_else(|e| panic!("read {CORPUS}: {e}"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("corpus file names are UTF-8")
}

/// `name.csv` → `name.expected.json` (the last extension goes).
fn expectation_path(file: &Path) -> PathBuf {
    let name = file_name(file);
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    file.with_file_name(format!("{stem}{EXPECTED_SUFFIX}"))
}

/// Every case with its expectation, and what is wrong with the corpus: files without an
/// expectation, expectations without a file, expectations that are not valid.
fn load() -> (Vec<Case>, Vec<String>) {
    let files = corpus_files();
    let mut problems = Vec::new();
    let mut cases = Vec::new();
    let mut claimed = BTreeSet::new();
    for file in &files {
        let name = file_name(file);
        if name.starts_with('.') || name.ends_with(EXPECTED_SUFFIX) {
            continue;
        }
        let exp_path = expectation_path(file);
        let exp_name = file_name(&exp_path).to_string();
        if !claimed.insert(exp_name.clone()) {
            problems.push(format!(
                "{name}: another corpus file has the same stem, so both would use {exp_name}"
            ));
            continue;
        }
        let text = match std::fs::read_to_string(&exp_path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!(
                    "{name}: no expectation ({exp_name}: {e}); write down what inspect must give \
                     for it (see the top of tests/edge_corpus.rs)"
                ));
                continue;
            }
        };
        let expected: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{exp_name}: not JSON: {e}"));
                continue;
            }
        };
        problems.extend(
            check_shape(&expected)
                .into_iter()
                .map(|p| format!("{exp_name}: {p}")),
        );
        cases.push(Case {
            name: name.to_string(),
            file: file.clone(),
            expected,
        });
    }
    for file in &files {
        let name = file_name(file);
        if name.ends_with(EXPECTED_SUFFIX) && !claimed.contains(name) {
            problems.push(format!("{name}: no corpus file for this expectation"));
        }
    }
    (cases, problems)
}

/// The cases that have an expectation (the corpus's consistency is its own test).
fn cases() -> Vec<Case> {
    load().0
}

/// What is wrong with an expectation's layout (unknown keys catch misspelt ones).
fn check_shape(exp: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(top) = exp.as_object() else {
        return vec!["not a JSON object".into()];
    };
    let mut unknown = |obj: &serde_json::Map<String, Value>, known: &[&str], part: &str| {
        for key in obj.keys() {
            if !known.contains(&key.as_str()) {
                problems.push(format!("unknown key {key:?} in {part}"));
            }
        }
    };
    unknown(top, &TOP_KEYS, "the expectation");
    if let Some(inspect) = top.get("inspect").and_then(Value::as_object) {
        unknown(inspect, &INSPECT_KEYS, "inspect");
    }
    if let Some(import) = top.get("import").and_then(Value::as_object) {
        unknown(import, &IMPORT_KEYS, "import");
    }
    if !top.get("covers").is_some_and(Value::is_string) {
        problems.push("`covers` (what the file is about) is missing".into());
    }
    match top.get("inspect") {
        Some(inspect) => problems.extend(required(inspect, "inspect", &INSPECT_KEYS[3..])),
        None => problems.push("`inspect` is missing".into()),
    }
    if let Some(import) = top.get("import") {
        problems.extend(required(import, "import", &IMPORT_KEYS[3..]));
    }
    problems
}

/// The keys a part must have: `exit`, then `stderr` for a failure or `success_keys` for exit 0.
fn required(part: &Value, name: &str, success_keys: &[&str]) -> Vec<String> {
    let Some(exit) = part["exit"].as_i64() else {
        return vec![format!("{name}.exit is missing")];
    };
    let keys: &[&str] = if exit == 0 || exit == 3 {
        success_keys
    } else {
        &["stderr"]
    };
    keys.iter()
        .filter(|k| part.get(**k).is_none())
        .map(|k| format!("{name}.{k} is missing (exit {exit})"))
        .collect()
}

/// Extra arguments of a part (`args`).
fn extra_args(part: &Value) -> Vec<&str> {
    part["args"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// How many rows a report says were skipped: the length of a list, a number, or the `count`
/// (or `total`) of a summary object.
fn skipped_count(v: &Value) -> Result<u64, String> {
    match v {
        Value::Array(a) => Ok(a.len() as u64),
        Value::Number(n) => n.as_u64().ok_or_else(|| format!("skipped is {n}")),
        Value::Object(o) => ["count", "total"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_u64))
            .ok_or_else(|| {
                format!("skipped is an object without a count ({v}); teach skipped_count its shape")
            }),
        other => Err(format!(
            "skipped is neither a list nor a count: {other}; teach skipped_count its shape"
        )),
    }
}

/// `{line, code}` of a list of errors or rejects (other keys dropped).
fn line_codes(v: &Value) -> Vec<Value> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|e| json!({"line": e["line"], "code": e["code"]}))
                .collect()
        })
        .unwrap_or_default()
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 {
        format!(
            "{}… ({} characters)",
            s.chars().take(200).collect::<String>(),
            s.len()
        )
    } else {
        s
    }
}

/// Compares one scalar or list field.
fn compare_field(out: &mut Vec<String>, what: &str, want: &Value, got: &Value) {
    if want != got {
        out.push(format!(
            "{what}: expected {}, got {}",
            show(want),
            show(got)
        ));
    }
}

/// Records compared by the line they start on: missing, unexpected and differing ones, then
/// their order.
fn compare_records(out: &mut Vec<String>, want: &Value, got: &Value, columns: &Value) {
    let empty = Vec::new();
    let want = want.as_array().unwrap_or(&empty);
    let got = got.as_array().unwrap_or(&empty);
    if want == got {
        return;
    }
    let by_line = |records: &[Value]| -> Vec<(u64, Value)> {
        records
            .iter()
            .map(|r| (r["line"].as_u64().unwrap_or(0), r["values"].clone()))
            .collect()
    };
    let (want, got) = (by_line(want), by_line(got));
    let find = |list: &[(u64, Value)], line: u64| {
        list.iter()
            .find(|(l, _)| *l == line)
            .map(|(_, v)| v.clone())
    };
    let mut diffs = Vec::new();
    for (line, values) in &want {
        match find(&got, *line) {
            None => diffs.push(format!("missing record at line {line}: {}", show(values))),
            Some(g) if g != *values => diffs.push(describe_values(*line, values, &g, columns)),
            Some(_) => {}
        }
    }
    for (line, values) in &got {
        if find(&want, *line).is_none() {
            diffs.push(format!(
                "unexpected record at line {line}: {}",
                show(values)
            ));
        }
    }
    if diffs.is_empty() {
        let lines = |list: &[(u64, Value)]| list.iter().map(|(l, _)| *l).collect::<Vec<_>>();
        diffs.push(format!(
            "records in another order: expected lines {:?}, got {:?}",
            lines(&want),
            lines(&got)
        ));
    }
    list(out, "records", diffs);
}

/// Which values of a record differ, by column.
fn describe_values(line: u64, want: &Value, got: &Value, columns: &Value) -> String {
    let empty = Vec::new();
    let (w, g) = (
        want.as_array().unwrap_or(&empty),
        got.as_array().unwrap_or(&empty),
    );
    if w.len() != g.len() {
        return format!(
            "record at line {line}: expected {} values {}, got {} values {}",
            w.len(),
            show(want),
            g.len(),
            show(got)
        );
    }
    let differing: Vec<String> = w
        .iter()
        .zip(g)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .take(5)
        .map(|(i, (a, b))| {
            let name = columns[i].as_str().unwrap_or("?");
            format!(
                "column {} ({name:?}): expected {}, got {}",
                i + 1,
                show(a),
                show(b)
            )
        })
        .collect();
    format!("record at line {line}: {}", differing.join("; "))
}

/// Lists of `{line, code}` compared as multisets, then in order.
fn compare_line_codes(out: &mut Vec<String>, what: &str, want: &[Value], got: &[Value]) {
    if want == got {
        return;
    }
    let mut diffs = Vec::new();
    let mut rest: Vec<&Value> = got.iter().collect();
    for w in want {
        match rest.iter().position(|g| *g == w) {
            Some(i) => {
                rest.remove(i);
            }
            None => diffs.push(format!("missing {w}")),
        }
    }
    diffs.extend(rest.iter().map(|g| format!("unexpected {g}")));
    if diffs.is_empty() {
        diffs.push(format!(
            "in another order: expected {}, got {}",
            Value::from(want.to_vec()),
            Value::from(got.to_vec())
        ));
    }
    list(out, what, diffs);
}

fn list(out: &mut Vec<String>, what: &str, diffs: Vec<String>) {
    let n = diffs.len();
    for d in diffs.into_iter().take(MAX_LISTED) {
        out.push(format!("{what}: {d}"));
    }
    if n > MAX_LISTED {
        out.push(format!("{what}: … and {} more", n - MAX_LISTED));
    }
}

/// Runs `inspect` on a case and lists how the result differs from its expectation.
fn check_inspect(env: &Env, case: &Case) -> Vec<String> {
    let want = &case.expected["inspect"];
    let mut args = vec!["inspect", case.path(), "--json", "--rows", "all"];
    args.extend(extra_args(want));
    let run = env.run(&args);
    let mut out = Vec::new();
    let exit = want["exit"].as_i64().unwrap_or(0);
    if i64::from(run.code) != exit {
        out.push(format!(
            "exit {} (expected {exit}); stderr: {}",
            run.code,
            run.stderr.trim()
        ));
        return out;
    }
    if exit != 0 {
        let text = want["stderr"].as_str().unwrap_or_default();
        if run.stderr.trim() != text {
            out.push(format!(
                "stderr: expected {text:?}, got {:?}",
                run.stderr.trim()
            ));
        }
        return out;
    }
    let got: Value = match serde_json::from_str(&run.stdout) {
        Ok(v) => v,
        Err(e) => return vec![format!("inspect printed no JSON ({e}): {}", run.stdout)],
    };
    for key in ["encoding", "delimiter", "header_line", "columns"] {
        compare_field(&mut out, key, &want[key], &got[key]);
    }
    compare_records(&mut out, &want["records"], &got["records"], &got["columns"]);
    compare_line_codes(
        &mut out,
        "errors",
        &line_codes(&want["errors"]),
        &line_codes(&got["errors"]),
    );
    match skipped_count(&got["skipped"]) {
        Ok(n) => compare_field(&mut out, "skipped (count)", &want["skipped"], &n.into()),
        Err(e) => out.push(e),
    }
    out
}

/// Runs `import --dry-run` on a case with an `import` expectation and lists the differences.
fn check_import(env: &Env, case: &Case) -> Vec<String> {
    let want = &case.expected["import"];
    let rejects = env.path("rejects.csv");
    let _ = std::fs::remove_file(&rejects);
    let rejects = rejects.to_str().expect("a UTF-8 temporary path");
    let mut args = vec![
        "import",
        "--account",
        "corpus",
        "--dry-run",
        "--json",
        "--rejects",
        rejects,
    ];
    args.extend(extra_args(want));
    args.push(case.path());
    let run = env.run(&args);
    let mut out = Vec::new();
    let exit = want["exit"].as_i64().unwrap_or(0);
    if i64::from(run.code) != exit {
        out.push(format!(
            "exit {} (expected {exit}); stdout: {}; stderr: {}",
            run.code,
            run.stdout.trim(),
            run.stderr.trim()
        ));
        return out;
    }
    if exit != 0 && exit != 3 {
        let text = want["stderr"].as_str().unwrap_or_default();
        if !run.stderr.contains(text) && !run.stdout.contains(text) {
            out.push(format!(
                "the output does not say {text:?}: {} {}",
                run.stdout.trim(),
                run.stderr.trim()
            ));
        }
        return out;
    }
    let summary = run.json();
    for key in ["rows_read", "inserted", "rejected", "skipped"] {
        compare_field(&mut out, key, &want[key], &summary[key]);
    }
    let text = std::fs::read_to_string(rejects).unwrap_or_default();
    let got: Vec<Value> = parse_rejects(&text)
        .iter()
        .map(|r| json!({"line": r.line, "code": r.code}))
        .collect();
    compare_line_codes(&mut out, "rejects", &line_codes(&want["rejects"]), &got);
    out
}

/// Runs `check` over the cases and fails with every difference, file by file.
fn check_all(what: &str, cases: &[&Case], check: fn(&Env, &Case) -> Vec<String>) {
    let env = Env::new();
    let mut failures = Vec::new();
    for case in cases {
        let diffs = check(&env, case);
        if !diffs.is_empty() {
            failures.push(format!(
                "{} ({}):\n  {}",
                case.name,
                case.expected["covers"].as_str().unwrap_or_default(),
                diffs.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{what}: {} of {} corpus file(s) differ from their expectations (tests/corpus/*{EXPECTED_SUFFIX}):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// The corpus cannot rot: every file has an expectation, every expectation a file, and every
/// expectation is complete, with no misspelt keys.
#[test]
fn every_corpus_file_has_an_expectation() {
    let (cases, problems) = load();
    assert!(
        problems.is_empty(),
        "the corpus in {CORPUS} is not consistent:\n{}",
        problems.join("\n")
    );
    assert!(
        cases.len() >= 40,
        "only {} corpus files in {CORPUS}",
        cases.len()
    );
    assert!(
        cases.iter().any(|c| c.expected.get("import").is_some()),
        "no corpus file is checked through import"
    );
}

#[test]
fn inspect_gives_every_expected_record_and_error() {
    let cases = cases();
    check_all("inspect", &cases.iter().collect::<Vec<_>>(), check_inspect);
}

#[test]
fn orders_files_import_with_the_expected_rejects() {
    let cases = cases();
    let orders: Vec<&Case> = cases
        .iter()
        .filter(|c| c.expected.get("import").is_some())
        .collect();
    check_all("import --dry-run", &orders, check_import);
}

/// The comparison itself: a wrong expectation is reported by line and column.
#[test]
fn differences_are_reported_by_line_and_column() {
    let mut out = Vec::new();
    let columns = json!(["a", "b"]);
    compare_records(
        &mut out,
        &json!([{"line": 2, "values": ["1", "2"]}, {"line": 3, "values": ["3", "4"]}]),
        &json!([{"line": 2, "values": ["1", "x"]}, {"line": 4, "values": ["3", "4"]}]),
        &columns,
    );
    assert_eq!(
        out,
        vec![
            r#"records: record at line 2: column 2 ("b"): expected "2", got "x""#,
            r#"records: missing record at line 3: ["3","4"]"#,
            r#"records: unexpected record at line 4: ["3","4"]"#,
        ]
    );
    let mut out = Vec::new();
    compare_line_codes(
        &mut out,
        "errors",
        &[json!({"line": 3, "code": "missing_columns"})],
        &[json!({"line": 3, "code": "too_many_columns"})],
    );
    assert_eq!(
        out,
        vec![
            r#"errors: missing {"line":3,"code":"missing_columns"}"#,
            r#"errors: unexpected {"line":3,"code":"too_many_columns"}"#,
        ]
    );
    assert_eq!(skipped_count(&json!([1, 2])), Ok(2));
    assert_eq!(skipped_count(&json!({"count": 7, "first": []})), Ok(7));
    assert!(skipped_count(&json!("x")).is_err());
}
