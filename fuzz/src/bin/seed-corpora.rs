//! Writes the seed corpora of every fuzz target from the project's files: the samples in
//! `data/`, small generated Orders (US, DE, with faults) and listings reports, and the value
//! examples the README lists. Not a fuzz target; `.ci/run` runs it before fuzzing.
//!
//! Usage: `seed-corpora [CORPUS_DIR]` (default `fuzz/corpus`); one directory per target.

use ebay_import_fuzz::{encode_cells, kernel_types, Kernel, KERNEL_HEADER, READ_HEADER};
use ebay_import_generate::{
    write_listings_report, write_orders_report, ListingsReportOptions, OrdersLayout,
    OrdersReportOptions,
};
use ebay_import_map::{detect, detect_site, Detection, FieldType, ImportSchema, SCHEMAS};
use ebay_import_model::SITES;
use ebay_import_read::{CsvSource, ReadOptions};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Longest file of a reader seed (with its options: the fuzz runs' `-max_len` of 16384).
const MAX_FILE: usize = (16 << 10) - READ_HEADER;

const MONEY: &[&str] = &[
    "$12.34",
    "$1,433.66",
    "£12.34",
    "US $12.34",
    "AU $12.34",
    "C $12.34",
    "116,99 €",
    "EUR 116,99",
    "12.34 USD",
    "12.34",
    "-2.14",
    "(2.14)",
    "1 234,56 €",
    "1.234,56",
    "$12.3.4",
    "9999999999999999.99",
    "10000000000000000",
];
const DATES: &[&str] = &[
    "2024-03-15",
    "2024-03-15 14:03:00",
    "2024-03-15T14:03:00Z",
    "03/15/2024",
    "15/03/2024",
    "Mar-15-24",
    "Mar-15-24 14:03:00",
    "Apr-23-20 22:19:51 PDT",
    "Mar 15, 2024",
    "10-Dez-25",
    "15.03.2024",
    "Dez 29, 2025",
    "15 mars 2024",
    "3/15/2024 2:03 PM",
    "Feb-30-24",
    "2024-03-15T14:03:07+00:00",
    "9/8/2026",
];
const IDS: &[&str] = &[
    "12-34567-89012",
    "150370031260-381063459005",
    "1234567890",
    "150370031260",
    "4.07197E+11",
    "012345678905",
    "4006381333931",
    "96385074",
    "978-0-306-40615-7",
    "080442957X",
    "Does not apply",
    "N/A",
    "1Z999AA10123456784",
    "ABC",
];
const BOOLS: &[&str] = &[
    "Yes", "No", "true", "FALSE", "1", "0", "Y", "n", "Ja", "Nein", "oui", "Sì", "maybe",
];
const EMAILS: &[&str] = &[
    "jane.doe+ebay@example.co.uk",
    "t***@gmail.com",
    "not-an-email",
    "a@b@c.de",
    "jane@localhost",
];
const TEXT: &[&str] = &[
    "Jane Doe",
    "  padded  ",
    "Zoë\tMüller",
    "ab\u{0}c",
    "\u{1b}[0m",
    "ä",
];
const CURRENCIES: &[&str] = &["USD", "eur", "$", "£", "€", "AU $", "C$", "EURO", "US"];
const ENUMS: &[&str] = &[
    "Completed",
    "shipped",
    "CANCELED",
    "paid",
    "not shipped",
    "Add",
    "VerifyAdd",
    "FixedPrice",
    "Chinese",
    "done",
];

fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let mut seeds = Seeds {
        dir: out,
        written: 0,
    };
    for (name, bytes) in files() {
        seed_file(&mut seeds, &name, &bytes);
    }
    for (kernel, values) in [
        (Kernel::Money, MONEY),
        (Kernel::Date, DATES),
        (Kernel::Id, IDS),
        (Kernel::Boolean, BOOLS),
        (Kernel::Email, EMAILS),
        (Kernel::Text, TEXT),
        (Kernel::Currency, CURRENCIES),
        (Kernel::Enum, ENUMS),
        (
            Kernel::Integer,
            &[
                "1",
                "0",
                "-5",
                "+7",
                "007",
                "2.0",
                "1e3",
                "99999999999999999999",
            ],
        ),
    ] {
        for site in 0..SITES.len() as u8 {
            let mut seed = vec![site, 0x80, 0];
            seed.extend(encode_cells(values.iter().map(|v| Some(*v))));
            seeds.write(&target_of(kernel), &seed);
        }
    }
    let sniffs: [&[u8]; 5] = [
        b"sep=;\na;b\n1;2\n",
        b"SEP=|\r\n",
        b"\xef\xbb\xbfa,b\n",
        b"\xff\xfea\0,\0b\0",
        b"a\tb\n\"x\ty\"\t2\n",
    ];
    for s in sniffs {
        seeds.write("sniff", s);
    }
    println!(
        "wrote {} seed inputs to {}",
        seeds.written,
        seeds.dir.display()
    );
}

struct Seeds {
    dir: PathBuf,
    written: usize,
}

impl Seeds {
    fn write(&mut self, target: &str, bytes: &[u8]) {
        let dir = self.dir.join(target);
        std::fs::create_dir_all(&dir).expect("corpus directory");
        let mut h = DefaultHasher::new();
        bytes.hash(&mut h);
        std::fs::write(dir.join(format!("seed-{:016x}", h.finish())), bytes).expect("seed file");
        self.written += 1;
    }
}

