//! Deterministic generator of realistic eBay Seller Hub **Orders** reports (the current
//! 82-column layout, in the US or the German dialect) and "All active listings" reports, for
//! tests and benchmarks.
//!
//! The output follows the framing described in `ebay-formats.md` §1.2–1.5: an optional
//! UTF-8 BOM, a first line of 81 bare commas, the quoted header, a padding row of 82 empty
//! quoted cells, the data records (single-item orders, multi-item orders as a summary row
//! followed by one row per item, unpaid orders without an Order Number), a blank line and
//! the two footer lines `N,record(s) downloaded,` and `Seller ID : name`.
//!
//! Everything is streamed to the writer through one reusable buffer; nothing is
//! allocated per field. The same options (seed included) always give the same bytes.
//!
//! ```
//! let opts = ebay_import_generate::OrdersReportOptions { rows: 10, ..Default::default() };
//! let mut out = Vec::new();
//! let report = ebay_import_generate::write_orders_report(&mut out, &opts).unwrap();
//! assert_eq!(report.data_records, 10);
//! ```

mod data;
mod fmt;
mod listings;
mod rng;

pub use listings::{write_listings_report, ListingsReportOptions, ACTIVE_LISTINGS_HEADER};

use std::io::{self, Write};

use rng::Rng;

/// The US Orders report header: 82 names, in file order.
pub const US_ORDERS_HEADER: [&str; 82] = [
    "Sales Record Number",
    "Order Number",
    "Buyer Username",
    "Buyer Name",
    "Buyer Email",
    "Buyer Note",
    "Buyer Address 1",
    "Buyer Address 2",
    "Buyer City",
    "Buyer State",
    "Buyer Zip",
    "Buyer Country",
    "Buyer Tax Identifier Name",
    "Buyer Tax Identifier Value",
    "Ship To Name",
    "Ship To Phone",
    "Ship To Address 1",
    "Ship To Address 2",
    "Ship To City",
    "Ship To State",
    "Ship To Zip",
    "Ship To Country",
    "Item Number",
    "Item Title",
    "Custom Label",
    "Sold Via Promoted Listings",
    "Quantity",
    "Sold For",
    "Shipping And Handling",
    "Item Location",
    "Item Zip Code",
    "Item Country",
    "eBay Collect And Remit Tax Rate",
    "eBay Collect And Remit Tax Type",
    "eBay Reference Name",
    "eBay Reference Value",
    "Tax Status",
    "Seller Collected Tax",
    "eBay Collected Tax",
    "Electronic Waste Recycling Fee",
    "Mattress Recycling Fee",
    "Battery Recycling Fee",
    "White Goods Disposal Tax",
    "Tire Recycling Fee",
    "Additional Fee",
    "Lumber Fee",
    "Prepaid Wireless Fee",
    "Road Improvement And Food Delivery Fee",
    "eBay Collected Charges",
    "Total Price",
    "eBay Collected Tax and Fees Included in Total",
    "Payment Method",
    "Sale Date",
    "Paid On Date",
    "Ship By Date",
    "Minimum Estimated Delivery Date",
    "Maximum Estimated Delivery Date",
    "Shipped On Date",
    "Feedback Left",
    "Feedback Received",
    "My Item Note",
    "PayPal Transaction ID",
    "Shipping Service",
    "Tracking Number",
    "Transaction ID",
    "Variation Details",
    "Global Shipping Program",
    "Global Shipping Reference ID",
    "Click And Collect",
    "Click And Collect Reference Number",
    "eBay Plus",
    "Authenticity Verification Program",
    "Authenticity Verification Status",
    "Authenticity Verification Outcome Reason",
    "PSA Vault Program",
    "Vault Fulfillment Type",
    "eBay Fulfillment Program",
    "Tax City",
    "Tax State",
    "Tax Zip",
    "Tax Country",
    "eBay International Shipping",
];

