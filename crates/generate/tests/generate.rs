//! Checks the generated Orders reports with an independent, hand-written RFC 4180 splitter.

use std::collections::{HashMap, HashSet};

use ebay_import_generate::{
    write_orders_report, GeneratedReport, OrdersReportOptions, EXTRA_FIELDS, FAULT_CYCLE,
    MISSING_COLUMNS_KEPT, US_ORDERS_HEADER,
};

const SHARED_HEADER: &str = include_str!("orders-report-us-82col.headers.txt");

/// One CSV record and the 1-based physical line it starts on.
#[derive(Debug)]
struct Record {
    line: u64,
    fields: Vec<String>,
}

/// Splits `text` into records: quoted fields, doubled quotes, newlines inside quotes,
/// CRLF or LF line ends. A final line end does not start a new record.
fn split_csv(text: &str) -> Vec<Record> {
    let b = text.as_bytes();
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut line = 1u64;
    let mut start_line = 1u64;
    let mut i = 0;
    let mut in_quotes = false;
    let mut at_record_start = true;
    while i < b.len() {
        let c = b[i];
        at_record_start = false;
        if in_quotes {
            match c {
                b'"' if b.get(i + 1) == Some(&b'"') => {
                    field.push(b'"');
                    i += 1;
                }
                b'"' => in_quotes = false,
                b'\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
        } else {
            match c {
                b'"' => {
                    assert!(
                        field.is_empty(),
                        "quote inside an unquoted field at line {line}"
                    );
                    in_quotes = true;
                }
                b',' => fields.push(String::from_utf8(std::mem::take(&mut field)).unwrap()),
                b'\r' if b.get(i + 1) == Some(&b'\n') => {}
                b'\n' => {
                    fields.push(String::from_utf8(std::mem::take(&mut field)).unwrap());
                    records.push(Record {
                        line: start_line,
                        fields: std::mem::take(&mut fields),
                    });
                    line += 1;
                    start_line = line;
                    at_record_start = true;
                }
                _ => field.push(c),
            }
        }
        i += 1;
    }
    assert!(!in_quotes, "unterminated quote");
    if !at_record_start {
        fields.push(String::from_utf8(field).unwrap());
        records.push(Record {
            line: start_line,
            fields,
        });
    }
    records
}

fn generate(opts: &OrdersReportOptions) -> (String, GeneratedReport) {
    let mut out = Vec::new();
    let report = write_orders_report(&mut out, opts).unwrap();
    (String::from_utf8(out).unwrap(), report)
}

fn col(name: &str) -> usize {
    US_ORDERS_HEADER.iter().position(|h| *h == name).unwrap()
}

fn opts(rows: u64, seed: u64) -> OrdersReportOptions {
    OrdersReportOptions {
        rows,
        seed,
        ..Default::default()
    }
}

/// Parses a framed report into (data records, footer count, seller id).
fn data_part(text: &str) -> (Vec<Record>, u64, String) {
    let text = text.strip_prefix('\u{feff}').expect("BOM");
    let mut recs = split_csv(text);
    assert!(recs.len() >= 6);
    assert_eq!(recs[0].fields, vec![""; 82], "comma line");
    assert_eq!(recs[1].fields, US_ORDERS_HEADER);
    assert_eq!(recs[2].fields, vec![""; 82], "padding row");
    let seller = recs.pop().unwrap();
    let footer = recs.pop().unwrap();
    let blank = recs.pop().unwrap();
    assert_eq!(blank.fields, vec![""]);
    assert_eq!(footer.fields.len(), 3);
    assert_eq!(footer.fields[1], "record(s) downloaded");
    assert_eq!(footer.fields[2], "");
    assert_eq!(seller.fields.len(), 1);
    let seller_id = seller.fields[0]
        .strip_prefix("Seller ID : ")
        .unwrap()
        .to_string();
    let data = recs.split_off(3);
    (data, footer.fields[0].parse().unwrap(), seller_id)
}

fn is_money(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('$') else {
        return false;
    };
    let Some((int, frac)) = rest.split_once('.') else {
        return false;
    };
    frac.len() == 2
        && frac.bytes().all(|c| c.is_ascii_digit())
        && !int.is_empty()
        && int.split(',').enumerate().all(|(i, g)| {
            (if i == 0 {
                (1..=3).contains(&g.len())
            } else {
                g.len() == 3
            }) && g.bytes().all(|c| c.is_ascii_digit())
        })
}

fn cents(s: &str) -> u64 {
    assert!(is_money(s), "not money: {s:?}");
    s[1..].replace([',', '.'], "").parse().unwrap()
}

fn is_date(s: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && MONTHS.contains(&parts[0])
        && parts[1].len() == 2
        && (1..=31).contains(&parts[1].parse::<u32>().unwrap_or(0))
        && ["23", "24", "25", "26"].contains(&parts[2])
}

fn all_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|c| c.is_ascii_digit())
}