fn target_of(kernel: Kernel) -> String {
    format!("kernel_{}", format!("{kernel:?}").to_lowercase())
}

/// The project's sample files and a few small generated reports.
fn files() -> Vec<(String, Vec<u8>)> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let mut files = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&data)
        .expect("data/")
        .map(|e| e.expect("data/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    paths.sort();
    for p in paths {
        let bytes = std::fs::read(&p).expect("sample file");
        files.push((p.file_name().unwrap().to_string_lossy().into_owned(), bytes));
    }
    for (layout, crlf, faults) in [
        (OrdersLayout::Us, true, Some(3)),
        (OrdersLayout::De, false, Some(2)),
        (OrdersLayout::Us, false, None),
    ] {
        let mut out = Vec::new();
        let opts = OrdersReportOptions {
            rows: 30,
            seed: 7,
            crlf,
            fault_every: faults,
            quoted_newline_share: 0.2,
            multi_item_share: 0.3,
            layout,
            ..OrdersReportOptions::default()
        };
        write_orders_report(&mut out, &opts).expect("in memory");
        files.push((format!("generated-orders-{layout:?}"), out));
    }
    let mut out = Vec::new();
    write_listings_report(
        &mut out,
        &ListingsReportOptions {
            rows: 30,
            ..ListingsReportOptions::default()
        },
    )
    .expect("in memory");
    files.push(("generated-listings".into(), out));
    files
}

fn seed_file(seeds: &mut Seeds, _name: &str, bytes: &[u8]) {
    let file = &bytes[..bytes.len().min(MAX_FILE)];
    // The reader: detected dialect, small chunks, a small record limit, a forced encoding,
    // eBay framing and a consumed header.
    let variants: [[u8; READ_HEADER]; 5] = [
        [0, 0, 0, 0, 0, 0, 20, 0],
        [0, 0, 0, 0, 0x81, 0x00, 20, 0x81],
        [0, 0, 0xc9, 0x00, 0xff, 0x03, 5, 0x21],
        [4, 3, 0, 0, 0x41, 0x00, 1, 0x41],
        [5, 4, 0x01, 0x02, 0x01, 0x01, 23, 0xe3],
    ];
    for v in variants {
        let mut seed = v.to_vec();
        seed.extend_from_slice(file);
        seeds.write("read", &seed);
    }
    seeds.write("sniff", &file[..file.len().min(4096)]);

    let mut src = CsvSource::open(
        Box::new(Cursor::new(file.to_vec())),
        &ReadOptions::default(),
    )
    .expect("in memory");
    let records = src.peek_records(200).expect("in memory");
    for r in records.iter().take(20) {
        if r.fields.len() > 1 {
            seeds.write(
                "header",
                &encode_cells(r.fields.iter().map(|f| Some(f.as_str()))),
            );
        }
    }
    // The first row that names an import type is the header; the rows after it are data.
    let Some((at, schema)) =
        records
            .iter()
            .take(20)
            .enumerate()
            .find_map(|(i, r)| match detect(&r.fields) {
                Detection::Found(s) => Some((i, s)),
                _ => None,
            })
    else {
        return;
    };
    let header = &records[at].fields;
    let site = detect_site(header)
        .map(|(code, _)| code)
        .unwrap_or(if src.delimiter == b';' { "DE" } else { "US" });
    let site = SITES.iter().position(|s| s.code == site).unwrap_or(0) as u8;
    let rows = &records[at + 1..];
    let mapping = schema.map_header(header);
    let present = mapping.present_fields();
    for &f in &present {
        let col = mapping.field_to_file[f].unwrap();
        let values: Vec<Option<&str>> = rows
            .iter()
            .map(|r| r.fields.get(col).map(String::as_str))
            .collect();
        let ty = schema.fields[f].ty;
        let kernel = kernel_of(ty);
        let param = kernel_types(kernel, 0)
            .iter()
            .position(|t| *t == ty)
            .unwrap() as u8;
        let mut seed = vec![site, param, 0];
        debug_assert_eq!(seed.len(), KERNEL_HEADER);
        seed.extend(encode_cells(values));
        seeds.write(&target_of(kernel), &seed);
    }
    // validate_batch: the present fields eight at a time, row by row.
    for group in present.chunks(8) {
        let schema_index = SCHEMAS
            .iter()
            .position(|s| std::ptr::eq(*s, schema as &ImportSchema))
            .unwrap() as u8;
        let mut seed = vec![schema_index, site, group.len() as u8 - 1];
        seed.extend(group.iter().map(|&f| f as u8));
        let mut cells = Vec::new();
        for r in rows.iter().take(40) {
            for &f in group {
                cells.push(
                    r.fields
                        .get(mapping.field_to_file[f].unwrap())
                        .map(String::as_str),
                );
            }
        }
        seed.extend(encode_cells(cells));
        seeds.write("validate", &seed);
    }
}

fn kernel_of(ty: FieldType) -> Kernel {
    match ty {
        FieldType::Text { .. } => Kernel::Text,
        FieldType::Id(_) => Kernel::Id,
        FieldType::Email => Kernel::Email,
        FieldType::Money => Kernel::Money,
        FieldType::Integer { .. } => Kernel::Integer,
        FieldType::Date | FieldType::DateTime => Kernel::Date,
        FieldType::Bool => Kernel::Boolean,
        FieldType::Enum(_) => Kernel::Enum,
        FieldType::Currency => Kernel::Currency,
    }
}
