//! Deterministic generator of Seller Hub "All active listings" reports (US, the 30 columns of
//! `ebay-samples/all-active-listings-report.headers.txt`) for tests and benchmarks: fixed-price
//! and auction listings, variations sharing a custom label, condition-descriptor columns on
//! trading cards, UPCs with valid check digits or eBay's `Does not apply`.

use std::io::{self, Write};

use crate::rng::Rng;
use crate::{data, fmt};

pub const ACTIVE_LISTINGS_HEADER: [&str; 30] = [
    "Item number",
    "Title",
    "Variation details",
    "Custom label (SKU)",
    "Available quantity",
    "Format",
    "Currency",
    "Start price",
    "Auction Buy It Now price",
    "Reserve price",
    "Current price",
    "Sold quantity",
    "Watchers",
    "Bids",
    "Start date",
    "End date",
    "eBay category 1 name",
    "eBay category 1 number",
    "eBay category 2 name",
    "eBay category 2 number",
    "Condition",
    "CD:Professional Grader - (ID: 27501)",
    "CD:Grade - (ID: 27502)",
    "CDA:Certification Number - (ID: 27503)",
    "CD:Card Condition - (ID: 40001)",
    "eBay Product ID(ePID)",
    "Listing site",
    "P:UPC",
    "P:EAN",
    "P:ISBN",
];

const CATEGORIES: &[(&str, u32)] = &[
    ("CCG Individual Cards", 183_454),
    ("Lamps", 38_512),
    ("Kitchen Tools & Gadgets", 20_635),
    ("Action Figures", 246),
    ("Cameras", 31_388),
    ("Power Drills", 184_648),
];

const CONDITIONS: &[&str] = &["New", "Used", "New with tags", "Open box", "Graded"];

#[derive(Debug, Clone, PartialEq)]
pub struct ListingsReportOptions {
    pub rows: u64,
    pub seed: u64,
    pub crlf: bool,
    pub bom: bool,
}

impl Default for ListingsReportOptions {
    fn default() -> Self {
        ListingsReportOptions {
            rows: 1000,
            seed: 42,
            crlf: true,
            bom: true,
        }
    }
}

/// Streams an All active listings report to `out`; returns the data rows written.
pub fn write_listings_report<W: Write>(
    mut out: W,
    opts: &ListingsReportOptions,
) -> io::Result<u64> {
    let mut rng = Rng::new(opts.seed);
    let eol: &[u8] = if opts.crlf { b"\r\n" } else { b"\n" };
    let base_item = 110_000_000_000 + rng.below(100_000_000_000);
    let mut b = Vec::with_capacity(80 * 1024);
    if opts.bom {
        b.extend_from_slice("\u{feff}".as_bytes());
    }
    b.extend_from_slice(ACTIVE_LISTINGS_HEADER.join(",").as_bytes());
    b.extend_from_slice(eol);
    let mut title = Vec::with_capacity(128);
    let mut sku = 0u64;
    for row in 0..opts.rows {
        // One listing in ten is a variation of the one before it: same custom label.
        if row == 0 || !rng.chance(0.1) {
            sku += 1;
        }
        let (cat_name, cat_no) = rng.pick(CATEGORIES);
        let card = cat_no == 183_454;
        let auction = rng.chance(0.15);
        let cents = rng.range(99, 250_000);
        title.clear();
        title.extend_from_slice(rng.pick(data::BRANDS).as_bytes());
        title.push(b' ');
        title.extend_from_slice(rng.pick(data::ADJECTIVES).as_bytes());
        title.push(b' ');
        title.extend_from_slice(rng.pick(data::NOUNS).as_bytes());
        if rng.chance(0.2) {
            title.extend_from_slice(rng.pick(data::COMMA_PARTS).as_bytes());
        }
        fmt::uint(&mut b, base_item + row);
        b.push(b',');
        fmt::text(&mut b, &title);
        b.push(b',');
        if rng.chance(0.1) {
            fmt::text(&mut b, rng.pick(data::VARIATIONS).as_bytes());
        }
        b.extend_from_slice(b",SKU-");
        fmt::uint(&mut b, sku);
        b.push(b',');
        fmt::uint(&mut b, if auction { 1 } else { rng.range(1, 250) });
        b.extend_from_slice(if auction {
            b",Auction,USD,".as_slice()
        } else {
            b",FixedPrice,USD,"
        });
        decimal(&mut b, cents);
        b.push(b',');
        if auction && rng.chance(0.5) {
            decimal(&mut b, cents * 3 / 2);
        }
        b.extend_from_slice(b",,");
        decimal(
            &mut b,
            if auction {
                cents + rng.below(cents)
            } else {
                cents
            },
        );
        b.push(b',');
        fmt::uint(&mut b, rng.below(40));
        b.push(b',');
        fmt::uint(&mut b, rng.below(120));
        b.push(b',');
        fmt::uint(&mut b, if auction { rng.below(30) } else { 0 });
        b.push(b',');
        let start = 20_200 + rng.below(600) as i64;
        b.extend_from_slice(&fmt::ebay_date(start));
        b.push(b',');
        if auction {
            b.extend_from_slice(&fmt::ebay_date(start + 7));
        }
        b.push(b',');
        b.extend_from_slice(cat_name.as_bytes());
        b.push(b',');
        fmt::uint(&mut b, u64::from(cat_no));
        b.extend_from_slice(b",,,");
        b.extend_from_slice(if card { "Graded" } else { rng.pick(CONDITIONS) }.as_bytes());
        b.push(b',');
        if card {
            b.extend_from_slice(b"PSA,");
            fmt::uint(&mut b, rng.range(5, 10));
            b.push(b',');
            fmt::uint(&mut b, rng.range(10_000_000, 99_999_999));
            b.extend_from_slice(b",,");
        } else {
            b.extend_from_slice(b",,,,");
        }
        b.extend_from_slice(b",US,");
        if card || rng.chance(0.3) {
            b.extend_from_slice(b"Does not apply");
        } else {
            upc(&mut b, rng.below(100_000_000_000));
        }
        b.extend_from_slice(b",,");
        b.extend_from_slice(eol);
        if b.len() >= 64 * 1024 {
            out.write_all(&b)?;
            b.clear();
        }
    }
    out.write_all(&b)?;
    out.flush()?;
    Ok(opts.rows)
}

/// A bare decimal with two places: `1234.50`.
fn decimal(b: &mut Vec<u8>, cents: u64) {
    fmt::uint(b, cents / 100);
    b.push(b'.');
    fmt::padded(b, cents % 100, 2);
}

/// A UPC-A: 11 digits and their GS1 check digit.
fn upc(b: &mut Vec<u8>, body: u64) {
    let start = b.len();
    fmt::padded(b, body, 11);
    let sum: u32 = b[start..]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| u32::from(c - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    b.push(b'0' + ((10 - sum % 10) % 10) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_have_every_column_and_valid_upcs() {
        let mut out = Vec::new();
        let opts = ListingsReportOptions {
            rows: 500,
            bom: false,
            crlf: false,
            ..Default::default()
        };
        assert_eq!(write_listings_report(&mut out, &opts).unwrap(), 500);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 501);
        assert_eq!(lines[0], ACTIVE_LISTINGS_HEADER.join(","));
        let mut b = Vec::new();
        upc(&mut b, 1_234_567_890);
        assert_eq!(b, b"012345678905");
        // Same options, same bytes.
        let mut again = Vec::new();
        write_listings_report(&mut again, &opts).unwrap();
        assert_eq!(again, text.as_bytes());
    }
}