#[test]
fn header_equals_shared_names() {
    let shared: Vec<&str> = SHARED_HEADER.lines().map(str::trim_end).collect();
    assert_eq!(shared.len(), 82);
    assert_eq!(shared, US_ORDERS_HEADER);
    let (text, _) = generate(&opts(3, 1));
    let header_line = text.split("\r\n").nth(1).unwrap();
    let quoted: Vec<String> = shared.iter().map(|h| format!("\"{h}\"")).collect();
    assert_eq!(header_line, quoted.join(","));
}

#[test]
fn same_seed_same_bytes() {
    let o = OrdersReportOptions {
        fault_every: Some(37),
        quoted_newline_share: 0.05,
        ..opts(3000, 99)
    };
    let (a, ra) = generate(&o);
    let (b, rb) = generate(&o);
    assert_eq!(a, b);
    assert_eq!(ra, rb);
    let (c, _) = generate(&OrdersReportOptions {
        seed: 100,
        ..o.clone()
    });
    assert_ne!(a, c);
}

#[test]
fn framing_matches_the_sample() {
    let (text, report) = generate(&opts(5, 3));
    assert!(text.starts_with(&format!(
        "\u{feff}{}\r\n\"Sales Record Number\",",
        ",".repeat(81)
    )));
    assert!(text.contains(&format!("\r\n{}\r\n", vec!["\"\""; 82].join(","))));
    assert!(text.ends_with(&format!(
        "\r\n\r\n{},record(s) downloaded,\r\nSeller ID : bench_seller\r\n",
        report.orders
    )));
    // Every line break is CRLF.
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
}

#[test]
fn exact_record_and_order_counts() {
    for &(rows, multi) in &[
        (0u64, 0.1),
        (1, 0.1),
        (2, 1.0),
        (3, 1.0),
        (4, 1.0),
        (5, 1.0),
        (7, 0.5),
        (100, 0.1),
        (2_500, 0.1),
        (1_001, 1.0),
    ] {
        for seed in 0..4 {
            let o = OrdersReportOptions {
                multi_item_share: multi,
                quoted_newline_share: 0.05,
                ..opts(rows, seed)
            };
            let (text, report) = generate(&o);
            let (data, footer, seller) = data_part(&text);
            assert_eq!(seller, "bench_seller");
            assert_eq!(report.data_records, rows);
            assert_eq!(data.len() as u64, rows, "rows={rows} seed={seed}");
            assert_eq!(footer, report.orders);
            let srns: HashSet<&str> = data.iter().map(|r| r.fields[0].as_str()).collect();
            assert_eq!(srns.len() as u64, report.orders);
            assert_eq!(report.lines, text.matches('\n').count() as u64);
        }
    }
}

