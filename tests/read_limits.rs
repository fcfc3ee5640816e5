//! What reading costs and refuses, end to end: skipped rows are counted and summarised
//! (never listed one by one), the header search stops within a bound, gzip and zstd inputs
//! are read through (and bounded by `--max-file-size` once decompressed), other binary files
//! are refused with one line saying what they look like.

mod common;

use common::{sample_bytes, u, Env};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Write;

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

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("compress");
    enc.finish().expect("compress")
}

/// The import's JSON line without what differs between two runs of the same content.
fn same_job(j: &Value) -> Value {
    let mut j = j.clone();
    for key in [
        "job_id",
        "file",
        "file_size",
        "file_sha256",
        "seconds",
        "rows_per_second",
    ] {
        j.as_object_mut().expect("an object").remove(key);
    }
    j
}

#[test]
fn gzip_and_zstd_files_are_read_as_the_csv_they_hold() {
    let env = Env::new();
    let sample = sample_bytes();
    let (head, tail) = sample.split_at(sample.len() / 2);
    // Two gzip members, as `cat a.gz b.gz` makes.
    let mut gz = gzip(head);
    gz.extend(gzip(tail));
    let zst = zstd::encode_all(&sample[..], 3).expect("compress");
    let plain = env.write("orders.csv", &sample);
    let gz_file = env.write("orders.csv.gz", &gz);
    // Found by its bytes, not by its name.
    let zst_file = env.write("orders-export.csv", &zst);
    let expected = env
        .import("demo", &["--dry-run", &plain])
        .expect_code(0)
        .json();
    for (file, bytes) in [(&gz_file, &gz), (&zst_file, &zst)] {
        let j = env
            .import("demo", &["--dry-run", file])
            .expect_code(0)
            .json();
        assert_eq!(same_job(&j), same_job(&expected), "{file}");
        // The file as stored: its size and hash, not the decompressed ones.
        assert_eq!(u(&j, "file_size"), bytes.len() as u64, "{file}");
        let sha: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(j["file_sha256"], sha.as_str(), "{file}");
        let r = inspect_json(&env, file, &["--rows", "all"]);
        assert_eq!(r, inspect_json(&env, &plain, &["--rows", "all"]), "{file}");
    }
    // From stdin too.
    let run = env.run_stdin(
        &["import", "--account", "demo", "--json", "--dry-run", "-"],
        &gz,
    );
    assert_eq!(u(&run.expect_code(0).json(), "rows_read"), 5);
}

#[test]
fn a_file_that_expands_past_the_size_limit_fails_the_job() {
    let env = Env::new();
    let mut text = sample_bytes();
    text.extend(b"\n".repeat(24 << 20));
    let bomb = gzip(&text);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let file = env.write("bomb.csv.gz", &bomb);
    let line = "bomb.csv.gz decompresses to more than 4194304 bytes, the limit; raise \
                --max-file-size to import it";
    let run = env.import("demo", &["--dry-run", "--max-file-size", "4MiB", &file]);
    let j = run.expect_code(1).json();
    assert_eq!(j["status"], "failed");
    assert_eq!(j["error"], line);
    let run = env.run(&["inspect", &file, "--rows", "all", "--max-file-size", "4MiB"]);
    run.expect_code(1);
    assert!(run.stderr.contains(line), "{}", run.stderr);
}

#[test]
fn a_workbook_is_refused_with_what_it_is_and_what_to_do() {
    let env = Env::new();
    // The first bytes of an .xlsx file: a ZIP archive.
    let file = env.write(
        "orders.xlsx",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
    );
    let line = "orders.xlsx looks like a ZIP archive (an .xlsx or .ods workbook is one), not \
                CSV text: export the sheet as CSV, or unzip the CSV file from the archive";
    let j = env.import("demo", &[&file]).expect_code(1).json();
    assert_eq!(j["status"], "failed");
    let said = format!("{line}; nothing of it was stored");
    assert_eq!(j["error"], said);
    let id = j["job_id"].as_str().expect("a job id");
    let shown = env
        .run(&["jobs", "show", id, "--json"])
        .expect_code(0)
        .json_doc();
    assert_eq!(shown["error"], said);
    assert_eq!(shown["status"], "failed");
    let run = env.run(&["inspect", &file]);
    run.expect_code(1);
    assert_eq!(run.stderr.trim_end(), format!("error: {line}"));
}

#[test]
fn other_binary_files_are_refused_by_what_they_look_like() {
    let env = Env::new();
    let mut sqlite = b"SQLite format 3\0".to_vec();
    sqlite.extend([0u8; 4080]);
    let mut binary = sample_bytes();
    binary.extend([0u8; 4000]);
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("orders.db", sqlite, "an SQLite database"),
        (
            "orders.pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            "a PDF document",
        ),
        (
            "orders.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            "a PNG image",
        ),
        ("orders.csv", binary, "binary data"),
        ("orders.tar.gz", tar_gz(), "a tar archive"),
    ];
    for (name, bytes, looks_like) in cases {
        let file = env.write(name, bytes);
        let j = env
            .import("demo", &["--dry-run", &file])
            .expect_code(1)
            .json();
        let error = j["error"].as_str().expect("an error");
        assert!(
            error.starts_with(&format!("{name} looks like {looks_like}")),
            "{error}"
        );
        let run = env.run(&["inspect", &file]);
        run.expect_code(1);
        assert!(run.stderr.contains(error), "{}", run.stderr);
    }
}

/// A `.tar.gz` holding the sample: a tar header (the name, then `ustar` at byte 257), the file.
fn tar_gz() -> Vec<u8> {
    let mut tar = vec![0u8; 512];
    tar[..10].copy_from_slice(b"orders.csv");
    tar[257..263].copy_from_slice(b"ustar\0");
    tar.extend(sample_bytes());
    gzip(&tar)
}
