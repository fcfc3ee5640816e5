//! `gen-listings --rows N [--seed S] [--lf] [--no-bom] [--out FILE]`
//!
//! Writes a synthetic Seller Hub "All active listings" report to stdout (or FILE).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use ebay_import_generate::{write_listings_report, ListingsReportOptions};

const USAGE: &str = "usage: gen-listings --rows N [--seed S] [--lf] [--no-bom] [--out FILE]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = ListingsReportOptions::default();
    let mut rows = None;
    let mut out: Option<String> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = |it: &mut std::slice::Iter<'_, String>| it.next().cloned();
        match arg.as_str() {
            "--rows" => rows = value(&mut it).and_then(|v| v.replace('_', "").parse().ok()),
            "--seed" => match value(&mut it).and_then(|v| v.parse().ok()) {
                Some(s) => opts.seed = s,
                None => return usage("--seed needs a whole number"),
            },
            "--out" => out = value(&mut it),
            "--lf" => opts.crlf = false,
            "--no-bom" => opts.bom = false,
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let Some(rows) = rows else {
        return usage("--rows N is required");
    };
    opts.rows = rows;
    let result = match &out {
        Some(path) => {
            File::create(path).and_then(|f| write_listings_report(BufWriter::new(f), &opts))
        }
        None => write_listings_report(io::stdout().lock(), &opts),
    };
    match result {
        Ok(n) => {
            let _ = writeln!(io::stderr(), "{{\"rows\":{n}}}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-listings: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("gen-listings: {problem}\n{USAGE}");
    ExitCode::from(2)
}