#[test]
fn row_model_and_values() {
    let o = OrdersReportOptions {
        quoted_newline_share: 0.02,
        ..opts(20_000, 5)
    };
    let (text, report) = generate(&o);
    let (data, _, _) = data_part(&text);
    assert!(report.faults.is_empty());

    let (srn, ono, user, email) = (
        col("Sales Record Number"),
        col("Order Number"),
        col("Buyer Username"),
        col("Buyer Email"),
    );
    let (item_no, title, sku, qty, sold) = (
        col("Item Number"),
        col("Item Title"),
        col("Custom Label"),
        col("Quantity"),
        col("Sold For"),
    );
    let (ship, tax, total, paid, sale) = (
        col("Shipping And Handling"),
        col("eBay Collected Tax"),
        col("Total Price"),
        col("Paid On Date"),
        col("Sale Date"),
    );
    let (ship_city, ship_state, ship_zip, txn, track) = (
        col("Ship To City"),
        col("Ship To State"),
        col("Ship To Zip"),
        col("Transaction ID"),
        col("Tracking Number"),
    );

    let mut item_numbers = HashSet::new();
    let mut order_numbers: HashMap<String, String> = HashMap::new();
    let (mut singles, mut multis, mut unpaid, mut comma_titles, mut quote_titles, mut big_money) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut last_srn = 1000u64;
    let mut i = 0;
    while i < data.len() {
        let r = &data[i].fields;
        assert_eq!(r.len(), 82, "line {}", data[i].line);
        let n: u64 = r[srn].parse().unwrap();
        assert_eq!(
            n,
            last_srn + 1,
            "sales record numbers increase by one per order"
        );
        last_srn = n;
        assert!(r[user].starts_with("buyer_"));
        assert!(is_date(&r[sale]), "{:?}", r[sale]);
        if r[item_no].is_empty() {
            // Multi-item order: summary, then its item rows.
            multis += 1;
            assert!(r[title].is_empty() && r[sku].is_empty());
            assert!(
                !r[ship_city].is_empty() && r[ship_state].len() == 2 && all_digits(&r[ship_zip], 5)
            );
            assert!(is_date(&r[paid]));
            let mut j = i + 1;
            let (mut q, mut sub) = (0u64, 0u64);
            while j < data.len() && data[j].fields[srn] == r[srn] {
                let it = &data[j].fields;
                assert_eq!(it.len(), 82);
                assert_eq!((&it[ono], &it[user]), (&r[ono], &r[user]));
                assert!(all_digits(&it[item_no], 12) && !it[title].is_empty());
                assert!(all_digits(&it[txn], 13));
                assert!(
                    item_numbers.insert(it[item_no].clone()),
                    "duplicate item number"
                );
                for f in [ship, tax, total, paid, ship_city, ship_zip] {
                    assert!(
                        it[f].is_empty(),
                        "item row field {} not blank",
                        US_ORDERS_HEADER[f]
                    );
                }
                assert!(is_date(&it[sale]));
                let iq: u64 = it[qty].parse().unwrap();
                assert!((1..=3).contains(&iq));
                q += iq;
                sub += iq * cents(&it[sold]);
                j += 1;
            }
            let n_items = j - i - 1;
            assert!(
                (2..=4).contains(&n_items),
                "{n_items} items after a summary row"
            );
            assert_eq!(r[qty].parse::<u64>().unwrap(), q);
            assert_eq!(cents(&r[sold]), sub);
            assert_eq!(cents(&r[total]), sub + cents(&r[ship]) + cents(&r[tax]));
            i = j;
        } else {
            assert!(all_digits(&r[item_no], 12));
            assert!(
                item_numbers.insert(r[item_no].clone()),
                "duplicate item number"
            );
            assert!(all_digits(&r[txn], 13));
            let q: u64 = r[qty].parse().unwrap();
            assert!((1..=3).contains(&q));
            assert_eq!(
                cents(&r[total]),
                q * cents(&r[sold]) + cents(&r[ship]) + cents(&r[tax])
            );
            if r[ono].is_empty() {
                unpaid += 1;
                assert!(
                    r[paid].is_empty()
                        && r[ship_city].is_empty()
                        && r[col("Buyer Address 1")].is_empty()
                );
                assert!(r[track].is_empty());
            } else {
                singles += 1;
                assert!(is_date(&r[paid]));
                assert!(r[ship_state].len() == 2 && all_digits(&r[ship_zip], 5));
                assert!(r[email].contains('@'));
                assert!(r[track].is_empty() || all_digits(&r[track], 22));
            }
            comma_titles += r[title].contains(',') as u64;
            quote_titles += r[title].contains('"') as u64;
            big_money += (cents(&r[sold]) >= 100_000) as u64;
            i += 1;
        }
        if !r[ono].is_empty() {
            let parts: Vec<&str> = r[ono].split('-').collect();
            assert!(
                all_digits(parts[0], 2) && all_digits(parts[1], 5) && all_digits(parts[2], 5),
                "{}",
                r[ono]
            );
            let prev = order_numbers.insert(r[ono].clone(), r[srn].clone());
            assert!(prev.is_none(), "order number {} reused", r[ono]);
        }
    }
    let orders = singles + multis + unpaid;
    assert_eq!(orders, report.orders);
    let share = |n: u64, of: u64| n as f64 / of as f64;
    assert!(
        (0.07..0.13).contains(&share(multis, orders)),
        "multi {multis}/{orders}"
    );
    assert!(
        (0.01..0.03).contains(&share(unpaid, orders)),
        "unpaid {unpaid}/{orders}"
    );
    assert!((0.15..0.25).contains(&share(comma_titles, singles + unpaid)));
    assert!((0.03..0.07).contains(&share(quote_titles, singles + unpaid)));
    assert!(big_money > 0);
    // Quoted newlines add physical lines beyond one per record.
    let framing_lines = 6;
    assert!(report.lines > report.data_records + framing_lines);
    assert_eq!(report.lines, text.matches('\n').count() as u64);
}