/// The German names eBay.de gives the columns of the Orders report (`ebay-formats.md` §1.4);
/// columns without a known German name keep the US one.
pub const DE_ORDERS_NAMES: [(&str, &str); 37] = [
    ("Sales Record Number", "Verkaufsprotokollnummer"),
    ("Order Number", "Bestellnummer"),
    ("Buyer Username", "Nutzername des Käufers"),
    ("Buyer Name", "Name des Käufers"),
    ("Buyer Email", "E-Mail des Käufers"),
    ("Buyer Note", "Notiz des Käufers"),
    ("Buyer Address 1", "Adresse 1 des Käufers"),
    ("Buyer Address 2", "Adresse 2 des Käufers"),
    ("Buyer City", "Wohnort des Käufers"),
    ("Buyer State", "Bundesland des Käufers"),
    ("Buyer Zip", "PLZ des Käufers"),
    ("Buyer Country", "Land des Käufers"),
    ("Ship To Name", "Name des Empfängers"),
    ("Ship To Phone", "Telefonnummer des Empfängers"),
    ("Ship To Address 1", "Adresse 1 des Empfängers"),
    ("Ship To Address 2", "Adresse 2 des Empfängers"),
    ("Ship To City", "Versand nach - Ort"),
    ("Ship To State", "Versand nach - Bundesland"),
    ("Ship To Zip", "Versand nach - PLZ"),
    ("Ship To Country", "Versand nach - Land"),
    ("Item Number", "Artikelnummer"),
    ("Item Title", "Angebotstitel"),
    ("Custom Label", "Bestandseinheit"),
    ("Sold Via Promoted Listings", "Verkauft über Anzeigen"),
    ("Quantity", "Anzahl"),
    ("Sold For", "Verkauft für"),
    ("Shipping And Handling", "Verpackung und Versand"),
    ("Item Location", "Artikelstandort"),
    ("Total Price", "Gesamtbetrag"),
    ("Payment Method", "Zahlungsmethode"),
    ("Sale Date", "Verkauft am"),
    ("Paid On Date", "Zahlungsdatum"),
    ("Shipped On Date", "Verschickt am - Datum"),
    ("Shipping Service", "Versandservice"),
    ("Tracking Number", "Sendungsnummer"),
    ("Transaction ID", "Transaktionsnummer"),
    ("Variation Details", "Variantendetails"),
];

/// The site dialect an Orders report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrdersLayout {
    /// eBay.com: `,`, `$12.50`, `Mar-15-24`, `Yes`/`No`, US Title Case names.
    #[default]
    Us,
    /// eBay.de: `;`, `12,50 €`, `15-Mär-24`, `Ja`/`Nein`, the German column names.
    De,
}

impl OrdersLayout {
    fn delimiter(self) -> u8 {
        match self {
            OrdersLayout::Us => b',',
            OrdersLayout::De => b';',
        }
    }

    fn column_name(self, us: &'static str) -> &'static str {
        match self {
            OrdersLayout::Us => us,
            OrdersLayout::De => DE_ORDERS_NAMES
                .iter()
                .find(|(u, _)| *u == us)
                .map_or(us, |(_, de)| de),
        }
    }
}

/// One injectable fault kind: expected reject code, canonical column (None for structural
/// faults) and the faulty value written (empty for structural faults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultKind {
    pub code: &'static str,
    pub column: Option<&'static str>,
    pub value: &'static str,
}

/// The faults injected by `fault_every`, in the order they cycle.
///
/// `too_many_columns` appends two non-empty fields ([`EXTRA_FIELDS`]) to an 82-field row;
/// `missing_columns` drops the last 10 fields (72 remain).
pub const FAULT_CYCLE: [FaultKind; 8] = [
    FaultKind {
        code: "invalid_money",
        column: Some("sold_for"),
        value: "$12.3.4",
    },
    FaultKind {
        code: "invalid_date",
        column: Some("sale_date"),
        value: "Feb-30-24",
    },
    FaultKind {
        code: "scientific_notation",
        column: Some("item_number"),
        value: "4.07197E+11",
    },
    FaultKind {
        code: "invalid_email",
        column: Some("buyer_email"),
        value: "not-an-email",
    },
    FaultKind {
        code: "invalid_format",
        column: Some("order_number"),
        value: "ABC",
    },
    FaultKind {
        code: "out_of_range",
        column: Some("quantity"),
        value: "0",
    },
    FaultKind {
        code: "too_many_columns",
        column: None,
        value: "",
    },
    FaultKind {
        code: "missing_columns",
        column: None,
        value: "",
    },
];

/// The two fields appended by a `too_many_columns` fault.
pub const EXTRA_FIELDS: [&str; 2] = ["unexpected", "extra"];

/// Number of fields kept by a `missing_columns` fault.
pub const MISSING_COLUMNS_KEPT: usize = 72;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct OrdersReportOptions {
    /// Number of data records (CSV records after the padding row, excluding the footer).
    pub rows: u64,
    pub seed: u64,
    /// CRLF line ends (like eBay) when true, LF otherwise. Quoted newlines use the same.
    pub crlf: bool,
    /// Start with a UTF-8 BOM.
    pub bom: bool,
    /// Leading comma line, padding row, blank line and footer. The header is always written.
    pub framing: bool,
    /// Share of orders that are multi-item (summary row + 2–4 item rows).
    pub multi_item_share: f64,
    /// Share of orders without an Order Number (one row, no address, no Paid On Date).
    pub unpaid_share: f64,
    /// Share of records whose Buyer Note or My Item Note is a quoted value with a newline.
    pub quoted_newline_share: f64,
    /// Inject one fault into every n-th data record (n >= 1); `None` or `Some(0)`: no faults.
    pub fault_every: Option<u64>,
    /// Seller id written in the footer.
    pub seller_id: String,
    pub layout: OrdersLayout,
    /// The same report a day of shipping later: the same orders, items and keys, with every
    /// paid order shipped (a day after the date it had, or three days after payment) and so
    /// with its tracking numbers.
    pub shipped_later: bool,
}

