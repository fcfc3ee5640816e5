//! What reading costs, end to end: skipped rows are counted and summarised (never listed one
//! by one), and the header search stops within a bound.

mod common;

use common::{sample_bytes, u, Env};
use serde_json::Value;

/// Skipped rows `inspect` lists per reason (it counts every one).
const LISTED_PER_REASON: usize = 20;

/// The sample with `blank_lines` blank lines (`\r\n`, the sample's line end) after each of
/// its five records; returns the text and the lines of the blank lines.
fn sample_with_blank_lines(blank_lines: usize) -> (Vec<u8>, Vec<u64>) {
    let sample = sample_bytes();
    let lines: Vec<&[u8]> = sample.split_inclusive(|&b| b == b'\n').collect();
    let mut out = Vec::new();
    let mut blanks = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        out.extend_from_slice(line);
        // Lines 4-8 are the five records of the sample.
        if (3..8).contains(&i) {
            let first = (out.iter().filter(|&&b| b == b'\n').count() + 1) as u64;
            blanks.extend(first..first + blank_lines as u64);
            out.extend(b"\r\n".repeat(blank_lines));
        }
    }
    (out, blanks)
}

fn inspect_json(env: &Env, file: &str, args: &[&str]) -> Value {
    let mut all = vec!["inspect", file, "--json"];
    all.extend_from_slice(args);
    env.run(&all).expect_code(0).json_doc()
}

fn skipped_lines(report: &Value, reason: &str) -> Vec<u64> {
    report["skipped"]
        .as_array()
        .expect("skipped is a list")
        .iter()
        .filter(|s| s["reason"] == reason)
        .map(|s| s["line"].as_u64().expect("line"))
        .collect()
}

#[test]
fn blank_lines_are_counted_and_the_first_of_them_listed() {
    let env = Env::new();
    let (text, blanks) = sample_with_blank_lines(60_000);
    let file = env.write("blank.csv", &text);
    let r = inspect_json(&env, &file, &["--rows", "all"]);
    assert_eq!(skipped_lines(&r, "blank_line"), blanks[..LISTED_PER_REASON]);
    // The sample's own blank line before its footer is the last of them.
    assert_eq!(u(&r, "skipped_counts.blank_line"), blanks.len() as u64 + 1);
    assert_eq!(u(&r, "skipped_counts.preamble"), 1);
    assert_eq!(u(&r, "skipped_counts.footer_record_count"), 1);
    let record_lines: Vec<u64> = r["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|rec| rec["line"].as_u64().expect("line"))
        .collect();
    let after = |n: u64| 4 + n * 60_001;
    assert_eq!(record_lines, (0..5).map(after).collect::<Vec<_>>());
    // The import counts the same rows as skipped, exactly as many as before.
    let j = env
        .import("demo", &["--dry-run", &file])
        .expect_code(0)
        .json();
    assert_eq!(u(&j, "rows_read"), 5);
    assert_eq!(u(&j, "skipped"), 5 + blanks.len() as u64);
}

#[test]
fn a_row_limit_lists_skips_before_the_last_record_shown_and_counts_all_read() {
    let env = Env::new();
    let file = env.write("few.csv", "id,v\n1,a\n\n\n2,b\n\n\n\n3,c\n\n");
    let r = inspect_json(&env, &file, &["--rows", "2"]);
    // Listed up to the record after the last one shown (line 9); counted as far as read.
    assert_eq!(skipped_lines(&r, "blank_line"), vec![3, 4, 6, 7, 8]);
    assert_eq!(u(&r, "skipped_counts.blank_line"), 6);
    let text = env.run(&["inspect", &file, "--rows", "2"]);
    text.expect_code(0);
    assert!(
        text.stdout.contains("skipped:   blank_line 6\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("skipped line 3: blank_line\nskipped line 4: blank_line\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "(skipped lines listed: the first 20 of each reason, up to the last record shown)"
        ),
        "{}",
        text.stdout
    );
}

#[test]
fn megabytes_of_blank_lines_before_the_header_are_passed_not_buffered() {
    let env = Env::new();
    let blank = 3 << 20;
    let mut text = b"\n".repeat(blank);
    // The sample without its byte order mark, which only counts at the start of a file.
    text.extend(&sample_bytes()[3..]);
    let file = env.write("late-header.csv", &text);
    let r = inspect_json(&env, &file, &["--rows", "all"]);
    assert_eq!(u(&r, "header_line"), blank as u64 + 2);
    assert_eq!(
        skipped_lines(&r, "blank_line"),
        (1..=20).collect::<Vec<u64>>()
    );
    assert_eq!(u(&r, "skipped_counts.blank_line"), blank as u64 + 1);
    let j = env
        .import("demo", &["--dry-run", &file])
        .expect_code(0)
        .json();
    assert_eq!(u(&j, "rows_read"), 5);
    assert_eq!(u(&j, "skipped"), 5 + blank as u64);
}

#[test]
fn a_first_row_longer_than_any_header_is_named() {
    let env = Env::new();
    let mut text = b"a,".to_vec();
    text.extend(b"x".repeat(2 << 20));
    text.extend(b"\n1,2\n");
    let file = env.write("long-first.csv", &text);
    let run = env.run(&["inspect", &file, "--max-line-bytes", "8MiB"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("the first row is longer than 1048576 bytes, which no header row is"),
        "{}",
        run.stderr
    );
}