#[test]
fn faults_are_where_reported() {
    for &(every, crlf, newline_share) in &[(7u64, true, 0.05), (1, false, 0.2), (13, true, 0.0)] {
        let o = OrdersReportOptions {
            fault_every: Some(every),
            crlf,
            quoted_newline_share: newline_share,
            ..opts(2_000, every)
        };
        let (text, report) = generate(&o);
        let (data, footer, _) = data_part(&text);
        assert_eq!(data.len(), 2_000);
        assert_eq!(footer, report.orders);
        assert_eq!(report.faults.len() as u64, 2_000 / every);
        assert_eq!(report.lines, text.matches('\n').count() as u64);

        let by_line: HashMap<u64, &Record> = data.iter().map(|r| (r.line, r)).collect();
        let fault_lines: HashSet<u64> = report.faults.iter().map(|f| f.line).collect();
        assert_eq!(fault_lines.len(), report.faults.len());
        for (k, f) in report.faults.iter().enumerate() {
            let kind = FAULT_CYCLE[k % FAULT_CYCLE.len()];
            assert_eq!((f.code, f.column), (kind.code, kind.column));
            let rec = by_line
                .get(&f.line)
                .unwrap_or_else(|| panic!("no record starts at line {}", f.line));
            // The faulty record is the (k+1)·every-th data record.
            assert_eq!(rec.line, data[(k + 1) * every as usize - 1].line);
            let fields = &rec.fields;
            match f.code {
                "too_many_columns" => {
                    assert_eq!(fields.len(), 84);
                    assert_eq!(&fields[82..], EXTRA_FIELDS);
                }
                "missing_columns" => assert_eq!(fields.len(), MISSING_COLUMNS_KEPT),
                _ => {
                    assert_eq!(fields.len(), 82);
                    let name = match f.column.unwrap() {
                        "sold_for" => "Sold For",
                        "sale_date" => "Sale Date",
                        "item_number" => "Item Number",
                        "buyer_email" => "Buyer Email",
                        "order_number" => "Order Number",
                        "quantity" => "Quantity",
                        other => panic!("unexpected column {other}"),
                    };
                    assert_eq!(fields[col(name)], kind.value, "line {}", f.line);
                }
            }
            // Faults land on single-item orders only: one record per sales record number.
            let same_order = data.iter().filter(|r| r.fields[0] == fields[0]).count();
            assert_eq!(same_order, 1);
        }
        // Every other record is well-formed.
        for r in data.iter().filter(|r| !fault_lines.contains(&r.line)) {
            assert_eq!(r.fields.len(), 82, "line {}", r.line);
            assert!(is_money(&r.fields[col("Sold For")]));
            assert!(is_date(&r.fields[col("Sale Date")]));
            let q: u64 = r.fields[col("Quantity")].parse().unwrap();
            assert!(q >= 1);
        }
    }
}