impl Default for OrdersReportOptions {
    fn default() -> Self {
        OrdersReportOptions {
            rows: 1000,
            seed: 42,
            crlf: true,
            bom: true,
            framing: true,
            multi_item_share: 0.1,
            unpaid_share: 0.02,
            quoted_newline_share: 0.01,
            fault_every: None,
            seller_id: "bench_seller".to_string(),
            layout: OrdersLayout::Us,
            shipped_later: false,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratedReport {
    /// CSV data records written (excluding framing, header and footer).
    pub data_records: u64,
    /// Distinct orders (sales records): the footer count.
    pub orders: u64,
    /// Total physical lines written (= number of line breaks in the output).
    pub lines: u64,
    /// The injected faults, in file order.
    pub faults: Vec<InjectedFault>,
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InjectedFault {
    /// 1-based physical line where the faulty record starts (every line of the file counts).
    pub line: u64,
    /// Expected reject code (see [`FAULT_CYCLE`]).
    pub code: &'static str,
    /// Canonical snake_case column, `None` for structural faults.
    pub column: Option<&'static str>,
}

/// Streams an Orders report to `out` and returns what was written.
///
/// `out` is written in chunks of about 64 KiB; wrapping it in a `BufWriter` is not needed.
pub fn write_orders_report<W: Write>(
    mut out: W,
    opts: &OrdersReportOptions,
) -> io::Result<GeneratedReport> {
    let mut g = Gen::new(opts);
    g.run(&mut out)?;
    out.flush()?;
    Ok(GeneratedReport {
        data_records: g.records,
        orders: g.orders,
        lines: g.lines,
        faults: g.faults,
    })
}

// ---------------------------------------------------------------------------------------

/// Days since 1970-01-01 of 2023-01-01; sale dates and all derived dates fall in 2023–2026.
const FIRST_DAY: i64 = 19_358;
const DAY_COUNT: usize = 1461;
/// Latest derived date is at most this many days after the sale date.
const MAX_DATE_SPAN: usize = 12;
const BUYER_POOL: u64 = 250_000;
const FLUSH_AT: usize = 64 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowKind {
    /// Paid single-item order: order and line fields on one row.
    Single,
    /// Unpaid single-item order: no Order Number, address or Paid On Date.
    Unpaid,
    /// Multi-item order summary: order fields, no item fields.
    Summary,
    /// Multi-item order line: line fields only.
    Item,
}

impl RowKind {
    fn order_level(self) -> bool {
        self != RowKind::Item
    }
    fn line_level(self) -> bool {
        self != RowKind::Summary
    }
    fn paid_order_level(self) -> bool {
        matches!(self, RowKind::Single | RowKind::Summary)
    }
}

#[derive(Clone, Copy, Default)]
struct Item {
    number: u64,
    qty: u64,
    unit_cents: u64,
    sku: Option<u64>,
    promoted: bool,
    txn: u64,
    variation: Option<&'static str>,
}

#[derive(Clone, Copy)]
struct Buyer {
    id: u64,
    first: &'static str,
    last: &'static str,
    ship_first: &'static str,
    street_no: u64,
    street: &'static str,
    addr2: Option<&'static str>,
    city: usize,
    zip_low: u64,
    phone: Option<(u64, u64)>,
}

struct Order {
    srn: u64,
    order_no: Option<u64>,
    buyer: Buyer,
    items: [Item; 4],
    qty: u64,
    subtotal: u64,
    shipping: u64,
    tax_bp: u32,
    tax: u64,
    total: u64,
    sale: usize,
    paid: usize,
    ship_by: usize,
    est_min: usize,
    est_max: usize,
    shipped: Option<usize>,
    feedback: bool,
    service: &'static str,
    tracking: (u64, u64),
}

#[derive(Clone, Copy)]
enum Note {
    None,
    Plain(&'static str),
    Newline(&'static str, &'static str),
}

struct Gen<'a> {
    opts: &'a OrdersReportOptions,
    rng: Rng,
    eol: &'static [u8],
    fault_every: Option<u64>,
    delim: u8,
    dates: Vec<Vec<u8>>,
    buf: Vec<u8>,
    scratch: Vec<u8>,
    /// Fields written in the current row.
    nf: usize,
    /// Buffer length right after field 72 of the current row.
    cut: usize,
    /// Line breaks inside quoted fields of the current row.
    row_breaks: u64,
    records: u64,
    orders: u64,
    lines: u64,
    items_made: u64,
    faults: Vec<InjectedFault>,
    id_offsets: [u64; 3],
    seller_city: usize,
    seller_zip_low: u64,
}

impl<'a> Gen<'a> {
    fn new(opts: &'a OrdersReportOptions) -> Gen<'a> {
        let mut rng = Rng::new(opts.seed);
        let id_offsets = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
        let seller_city = rng.below(data::CITIES.len() as u64) as usize;
        let seller_zip_low = rng.below(100);
        let dates = (0..DAY_COUNT)
            .map(|d| match opts.layout {
                OrdersLayout::Us => fmt::ebay_date(FIRST_DAY + d as i64).to_vec(),
                OrdersLayout::De => fmt::german_date(FIRST_DAY + d as i64),
            })
            .collect();
        Gen {
            opts,
            rng,
            eol: if opts.crlf { b"\r\n" } else { b"\n" },
            fault_every: opts.fault_every.filter(|&n| n > 0),
            delim: opts.layout.delimiter(),
            dates,
            buf: Vec::with_capacity(FLUSH_AT + 8 * 1024),
            scratch: Vec::with_capacity(128),
            nf: 0,
            cut: 0,
            row_breaks: 0,
            records: 0,
            orders: 0,
            lines: 0,
            items_made: 0,
            faults: Vec::new(),
            id_offsets,
            seller_city,
            seller_zip_low,
        }
    }

    fn run<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        if self.opts.bom {
            self.buf.extend_from_slice("\u{feff}".as_bytes());
        }
        let delim = self.delim;
        if self.opts.framing {
            self.buf.extend_from_slice(&[delim; 81]);
            self.end_line();
        }
        for (i, name) in US_ORDERS_HEADER.iter().enumerate() {
            if i > 0 {
                self.buf.push(delim);
            }
            self.buf.push(b'"');
            self.buf
                .extend_from_slice(self.opts.layout.column_name(name).as_bytes());
            self.buf.push(b'"');
        }
        self.end_line();
        if self.opts.framing {
            for i in 0..US_ORDERS_HEADER.len() {
                if i > 0 {
                    self.buf.push(delim);
                }
                self.buf.extend_from_slice(b"\"\"");
            }
            self.end_line();
        }

        while self.records < self.opts.rows {
            self.write_order();
            if self.buf.len() >= FLUSH_AT {
                out.write_all(&self.buf)?;
                self.buf.clear();
            }
        }

        if self.opts.framing {
            self.end_line();
            fmt::uint(&mut self.buf, self.orders);
            self.buf.push(delim);
            self.buf.extend_from_slice(b"record(s) downloaded");
            self.buf.push(delim);
            self.end_line();
            self.buf.extend_from_slice(b"Seller ID : ");
            self.buf.extend_from_slice(self.opts.seller_id.as_bytes());
            self.end_line();
        }
        out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn end_line(&mut self) {
        self.buf.extend_from_slice(self.eol);
        self.lines += 1;
    }

    fn fault_at(&self, record: u64) -> bool {
        self.fault_every.is_some_and(|n| record.is_multiple_of(n))
    }

    /// Plans and writes the next order (one or more records).
    fn write_order(&mut self) {
        let remaining = self.opts.rows - self.records;
        let next = self.records + 1;
        let fault = if self.fault_at(next) {
            let n = self.fault_every.unwrap_or(1);
            Some(FAULT_CYCLE[((next / n - 1) % FAULT_CYCLE.len() as u64) as usize])
        } else {
            None
        };

        let mut kind = RowKind::Single;
        let mut n_items = 1usize;
        if fault.is_none() {
            if self.rng.chance(self.opts.unpaid_share) {
                kind = RowKind::Unpaid;
            } else if self.rng.chance(self.opts.multi_item_share) {
                // Summary + n item rows; cut short at the end, never below 2 items, and
                // never spanning a record that must carry a fault.
                let n = self.rng.range(2, 4).min(remaining.saturating_sub(1));
                let last = next + n;
                let spans_fault = self.fault_every.is_some_and(|f| last / f > (next - 1) / f);
                if n >= 2 && !spans_fault {
                    kind = RowKind::Summary;
                    n_items = n as usize;
                }
            }
        }

        let order = self.make_order(kind, n_items);
        self.orders += 1;
        match kind {
            RowKind::Summary => {
                self.write_row(RowKind::Summary, &order, 0, None);
                for i in 0..n_items {
                    self.write_row(RowKind::Item, &order, i, None);
                }
            }
            k => self.write_row(k, &order, 0, fault),
        }
    }

    fn make_buyer(&mut self) -> Buyer {
        // Buyer attributes come from the buyer id, so repeat buyers look the same.
        let id = self.rng.below(BUYER_POOL) + 1;
        let mut r = Rng::derived(self.opts.seed, id);
        let first = r.pick(data::FIRST_NAMES);
        let last = r.pick(data::LAST_NAMES);
        let ship_first = if r.chance(0.1) {
            r.pick(data::FIRST_NAMES)
        } else {
            first
        };
        let street_no = r.range(1, 9999);
        let street = r.pick(data::STREETS);
        let addr2 = if r.chance(0.2) {
            Some(r.pick(data::ADDRESS2))
        } else {
            None
        };
        let city = r.below(data::CITIES.len() as u64) as usize;
        let zip_low = r.below(100);
        let phone = if r.chance(0.6) {
            Some((r.range(201, 989), r.below(10_000)))
        } else {
            None
        };
        Buyer {
            id,
            first,
            last,
            ship_first,
            street_no,
            street,
            addr2,
            city,
            zip_low,
            phone,
        }
    }

    fn make_item(&mut self) -> Item {
        let idx = self.items_made;
        self.items_made += 1;
        let r = &mut self.rng;
        let qty = match r.below(100) {
            0..=79 => 1,
            80..=94 => 2,
            _ => 3,
        };
        let mut unit = match r.below(100) {
            0..=54 => r.range(199, 4_999),
            55..=84 => r.range(5_000, 29_999),
            85..=97 => r.range(30_000, 99_999),
            _ => r.range(100_000, 499_999),
        };
        match r.below(10) {
            0..=3 => unit = unit / 100 * 100 + 99,
            4..=6 => unit = unit / 100 * 100,
            _ => {}
        }
        let sku = if r.chance(0.9) {
            Some(r.range(10_000, 99_999))
        } else {
            None
        };
        let promoted = r.chance(0.3);
        let variation = if r.chance(0.15) {
            Some(r.pick(data::VARIATIONS))
        } else {
            None
        };
        Item {
            number: 100_000_000_000 + bijection(idx, self.id_offsets[1], 900_000_000_000),
            qty,
            unit_cents: unit,
            sku,
            promoted,
            txn: 1_000_000_000_000 + bijection(idx, self.id_offsets[2], 9_000_000_000_000),
            variation,
        }
    }

    fn make_order(&mut self, kind: RowKind, n_items: usize) -> Order {
        let buyer = self.make_buyer();
        let mut items = [Item::default(); 4];
        let mut qty = 0;
        let mut subtotal = 0;
        for it in items.iter_mut().take(n_items) {
            *it = self.make_item();
            qty += it.qty;
            subtotal += it.qty * it.unit_cents;
        }
        let r = &mut self.rng;
        let shipping = if n_items > 1 {
            r.pick(&data::SHIPPING_CENTS[3..])
        } else {
            r.pick(data::SHIPPING_CENTS)
        };
        let paid = kind != RowKind::Unpaid;
        let tax_bp = if paid { data::CITIES[buyer.city].3 } else { 0 };
        let tax = ((subtotal + shipping) * u64::from(tax_bp) + 5_000) / 10_000;
        let sale = r.below((DAY_COUNT - MAX_DATE_SPAN) as u64) as usize;
        let paid_day = sale + usize::from(r.chance(0.15));
        let ship_by = paid_day + r.range(2, 3) as usize;
        let est_min = sale + r.range(3, 5) as usize;
        let est_max = est_min + r.range(2, 4) as usize;
        let shipped = if paid && r.chance(0.7) {
            Some(paid_day + r.below(3) as usize)
        } else {
            None
        };
        // After the draws above, so both variants draw the same numbers.
        let shipped = match (self.opts.shipped_later, paid) {
            (true, true) => Some(shipped.map_or(paid_day + 3, |day| day + 1)),
            _ => shipped,
        };
        let feedback = r.chance(0.25);
        let mut pick = r.below(100);
        let mut service = data::SHIPPING_SERVICES[0].0;
        for &(name, weight) in data::SHIPPING_SERVICES {
            if pick < weight {
                service = name;
                break;
            }
            pick -= weight;
        }
        let tracking = (r.below(100_000_000_000), r.below(100_000_000_000));
        let index = self.orders;
        Order {
            srn: 1001 + index,
            order_no: paid.then(|| bijection(index, self.id_offsets[0], 1_000_000_000_000)),
            buyer,
            items,
            qty,
            subtotal,
            shipping,
            tax_bp,
            tax,
            total: subtotal + shipping + tax,
            sale,
            paid: paid_day,
            ship_by,
            est_min,
            est_max,
            shipped,
            feedback,
            service,
            tracking,
        }
    }

    /// Builds an item title into `self.scratch`: ~20% hold a comma, ~5% a double quote.
    fn make_title(&mut self) {
        let r = &mut self.rng;
        let s = &mut self.scratch;
        s.clear();
        s.extend_from_slice(r.pick(data::BRANDS).as_bytes());
        s.push(b' ');
        s.extend_from_slice(r.pick(data::ADJECTIVES).as_bytes());
        s.push(b' ');
        s.extend_from_slice(r.pick(data::NOUNS).as_bytes());
        if r.chance(0.05) {
            s.extend_from_slice(r.pick(data::QUOTE_PARTS).as_bytes());
        }
        s.extend_from_slice(r.pick(data::SUFFIXES).as_bytes());
        if r.chance(0.2) {
            s.extend_from_slice(r.pick(data::COMMA_PARTS).as_bytes());
        }
    }

    /// Picks the (Buyer Note, My Item Note) pair of one row.
    fn make_notes(&mut self, kind: RowKind) -> (Note, Note) {
        let r = &mut self.rng;
        if r.chance(self.opts.quoted_newline_share) {
            let (a, b) = r.pick(data::NEWLINE_NOTES);
            let note = Note::Newline(a, b);
            return if kind.order_level() && r.chance(0.5) {
                (note, Note::None)
            } else {
                (Note::None, note)
            };
        }
        let buyer = if kind.order_level() && r.chance(0.04) {
            Note::Plain(r.pick(data::BUYER_NOTES))
        } else {
            Note::None
        };
        let mine = if kind.line_level() && r.chance(0.03) {
            Note::Plain(r.pick(data::ITEM_NOTES))
        } else {
            Note::None
        };
        (buyer, mine)
    }

    // --- field writers -----------------------------------------------------------------

    #[inline]
    fn sep(&mut self) {
        if self.nf == MISSING_COLUMNS_KEPT {
            self.cut = self.buf.len();
        }
        if self.nf > 0 {
            self.buf.push(self.delim);
        }
        self.nf += 1;
    }

    #[inline]
    fn empty(&mut self, n: usize) {
        for _ in 0..n {
            self.sep();
        }
    }

    #[inline]
    fn raw_if(&mut self, cond: bool, s: &str) {
        self.sep();
        if cond {
            self.buf.extend_from_slice(s.as_bytes());
        }
    }

    #[inline]
    fn text_if(&mut self, cond: bool, s: &str) {
        self.sep();
        if cond {
            fmt::text(&mut self.buf, s.as_bytes());
        }
    }

    #[inline]
    fn num_if(&mut self, cond: bool, n: u64) {
        self.sep();
        if cond {
            fmt::uint(&mut self.buf, n);
        }
    }

    #[inline]
    fn money_if(&mut self, cond: bool, cents: u64) {
        self.sep();
        if cond {
            self.amount(cents);
        }
    }

    #[inline]
    fn amount(&mut self, cents: u64) {
        match self.opts.layout {
            OrdersLayout::Us => fmt::money(&mut self.buf, cents),
            OrdersLayout::De => fmt::money_de(&mut self.buf, cents),
        }
    }

    #[inline]
    fn date_if(&mut self, cond: bool, day: usize) {
        self.sep();
        if cond {
            self.buf.extend_from_slice(&self.dates[day]);
        }
    }

    #[inline]
    fn yes_no_if(&mut self, cond: bool, yes: bool) {
        let word = match (self.opts.layout, yes) {
            (OrdersLayout::Us, true) => "Yes",
            (OrdersLayout::Us, false) => "No",
            (OrdersLayout::De, true) => "Ja",
            (OrdersLayout::De, false) => "Nein",
        };
        self.raw_if(cond, word);
    }

    fn note(&mut self, note: Note) {
        self.sep();
        match note {
            Note::None => {}
            Note::Plain(s) => fmt::text(&mut self.buf, s.as_bytes()),
            Note::Newline(a, b) => {
                self.buf.push(b'"');
                self.buf.extend_from_slice(a.as_bytes());
                self.buf.extend_from_slice(self.eol);
                self.buf.extend_from_slice(b.as_bytes());
                self.buf.push(b'"');
                self.row_breaks += 1;
            }
        }
    }

    /// Writes the city/state/zip/country group of an address.
    fn place(&mut self, cond: bool, city: usize, zip_low: u64) {
        let (name, state, zip3, _) = data::CITIES[city];
        self.text_if(cond, name);
        self.raw_if(cond, state);
        self.sep();
        if cond {
            fmt::padded(&mut self.buf, u64::from(zip3), 3);
            fmt::padded(&mut self.buf, zip_low, 2);
        }
        self.raw_if(cond, "United States");
    }

    fn street(&mut self, cond: bool, b: &Buyer) {
        self.sep();
        if cond {
            fmt::uint(&mut self.buf, b.street_no);
            self.buf.push(b' ');
            self.buf.extend_from_slice(b.street.as_bytes());
        }
        self.raw_if(cond && b.addr2.is_some(), b.addr2.unwrap_or(""));
    }

    fn name(&mut self, cond: bool, first: &str, last: &str) {
        self.sep();
        if cond {
            self.buf.extend_from_slice(first.as_bytes());
            self.buf.push(b' ');
            self.buf.extend_from_slice(last.as_bytes());
        }
    }

    /// Writes one record (82 fields, or a faulty variant) and counts it.
    fn write_row(&mut self, kind: RowKind, o: &Order, item: usize, fault: Option<FaultKind>) {
        let it = o.items[item];
        let (buyer_note, item_note) = self.make_notes(kind);
        if kind.line_level() {
            self.make_title();
        }
        let fcol = fault.and_then(|f| f.column);
        let faulty = |col: &str| fcol == Some(col);
        let start_line = self.lines + 1;
        self.nf = 0;
        self.cut = 0;
        self.row_breaks = 0;

        let order_level = kind.order_level();
        let line_level = kind.line_level();
        let paid_order = kind.paid_order_level();
        let b = o.buyer;
        let shipped = o.shipped.is_some();
        let taxed = paid_order && o.tax_bp > 0;

        // 1-3 record, order, buyer
        self.num_if(true, o.srn);
        self.sep();
        if faulty("order_number") {
            self.buf.extend_from_slice(b"ABC");
        } else if let Some(n) = o.order_no {
            fmt::padded(&mut self.buf, n / 10_000_000_000, 2);
            self.buf.push(b'-');
            fmt::padded(&mut self.buf, n / 100_000, 5);
            self.buf.push(b'-');
            fmt::padded(&mut self.buf, n, 5);
        }
        self.sep();
        self.buf.extend_from_slice(b"buyer_");
        fmt::uint(&mut self.buf, b.id);
        // 4-6 name, email, note
        self.name(order_level, b.first, b.last);
        self.sep();
        if faulty("buyer_email") {
            self.buf.extend_from_slice(b"not-an-email");
        } else if order_level {
            self.buf.push(b'b');
            fmt::uint(&mut self.buf, b.id);
            self.buf.extend_from_slice(match b.id % 3 {
                0 => b"@example.com",
                1 => b"@example.net",
                _ => b"@example.org",
            });
        }
        self.note(buyer_note);
        // 7-12 buyer address, 13-14 tax identifier
        self.street(paid_order, &b);
        self.place(paid_order, b.city, b.zip_low);
        self.empty(2);
        // 15-22 ship to
        self.name(paid_order, b.ship_first, b.last);
        self.sep();
        if paid_order {
            if let Some((area, line)) = b.phone {
                fmt::uint(&mut self.buf, area);
                self.buf.extend_from_slice(b"-555-");
                fmt::padded(&mut self.buf, line, 4);
            }
        }
        self.street(paid_order, &b);
        self.place(paid_order, b.city, b.zip_low);
        // 23-28 line item
        self.sep();
        if faulty("item_number") {
            self.buf.extend_from_slice(b"4.07197E+11");
        } else if line_level {
            fmt::uint(&mut self.buf, it.number);
        }
        self.sep();
        if line_level {
            fmt::text(&mut self.buf, &self.scratch);
        }
        self.sep();
        if let (true, Some(sku)) = (line_level, it.sku) {
            self.buf.extend_from_slice(b"SKU-");
            fmt::uint(&mut self.buf, sku);
        }
        self.yes_no_if(line_level, it.promoted);
        self.sep();
        if faulty("quantity") {
            self.buf.push(b'0');
        } else {
            fmt::uint(&mut self.buf, if line_level { it.qty } else { o.qty });
        }
        self.sep();
        if faulty("sold_for") {
            self.buf.extend_from_slice(b"$12.3.4");
        } else {
            let cents = if line_level {
                it.unit_cents
            } else {
                o.subtotal
            };
            self.amount(cents);
        }
        // 29 shipping, 30-32 item location
        self.money_if(order_level, o.shipping);
        let (seller_city, seller_state, seller_zip3, _) = data::CITIES[self.seller_city];
        self.sep();
        if line_level {
            self.buf.push(b'"');
            self.buf.extend_from_slice(seller_city.as_bytes());
            self.buf.extend_from_slice(b", ");
            self.buf.extend_from_slice(seller_state.as_bytes());
            self.buf.push(b'"');
        }
        self.sep();
        if line_level {
            fmt::padded(&mut self.buf, u64::from(seller_zip3), 3);
            fmt::padded(&mut self.buf, self.seller_zip_low, 2);
        }
        self.raw_if(line_level, "United States");
        // 33-37 collect-and-remit details
        self.sep();
        if taxed {
            fmt::percent_bp(&mut self.buf, o.tax_bp);
        }
        self.empty(4);
        // 38-49 taxes and fees
        self.money_if(order_level, 0);
        self.money_if(order_level, o.tax);
        self.empty(9);
        self.money_if(order_level, 0);
        // 50-52 total
        self.money_if(order_level, o.total);
        self.yes_no_if(order_level, true);
        self.empty(1);
        // 53-58 dates
        self.sep();
        if faulty("sale_date") {
            self.buf.extend_from_slice(b"Feb-30-24");
        } else {
            self.buf.extend_from_slice(&self.dates[o.sale]);
        }
        self.date_if(paid_order, o.paid);
        self.date_if(paid_order, o.ship_by);
        self.date_if(paid_order, o.est_min);
        self.date_if(paid_order, o.est_max);
        self.date_if(paid_order && shipped, o.shipped.unwrap_or(0));
        // 59-62 feedback, notes
        self.empty(1);
        self.raw_if(
            shipped && o.feedback && matches!(kind, RowKind::Single | RowKind::Item),
            "Positive",
        );
        self.note(item_note);
        self.empty(1);
        // 63-66 shipment, transaction, variation
        self.raw_if(order_level, o.service);
        self.sep();
        if shipped && line_level {
            self.buf.extend_from_slice(b"94");
            fmt::padded(&mut self.buf, o.tracking.0, 10);
            fmt::padded(&mut self.buf, o.tracking.1, 10);
        }
        self.num_if(line_level, it.txn);
        self.text_if(
            line_level && it.variation.is_some(),
            it.variation.unwrap_or(""),
        );
        // 67-77 programs
        self.yes_no_if(order_level, false);
        self.empty(1);
        self.yes_no_if(order_level, false);
        self.empty(1);
        self.yes_no_if(order_level, false);
        self.empty(6);
        // 78-82 tax location, international shipping
        let (city, state, zip3, _) = data::CITIES[b.city];
        self.text_if(taxed, city);
        self.raw_if(taxed, state);
        self.sep();
        if taxed {
            fmt::padded(&mut self.buf, u64::from(zip3), 3);
            fmt::padded(&mut self.buf, b.zip_low, 2);
        }
        self.raw_if(taxed, "United States");
        self.yes_no_if(order_level, false);
        debug_assert_eq!(self.nf, US_ORDERS_HEADER.len());

        if let Some(f) = fault {
            match f.code {
                "too_many_columns" => {
                    for extra in EXTRA_FIELDS {
                        self.buf.push(self.delim);
                        self.buf.extend_from_slice(extra.as_bytes());
                    }
                }
                "missing_columns" => self.buf.truncate(self.cut),
                _ => {}
            }
            self.faults.push(InjectedFault {
                line: start_line,
                code: f.code,
                column: f.column,
            });
        }
        self.lines += self.row_breaks;
        self.end_line();
        self.records += 1;
    }
}

/// Maps `index` to a distinct, random-looking value in `0..modulus` (a bijection on
/// `0..modulus`): an invertible mix on `0..2^bits` (odd multiplies, xor-shifts and a keyed
/// xor, all mod 2^bits), cycle-walked until the value falls below `modulus`.
fn bijection(index: u64, key: u64, modulus: u64) -> u64 {
    let bits = 64 - (modulus - 1).leading_zeros();
    let mask = (1u64 << bits) - 1;
    let half = (bits / 2).max(1);
    let mut x = index % modulus;
    loop {
        x = (x ^ key) & mask;
        x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15) & mask;
        x ^= x >> half;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9) & mask;
        x ^= x >> (half + 1);
        x = (x ^ (key >> 32)).wrapping_mul(0x94D0_49BB_1331_11EB) & mask;
        x ^= x >> half;
        if x < modulus {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bijection_is_a_permutation() {
        for modulus in [1u64, 2, 7, 1000, 4096, 9_999] {
            let mut seen = vec![false; modulus as usize];
            for i in 0..modulus {
                let v = bijection(i, 0x1234_5678_9ABC_DEF0, modulus);
                assert!(v < modulus);
                assert!(!seen[v as usize], "modulus {modulus}: {v} twice");
                seen[v as usize] = true;
            }
        }
    }

    #[test]
    fn word_lists_are_safe() {
        for (a, b) in data::NEWLINE_NOTES {
            assert!(!a.contains('"') && !b.contains('"'));
        }
        for s in data::STREETS
            .iter()
            .chain(data::ADDRESS2)
            .chain(data::FIRST_NAMES)
        {
            assert!(!fmt::needs_quotes(s.as_bytes()), "{s}");
        }
        for s in data::LAST_NAMES {
            assert!(!fmt::needs_quotes(s.as_bytes()), "{s}");
        }
        for (city, state, _, _) in data::CITIES {
            assert!(!city.contains(',') && state.len() == 2);
        }
        assert_eq!(
            data::SHIPPING_SERVICES.iter().map(|s| s.1).sum::<u64>(),
            100
        );
    }
}
