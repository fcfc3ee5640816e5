//! `gen-orders --rows N [--seed S] [--faults-every N] [--lf] [--no-bom] [--no-framing]
//! [--multi-share F] [--unpaid-share F] [--newline-share F] [--seller-id ID] [--layout us|de]
//! [--out FILE]`
//!
//! Writes a synthetic eBay US Orders report to stdout (or FILE) and prints a one-line
//! JSON summary to stderr.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use ebay_import_generate::{write_orders_report, OrdersLayout, OrdersReportOptions};

const USAGE: &str = "usage: gen-orders --rows N [--seed S] [--faults-every N] [--lf] [--no-bom] \
[--no-framing] [--multi-share F] [--unpaid-share F] [--newline-share F] [--seller-id ID] \
[--layout us|de] [--shipped-later] [--out FILE]";

struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn parse_args(args: &[String]) -> Result<(OrdersReportOptions, Option<String>), String> {
    let mut opts = OrdersReportOptions::default();
    let mut rows = None;
    let mut out = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--rows" => rows = Some(parse_u64("--rows", &value("--rows")?)?),
            "--seed" => opts.seed = parse_u64("--seed", &value("--seed")?)?,
            "--faults-every" => {
                opts.fault_every =
                    Some(parse_u64("--faults-every", &value("--faults-every")?)?).filter(|&n| n > 0)
            }
            "--multi-share" => {
                opts.multi_item_share = parse_share("--multi-share", &value("--multi-share")?)?
            }
            "--unpaid-share" => {
                opts.unpaid_share = parse_share("--unpaid-share", &value("--unpaid-share")?)?
            }
            "--newline-share" => {
                opts.quoted_newline_share =
                    parse_share("--newline-share", &value("--newline-share")?)?
            }
            "--seller-id" => opts.seller_id = value("--seller-id")?,
            "--layout" => {
                opts.layout = match value("--layout")?.as_str() {
                    "us" | "US" => OrdersLayout::Us,
                    "de" | "DE" => OrdersLayout::De,
                    other => return Err(format!("--layout: us or de, not {other:?}")),
                }
            }
            "--out" => out = Some(value("--out")?),
            "--shipped-later" => opts.shipped_later = true,
            "--lf" => opts.crlf = false,
            "--no-bom" => opts.bom = false,
            "--no-framing" => opts.framing = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    opts.rows = rows.ok_or("--rows is required")?;
    Ok((opts, out))
}

fn parse_u64(name: &str, v: &str) -> Result<u64, String> {
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{name}: not a whole number: {v:?}"))
}

fn parse_share(name: &str, v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("{name}: expected a number in 0..=1, got {v:?}")),
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, out_path) = match parse_args(&args) {
        Ok(v) => v,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("gen-orders: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(if e.is_empty() { 0 } else { 2 });
        }
    };

    let started = Instant::now();
    let result = match &out_path {
        Some(path) => File::create(path).and_then(|f| {
            let mut w = Counting {
                inner: BufWriter::with_capacity(1 << 20, f),
                bytes: 0,
            };
            let r = write_orders_report(&mut w, &opts)?;
            w.inner.into_inner().map_err(|e| e.into_error())?;
            Ok((r, w.bytes))
        }),
        None => {
            let stdout = io::stdout();
            let mut w = Counting {
                inner: BufWriter::with_capacity(1 << 20, stdout.lock()),
                bytes: 0,
            };
            write_orders_report(&mut w, &opts).map(|r| (r, w.bytes))
        }
    };
    let (report, bytes) = match result {
        Ok(v) => v,
        Err(e) => {
            eprintln!("gen-orders: {e}");
            return ExitCode::from(1);
        }
    };

    let mut faults = String::from("{");
    let mut counts: Vec<(&str, u64)> = Vec::new();
    for f in &report.faults {
        match counts.iter_mut().find(|(c, _)| *c == f.code) {
            Some((_, n)) => *n += 1,
            None => counts.push((f.code, 1)),
        }
    }
    for (i, (code, n)) in counts.iter().enumerate() {
        if i > 0 {
            faults.push(',');
        }
        faults.push_str(&format!("{}:{n}", json_str(code)));
    }
    faults.push('}');
    eprintln!(
        "{{\"data_records\":{},\"orders\":{},\"lines\":{},\"bytes\":{},\"faults\":{},\"faults_by_code\":{},\"seed\":{},\"out\":{},\"elapsed_ms\":{}}}",
        report.data_records,
        report.orders,
        report.lines,
        bytes,
        report.faults.len(),
        faults,
        opts.seed,
        out_path.as_deref().map_or("null".to_string(), json_str),
        started.elapsed().as_millis(),
    );
    ExitCode::SUCCESS
}