#[test]
fn options_lf_no_bom_no_framing() {
    let o = OrdersReportOptions {
        crlf: false,
        bom: false,
        framing: false,
        quoted_newline_share: 0.1,
        seller_id: "unused".into(),
        ..opts(500, 8)
    };
    let (text, report) = generate(&o);
    assert!(text.starts_with("\"Sales Record Number\","));
    assert!(!text.contains('\r'));
    assert!(!text.contains("record(s) downloaded"));
    let recs = split_csv(&text);
    assert_eq!(recs.len(), 501);
    assert_eq!(recs[0].fields, US_ORDERS_HEADER);
    assert_eq!(recs[1].line, 2);
    assert!(recs[1..].iter().all(|r| r.fields.len() == 82));
    assert_eq!(report.data_records, 500);
    assert_eq!(report.lines, text.matches('\n').count() as u64);
    assert!(report.lines > 501, "quoted newlines expected");

    // Same seed, framed: the data records are the same, shifted by two lines.
    let (framed, _) = generate(&OrdersReportOptions {
        framing: true,
        bom: true,
        ..o.clone()
    });
    let (data, _, seller) = data_part(&framed);
    assert_eq!(seller, "unused");
    for (a, b) in recs[1..].iter().zip(&data) {
        assert_eq!(a.fields, b.fields);
        assert_eq!(a.line + 2, b.line);
    }
}

#[test]
fn splitter_self_check() {
    let recs = split_csv("a,\"b,\"\"c\"\"\",\"x\r\ny\"\r\n\r\nlast");
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0].fields, vec!["a", "b,\"c\"", "x\r\ny"]);
    assert_eq!(
        (recs[1].line, &recs[1].fields[..]),
        (3, &[String::new()][..])
    );
    assert_eq!((recs[2].line, recs[2].fields[0].as_str()), (4, "last"));
}

/// The shipping-updates variant: the same records and keys, every paid order shipped later.
#[test]
fn shipped_later_keeps_every_key_and_ships_every_paid_order_later() {
    let before = opts(3000, 11);
    let after = OrdersReportOptions {
        shipped_later: true,
        ..opts(3000, 11)
    };
    let (a, _) = generate(&before);
    let (b, _) = generate(&after);
    let (a, _, _) = data_part(&a);
    let (b, _, _) = data_part(&b);
    assert_eq!(a.len(), b.len());
    let (srn, order, paid, shipped) = (
        col("Sales Record Number"),
        col("Order Number"),
        col("Paid On Date"),
        col("Shipped On Date"),
    );
    let mut changed = 0;
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.fields[srn], y.fields[srn]);
        assert_eq!(x.fields[order], y.fields[order]);
        if !y.fields[paid].is_empty() {
            assert!(!y.fields[shipped].is_empty(), "line {}", y.line);
            assert_ne!(x.fields[shipped], y.fields[shipped], "line {}", y.line);
            changed += 1;
        }
    }
    assert!(changed > a.len() / 2);
}
