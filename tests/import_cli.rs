//! End-to-end tests of `ebay-import import` and `ebay-import jobs`: the binary is run on real
//! files in a temporary directory with its own SQLite database, and the JSON summary, the
//! rejects CSV and the stored rows are checked value by value.

mod common;

use common::*;
use ebay_import_generate::{OrdersLayout, OrdersReportOptions};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

// Casts make the columns text on both stores (PostgreSQL's are typed).
const ORDERS_SQL: &str = "SELECT order_key, order_number, sales_record_number, buyer_name, \
     CAST(total_price AS TEXT), CAST(sale_date AS TEXT), payment_status, order_status, \
     shipping_status, currency, CAST(source_line AS TEXT) FROM orders ORDER BY order_key";

const ITEMS_SQL: &str = "SELECT item_key, order_key, item_number, item_title, \
     CAST(quantity AS TEXT), CAST(sold_for AS TEXT), transaction_id, variation_details, \
     CAST(source_line AS TEXT) FROM order_items ORDER BY item_key";

/// A file of `MINI_HEADER` and the given data lines (LF line ends).
fn mini(lines: &[&str]) -> String {
    let mut s = String::from(MINI_HEADER);
    s.push('\n');
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

fn order_keys(env: &Env) -> Vec<String> {
    env.rows("SELECT order_key FROM orders ORDER BY order_key")
        .into_iter()
        .map(|r| r[0].clone().expect("order_key is not null"))
        .collect()
}

// --- 1. the sample ---------------------------------------------------------------------------

#[test]
fn sample_import_reports_counts_footer_and_stores_exact_values() {
    for env in Env::each_store("sample_import_report") {
        let file = env.copy_sample();
        let run = env.import("demo", &[file]);
        run.expect_code(0);
        let j = run.json();

        assert_eq!(s(&j, "status"), "completed");
        assert_eq!(s(&j, "import_type"), "orders");
        assert_eq!(s(&j, "file"), SAMPLE_REL);
        assert_eq!(s(&j, "encoding"), "UTF-8");
        assert_eq!(s(&j, "delimiter"), ",");
        assert_eq!(s(&j, "site"), "US");
        assert_eq!(j["dry_run"], Value::Bool(false));
        assert_eq!(j["error"], Value::Null);
        assert_counts(&j, 5, 5, 0, 0, 0);
        // Bare-comma line 1, padding row 3, blank line 9 and the two footer lines 10-11.
        assert_eq!(u(&j, "skipped"), 5);
        assert!(codes(&j).is_empty(), "no rejects: {j}");
        assert_eq!(u(&j, "tables.orders.inserted"), 3);
        assert_eq!(u(&j, "tables.orders.updated"), 0);
        assert_eq!(u(&j, "tables.orders.unchanged"), 0);
        assert_eq!(u(&j, "tables.order_items.inserted"), 4);
        assert_eq!(u(&j, "tables.order_items.updated"), 0);
        assert_eq!(u(&j, "tables.order_items.unchanged"), 0);
        assert_eq!(u(&j, "footer.record_count"), 3);
        assert_eq!(s(&j, "footer.seller_id"), "example_seller");
        assert_eq!(j["warnings"], serde_json::json!([]));
        assert_eq!(u(&j, "file_size"), sample_bytes().len() as u64);
        let sha = s(&j, "file_sha256");
        assert!(
            sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "sha256 hex: {sha}"
        );

        let job_id = s(&j, "job_id").to_string();
        let account_id = s(&j, "account_id").to_string();
        assert_eq!(
            env.rows("SELECT CAST(id AS TEXT), slug FROM accounts"),
            vec![vec![t(&account_id), t("demo")]]
        );

        assert_eq!(
            env.rows(ORDERS_SQL),
            vec![
                vec![
                    t("12-34567-89012"),
                    t("12-34567-89012"),
                    t("1001"),
                    t("Pat Example"),
                    t("32.09"),
                    t("2024-03-15 00:00:00"),
                    t("PAID"),
                    t("SHIPPED"),
                    t("SHIPPED"),
                    t("USD"),
                    t("4"),
                ],
                vec![
                    t("98-76543-21098"),
                    t("98-76543-21098"),
                    t("1002"),
                    t("Sam Sample"),
                    t("34.00"),
                    t("2024-03-15 00:00:00"),
                    t("PAID"),
                    t("PROCESSING"),
                    t("NOT_SHIPPED"),
                    t("USD"),
                    t("5"),
                ],
                vec![
                    t("SRN-1003"),
                    None,
                    t("1003"),
                    None,
                    None,
                    t("2024-03-15 00:00:00"),
                    t("PENDING"),
                    t("PENDING"),
                    t("NOT_SHIPPED"),
                    t("USD"),
                    t("8"),
                ],
            ]
        );
        assert_eq!(
            env.rows(ITEMS_SQL),
            vec![
                vec![
                    t("12-34567-89012/123456789012-1234567890123"),
                    t("12-34567-89012"),
                    t("123456789012"),
                    t("Widget, large \"XL\" edition"),
                    t("2"),
                    t("12.50"),
                    t("1234567890123"),
                    None,
                    t("4"),
                ],
                vec![
                    t("98-76543-21098/223456789012-2234567890123"),
                    t("98-76543-21098"),
                    t("223456789012"),
                    t("Gadget A"),
                    t("1"),
                    t("13.00"),
                    t("2234567890123"),
                    t("[Color:Red]"),
                    t("6"),
                ],
                vec![
                    t("98-76543-21098/323456789012-3234567890123"),
                    t("98-76543-21098"),
                    t("323456789012"),
                    t("Gadget B"),
                    t("1"),
                    t("15.00"),
                    t("3234567890123"),
                    None,
                    t("7"),
                ],
                vec![
                    t("SRN-1003/423456789012"),
                    t("SRN-1003"),
                    t("423456789012"),
                    t("Thing C"),
                    t("1"),
                    t("5.00"),
                    None,
                    None,
                    t("8"),
                ],
            ]
        );
        // Every stored row belongs to this job and account.
        let other = format!(
        "SELECT (SELECT COUNT(*) FROM orders WHERE job_id <> '{job_id}' OR account_id <> '{account_id}') + \
         (SELECT COUNT(*) FROM order_items WHERE job_id <> '{job_id}' OR account_id <> '{account_id}')"
    );
        assert_eq!(env.count(&other), 0);
        assert_eq!(env.count("SELECT COUNT(*) FROM import_rejects"), 0);
        assert_eq!(
        env.rows(&format!(
            "SELECT status, CAST(rows_read AS TEXT), CAST(inserted AS TEXT) FROM import_jobs WHERE id = '{job_id}'"
        )),
        vec![vec![t("completed"), t("5"), t("5")]]
    );
    }
}

// --- 2. re-import ----------------------------------------------------------------------------

#[test]
fn reimport_is_idempotent_and_a_changed_value_updates_exactly_one_row() {
    for env in Env::each_store("reimport_is_idempote") {
        let file = env.copy_sample();
        let first = env.import("demo", &[file]);
        first.expect_code(0);
        let first_job = s(&first.json(), "job_id").to_string();

        let again = env.import("demo", &[file]);
        again.expect_code(0);
        let j = again.json();
        assert_eq!(s(&j, "status"), "completed");
        assert_counts(&j, 5, 0, 0, 5, 0);
        assert_eq!(u(&j, "tables.orders.unchanged"), 3);
        assert_eq!(u(&j, "tables.orders.inserted"), 0);
        assert_eq!(u(&j, "tables.orders.updated"), 0);
        assert_eq!(u(&j, "tables.order_items.unchanged"), 4);
        assert_eq!(u(&j, "tables.order_items.inserted"), 0);
        assert_eq!(u(&j, "tables.order_items.updated"), 0);
        assert_eq!(
            env.count(&format!(
                "SELECT COUNT(*) FROM orders WHERE job_id <> '{first_job}'"
            )),
            0,
            "unchanged rows are not rewritten"
        );

        // Order 1001 (line 4): Total Price $32.09 -> $33.09.
        let text = String::from_utf8(sample_bytes()).expect("sample is UTF-8");
        assert_eq!(text.matches("$32.09").count(), 1);
        let changed = env.write("changed.csv", text.replace("$32.09", "$33.09"));
        let run = env.import("demo", &[&changed]);
        run.expect_code(0);
        let j = run.json();
        assert_eq!(s(&j, "status"), "completed");
        assert_counts(&j, 5, 0, 1, 4, 0);
        assert_eq!(u(&j, "tables.orders.updated"), 1);
        assert_eq!(u(&j, "tables.orders.unchanged"), 2);
        assert_eq!(u(&j, "tables.orders.inserted"), 0);
        assert_eq!(u(&j, "tables.order_items.updated"), 0);
        assert_eq!(u(&j, "tables.order_items.unchanged"), 4);
        let third_job = s(&j, "job_id").to_string();
        assert_eq!(
        env.rows("SELECT order_key, CAST(total_price AS TEXT), CAST(job_id AS TEXT) FROM orders ORDER BY order_key"),
        vec![
            vec![t("12-34567-89012"), t("33.09"), t(&third_job)],
            vec![t("98-76543-21098"), t("34.00"), t(&first_job)],
            vec![t("SRN-1003"), None, t(&first_job)],
        ]
    );
        assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 3);
        assert_eq!(env.count("SELECT COUNT(*) FROM order_items"), 4);
    }
}

#[test]
fn a_key_that_shares_its_index_hash_with_another_stays_a_row_of_its_own() {
    // The store indexes a hash of (account, key). Give a stored row another key while it
    // keeps the hash of 98-76543-21098: that key's next import must find no row of its own
    // (insert), and leave the row that merely shares its hash untouched.
    let env = Env::new();
    let file = env.copy_sample();
    let first = env.import("demo", &[file]);
    first.expect_code(0);
    let first_job = s(&first.json(), "job_id").to_string();
    env.exec(&[
        "UPDATE orders SET order_key = 'XX-COLLIDES', total_price = '1.00' \
         WHERE order_key = '98-76543-21098'",
    ]);

    let again = env.import("demo", &[file]);
    again.expect_code(0);
    let j = again.json();
    assert_eq!(u(&j, "tables.orders.inserted"), 1);
    assert_eq!(u(&j, "tables.orders.updated"), 0);
    assert_eq!(u(&j, "tables.orders.unchanged"), 2);
    let second_job = s(&j, "job_id").to_string();
    assert_eq!(
        env.rows("SELECT order_key, CAST(total_price AS TEXT), CAST(job_id AS TEXT) FROM orders ORDER BY order_key"),
        vec![
            vec![t("12-34567-89012"), t("32.09"), t(&first_job)],
            vec![t("98-76543-21098"), t("34.00"), t(&second_job)],
            vec![t("SRN-1003"), None, t(&first_job)],
            vec![t("XX-COLLIDES"), t("1.00"), t(&first_job)],
        ]
    );
}

#[test]
fn rollback_deletes_inserted_rows_restores_updated_ones_and_refuses_under_later_jobs() {
    for env in Env::each_store("rollback") {
        let file = env.copy_sample();
        let first = env.import("demo", &[file]);
        first.expect_code(0);
        let first_job = s(&first.json(), "job_id").to_string();
        let text = String::from_utf8(sample_bytes()).expect("sample is UTF-8");
        let changed = env.write("changed.csv", text.replace("$32.09", "$33.09"));
        let second = env.import("demo", &[&changed]);
        second.expect_code(0);
        let second_job = s(&second.json(), "job_id").to_string();
        let totals = || {
            env.rows(
                "SELECT order_key, CAST(total_price AS TEXT), CAST(job_id AS TEXT) FROM orders \
                 ORDER BY order_key",
            )
        };
        let after_second = totals();
        assert_eq!(after_second[0][1], t("33.09"), "{}", env.store_name());

        // The second job changed the first one's rows: the first cannot go before it.
        let refused = env.run(&["rollback", &first_job]);
        refused.expect_code(1);
        assert!(
            refused.stderr.contains(&second_job) && refused.stderr.contains("roll them back first"),
            "{}: {}",
            env.store_name(),
            refused.stderr
        );
        assert_eq!(totals(), after_second, "a refused rollback changes nothing");

        let undo = env.run(&["rollback", &second_job, "--json"]);
        undo.expect_code(0);
        let j = undo.json();
        assert_eq!(s(&j, "status"), "rolled_back");
        assert_eq!(u(&j, "restored.orders"), 1);
        assert_eq!(u(&j, "deleted.orders"), 0);
        assert_eq!(u(&j, "restored.order_items"), 0);
        assert_eq!(
            totals(),
            vec![
                vec![t("12-34567-89012"), t("32.09"), t(&first_job)],
                vec![t("98-76543-21098"), t("34.00"), t(&first_job)],
                vec![t("SRN-1003"), None, t(&first_job)],
            ],
            "{}",
            env.store_name()
        );
        let shown = env.run(&["jobs", "show", &second_job, "--json"]);
        shown.expect_code(0);
        assert_eq!(s(&shown.json_doc(), "status"), "rolled_back");
        env.run(&["rollback", &second_job]).expect_code(1);

        // With the second undone, the first can go: nothing of it is left.
        let undo = env.run(&["rollback", &first_job, "--json"]);
        undo.expect_code(0);
        let j = undo.json();
        assert_eq!(u(&j, "deleted.orders"), 3);
        assert_eq!(u(&j, "deleted.order_items"), 4);
        assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 0);
        assert_eq!(env.count("SELECT COUNT(*) FROM order_items"), 0);
        assert_eq!(env.count("SELECT COUNT(*) FROM orders_history"), 0);
    }
}

// --- 3. the seed's canonical CSV -------------------------------------------------------------

/// Every stored row of the data tables, without the job that wrote it, in key order.
fn stored_rows(env: &Env) -> Vec<Vec<Option<String>>> {
    let mut all = Vec::new();
    for (table, key, cols) in [
        (
            "orders",
            "order_key",
            &["shipped_on_date", "tracking_number", "total_price"][..],
        ),
        ("order_items", "item_key", &["tracking_number", "sold_for"]),
        (
            "customers",
            "username",
            &["name", "last_order_date", "order_count"],
        ),
    ] {
        let cols: Vec<String> = cols
            .iter()
            .chain(&["row_hash"])
            .map(|c| format!("CAST({c} AS TEXT)"))
            .collect();
        all.extend(env.rows(&format!(
            "SELECT {key}, {} FROM {table} ORDER BY {key}",
            cols.join(", ")
        )));
    }
    all
}

/// A day of shipping updates (the same orders, every paid one shipped later): the changed
/// rows are updated and their versions kept, so rolling the day back restores every row as
/// the first import stored it.
#[test]
fn a_day_of_shipping_updates_updates_the_changed_rows_and_rolls_back_to_the_day_before() {
    for env in Env::each_store("shipping_day") {
        let opts = OrdersReportOptions {
            rows: 400,
            seed: 5,
            ..Default::default()
        };
        env.generate_orders("day1.csv", &opts);
        env.generate_orders(
            "day2.csv",
            &OrdersReportOptions {
                shipped_later: true,
                ..opts
            },
        );
        env.run(&["import", "--account", "a", "--json", "day1.csv"])
            .expect_code(0);
        let before = stored_rows(&env);
        let day2 = env.run(&["import", "--account", "a", "--json", "day2.csv"]);
        day2.expect_code(0);
        let j = day2.json();
        let changed = u(&j, "tables.orders.updated");
        assert!(changed > 200, "{}: {j}", env.store_name());
        assert_eq!(u(&j, "tables.orders.inserted"), 0, "{}", env.store_name());
        let kept = env.count(&format!(
            "SELECT count(*) FROM orders_history WHERE replaced_by = '{}'",
            s(&j, "job_id")
        ));
        assert_eq!(
            kept as u64,
            changed,
            "{}: one kept version per updated order",
            env.store_name()
        );
        assert_ne!(stored_rows(&env), before);

        let undo = env.run(&["rollback", s(&j, "job_id"), "--json"]);
        undo.expect_code(0);
        assert_eq!(u(&undo.json(), "restored.orders"), changed);
        assert_eq!(stored_rows(&env), before, "{}", env.store_name());
    }
}

#[test]
fn seed_canonical_csv_imports_with_mapped_statuses_money_and_dates() {
    let env = Env::new();
    let file = env.write(
        "orders-canonical.csv",
        std::fs::read(CANONICAL).expect("read canonical"),
    );
    let run = env.import("demo", &[&file]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(s(&j, "status"), "completed");
    assert_eq!(s(&j, "import_type"), "orders");
    assert_counts(&j, 3, 3, 0, 0, 0);
    assert_eq!(u(&j, "skipped"), 0);
    assert_eq!(u(&j, "tables.orders.inserted"), 3);
    assert_eq!(u(&j, "tables.order_items.inserted"), 0);

    assert_eq!(
        env.rows(
            "SELECT order_key, buyer_name, buyer_email, total_price, sale_date, order_status, \
             payment_status, shipping_status, tracking_number, CAST(source_line AS TEXT) \
             FROM orders ORDER BY order_key"
        ),
        vec![
            vec![
                t("1234567890123456789"),
                t("Alice Seller"),
                t("alice@example.com"),
                t("129.99"),
                t("2024-03-15 10:30:00"),
                t("SHIPPED"),
                t("PAID"),
                t("SHIPPED"),
                t("1Z999AA10123456784"),
                t("2"),
            ],
            vec![
                t("1234567890123456790"),
                t("Bob Buyer"),
                t("bob@example.com"),
                t("1250.00"),
                t("2024-03-16 00:00:00"),
                t("PROCESSING"),
                t("PAID"),
                t("NOT_SHIPPED"),
                None,
                t("3"),
            ],
            vec![
                t("1234567890123456791"),
                t("Carol Client"),
                t("carol@example.com"),
                t("15.50"),
                t("2024-03-17 00:00:00"),
                t("DELIVERED"),
                t("PAID"),
                t("DELIVERED"),
                t("9400100000000000000001"),
                t("4"),
            ],
        ]
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM order_items"), 0);
}

// --- 4. value-level rejects ------------------------------------------------------------------

#[test]
fn value_rejects_have_exact_lines_codes_and_spreadsheet_safe_values() {
    let env = Env::new();
    let file = env.write(
        "values.csv",
        mini(&[
            "1,11-11111-11111,Ann,ann@example.com,111111111111,1,$1.00,$12.3.4,Mar-15-24",
            "2,11-11111-11112,Bob,bob@example.com,111111111112,1,$1.00,$1.00,Feb-30-24",
            "3,11-11111-11113,Cy,cy@example.com,4.07197E+11,1,$1.00,$1.00,Mar-15-24",
            "4,11-11111-11114,Di,not-an-email,111111111114,1,$1.00,$1.00,Mar-15-24",
            "5,ABC,Ed,ed@example.com,111111111115,1,$1.00,$1.00,Mar-15-24",
            "6,11-11111-11116,Fay,fay@example.com,111111111116,0,$1.00,$1.00,Mar-15-24",
            ",,Gus,gus@example.com,111111111117,1,$1.00,$1.00,Mar-15-24",
            "8,11-11111-11118,Hal,hal@example.com,111111111118,1,$1.00,$1.00,",
            "9,11-11111-11119,Ivy,ivy@example.com,111111111119,-1,$1.00,=SUM(A1),Mar-15-24",
            "10,11-11111-11120,Jo,jo@example.com,111111111120,1,$1.00,$1.00,Mar-15-24",
        ]),
    );
    let run = env.import("demo", &["--rejects", "out.csv", &file]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(s(&j, "status"), "partially_failed");
    assert_counts(&j, 10, 1, 0, 0, 9);
    assert_eq!(
        codes(&j),
        code_map(&[
            ("invalid_date", 1),
            ("invalid_email", 1),
            ("invalid_format", 1),
            ("invalid_money", 2),
            ("missing_value", 2),
            ("out_of_range", 2),
            ("scientific_notation", 1),
        ])
    );

    let rejects = parse_rejects(&env.read("out.csv"));
    let got: Vec<(u64, u64, &str, &str, &str)> = rejects
        .iter()
        .map(|r| {
            (
                r.line,
                r.record,
                r.column.as_str(),
                r.code.as_str(),
                r.value.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (2, 2, "total_price", "invalid_money", "$12.3.4"),
            (3, 3, "sale_date", "invalid_date", "Feb-30-24"),
            (4, 4, "item_number", "scientific_notation", "4.07197E+11"),
            (5, 5, "buyer_email", "invalid_email", "not-an-email"),
            (6, 6, "order_number", "invalid_format", "ABC"),
            (7, 7, "quantity", "out_of_range", "0"),
            (8, 8, "order_number", "missing_value", ""),
            (9, 9, "sale_date", "missing_value", ""),
            // Formula-like values get a leading apostrophe in the CSV report.
            (10, 10, "total_price", "invalid_money", "'=SUM(A1)"),
            (10, 10, "quantity", "out_of_range", "'-1"),
        ]
    );
    let sci = &rejects[2];
    assert!(
        sci.message.contains("spreadsheet"),
        "scientific_notation message names the spreadsheet: {}",
        sci.message
    );
    for r in &rejects {
        assert!(!r.message.is_empty(), "every reject explains itself: {r:?}");
    }

    // Only the good row is stored; the database keeps the raw values (no apostrophe).
    assert_eq!(order_keys(&env), vec!["11-11111-11120"]);
    assert_eq!(env.count("SELECT COUNT(*) FROM order_items"), 1);
    assert_eq!(
        env.rows(
            "SELECT column_name, value FROM import_rejects WHERE line = 10 ORDER BY column_name"
        ),
        vec![
            vec![t("quantity"), t("-1")],
            vec![t("total_price"), t("=SUM(A1)")],
        ]
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM import_rejects"), 10);
}

#[test]
fn order_incomplete_rejects_the_whole_multi_item_order_naming_the_failing_line() {
    let env = Env::new();
    let file = env.write(
        "multi.csv",
        mini(&[
            // Order A: summary + 3 items, item on line 4 has quantity 0.
            "1,11-11111-11111,Ann,ann@example.com,,3,$30.00,$30.00,Mar-15-24",
            "1,11-11111-11111,,,111111111111,1,$10.00,,Mar-15-24",
            "1,11-11111-11111,,,111111111112,0,$10.00,,Mar-15-24",
            "1,11-11111-11111,,,111111111113,1,$10.00,,Mar-15-24",
            // Order B: the summary (line 6) has a bad Total Price.
            "2,22-22222-22222,Bob,bob@example.com,,2,$20.00,$20.0.0,Mar-15-24",
            "2,22-22222-22222,,,222222222221,1,$10.00,,Mar-15-24",
            "2,22-22222-22222,,,222222222222,1,$10.00,,Mar-15-24",
            // Order C: good, two items.
            "3,33-33333-33333,Cy,cy@example.com,,2,$8.00,$8.00,Mar-15-24",
            "3,33-33333-33333,,,333333333331,1,$4.00,,Mar-15-24",
            "3,33-33333-33333,,,333333333332,1,$4.00,,Mar-15-24",
        ]),
    );
    let run = env.import("demo", &["--rejects", "out.csv", &file]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(s(&j, "status"), "partially_failed");
    assert_counts(&j, 10, 3, 0, 0, 7);
    assert_eq!(
        codes(&j),
        code_map(&[
            ("invalid_money", 1),
            ("order_incomplete", 5),
            ("out_of_range", 1)
        ])
    );
    assert_eq!(u(&j, "tables.orders.inserted"), 1);
    assert_eq!(u(&j, "tables.order_items.inserted"), 2);

    let rejects = parse_rejects(&env.read("out.csv"));
    assert_eq!(
        line_codes(&rejects),
        vec![
            (2, "order_incomplete"),
            (3, "order_incomplete"),
            (4, "out_of_range"),
            (5, "order_incomplete"),
            (6, "invalid_money"),
            (7, "order_incomplete"),
            (8, "order_incomplete"),
        ]
    );
    for r in rejects.iter().filter(|r| r.code == "order_incomplete") {
        let (order, line) = if r.line <= 5 {
            ("11-11111-11111", "line 4")
        } else {
            ("22-22222-22222", "line 6")
        };
        assert!(
            r.message.contains(order) && r.message.contains(line),
            "line {}: message names the order {order} and the failing {line}: {}",
            r.line,
            r.message
        );
        assert_eq!(r.column, "");
    }
    assert_eq!(order_keys(&env), vec!["33-33333-33333"]);
    assert_eq!(
        env.rows("SELECT item_key FROM order_items ORDER BY item_key"),
        vec![
            vec![t("33-33333-33333/333333333331")],
            vec![t("33-33333-33333/333333333332")],
        ]
    );
}

/// Order 22 (single) and 44 (multi-item) reappear later with different content; 33 reappears
/// identical.
fn duplicates_file(env: &Env) -> String {
    env.write(
        "dups.csv",
        mini(&[
            "2,22-22222-22222,Bob,bob@example.com,222222222222,1,$5.00,$5.00,Mar-15-24",
            "3,33-33333-33333,Cy,cy@example.com,333333333333,1,$6.00,$6.00,Mar-15-24",
            "4,44-44444-44444,Di,di@example.com,,2,$8.00,$8.00,Mar-15-24",
            "4,44-44444-44444,,,444444444441,1,$4.00,,Mar-15-24",
            "4,44-44444-44444,,,444444444442,1,$4.00,,Mar-15-24",
            "2,22-22222-22222,Bob,bob@example.com,222222222222,1,$7.00,$7.00,Mar-15-24",
            "3,33-33333-33333,Cy,cy@example.com,333333333333,1,$6.00,$6.00,Mar-15-24",
            "4,44-44444-44444,Di,di@example.com,,2,$9.00,$9.00,Mar-15-24",
            "4,44-44444-44444,,,444444444441,1,$4.50,,Mar-15-24",
            "4,44-44444-44444,,,444444444442,1,$4.50,,Mar-15-24",
            "5,55-55555-55555,Ed,ed@example.com,555555555555,1,$1.00,$1.00,Mar-15-24",
        ]),
    )
}

#[test]
fn duplicate_orders_with_different_content_are_rejected_and_identical_repeats_are_unchanged() {
    for env in Env::each_store("duplicate_orders_wit") {
        let file = duplicates_file(&env);
        let run = env.import("demo", &["--rejects", "out.csv", &file]);
        run.expect_code(0);
        let j = run.json();
        assert_eq!(s(&j, "status"), "partially_failed");
        // Lines 2-6 and 12 inserted, line 8 (identical repeat) unchanged, 7 and 9-11 rejected.
        assert_counts(&j, 11, 6, 0, 1, 4);
        assert_eq!(codes(&j), code_map(&[("duplicate_key", 4)]));

        let rejects = parse_rejects(&env.read("out.csv"));
        assert_eq!(
            line_codes(&rejects),
            vec![
                (7, "duplicate_key"),
                (9, "duplicate_key"),
                (10, "duplicate_key"),
                (11, "duplicate_key"),
            ]
        );
        assert!(
            rejects[0].message.contains("22-22222-22222") && rejects[0].message.contains("line 2"),
            "names the order and its first line: {}",
            rejects[0].message
        );
        for r in &rejects[1..] {
            assert!(
                r.message.contains("44-44444-44444") && r.message.contains("line 4"),
                "names the order and its first line: {}",
                r.message
            );
        }
        assert_eq!(
        env.rows(
            "SELECT order_key, CAST(total_price AS TEXT), CAST(source_line AS TEXT) FROM orders ORDER BY order_key"
        ),
        vec![
            vec![t("22-22222-22222"), t("5.00"), t("2")],
            vec![t("33-33333-33333"), t("6.00"), t("3")],
            vec![t("44-44444-44444"), t("8.00"), t("4")],
            vec![t("55-55555-55555"), t("1.00"), t("12")],
        ]
    );
        assert_eq!(
            env.rows("SELECT item_key, CAST(sold_for AS TEXT) FROM order_items ORDER BY item_key"),
            vec![
                vec![t("22-22222-22222/222222222222"), t("5.00")],
                vec![t("33-33333-33333/333333333333"), t("6.00")],
                vec![t("44-44444-44444/444444444441"), t("4.00")],
                vec![t("44-44444-44444/444444444442"), t("4.00")],
                vec![t("55-55555-55555/555555555555"), t("1.00")],
            ]
        );
    }
}

#[test]
fn on_duplicate_last_wins_stores_the_later_content_without_rejects() {
    for env in Env::each_store("on_duplicate_last_wi") {
        let file = duplicates_file(&env);
        let run = env.import(
            "demo",
            &["--on-duplicate", "last-wins", "--rejects", "out.csv", &file],
        );
        run.expect_code(0);
        let j = run.json();
        assert_eq!(s(&j, "status"), "completed");
        assert_eq!(u(&j, "rows_read"), 11);
        assert_eq!(u(&j, "rejected"), 0);
        assert_eq!(u(&j, "unchanged"), 1, "the identical repeat of 33: {j}");
        assert_reconciles(&j);
        assert!(codes(&j).is_empty(), "{j}");
        assert!(parse_rejects(&env.read("out.csv")).is_empty());
        assert_eq!(
        env.rows(
            "SELECT order_key, CAST(total_price AS TEXT), CAST(source_line AS TEXT) FROM orders ORDER BY order_key"
        ),
        vec![
            vec![t("22-22222-22222"), t("7.00"), t("7")],
            vec![t("33-33333-33333"), t("6.00"), t("3")],
            vec![t("44-44444-44444"), t("9.00"), t("9")],
            vec![t("55-55555-55555"), t("1.00"), t("12")],
        ]
    );
        assert_eq!(
        env.rows("SELECT item_key, CAST(sold_for AS TEXT), CAST(source_line AS TEXT) FROM order_items ORDER BY item_key"),
        vec![
            vec![t("22-22222-22222/222222222222"), t("7.00"), t("7")],
            vec![t("33-33333-33333/333333333333"), t("6.00"), t("3")],
            vec![t("44-44444-44444/444444444441"), t("4.50"), t("10")],
            vec![t("44-44444-44444/444444444442"), t("4.50"), t("11")],
            vec![t("55-55555-55555/555555555555"), t("1.00"), t("12")],
        ]
    );
    }
}

#[test]
fn adjacent_duplicate_order_rows_with_different_content_are_rejected() {
    let env = Env::new();
    let file = env.write(
        "adjacent.csv",
        mini(&[
            "2,22-22222-22222,Bob,bob@example.com,222222222222,1,$5.00,$5.00,Mar-15-24",
            "2,22-22222-22222,Bob,bob@example.com,222222222222,1,$7.00,$7.00,Mar-15-24",
            "3,33-33333-33333,Cy,cy@example.com,333333333333,1,$6.00,$6.00,Mar-15-24",
        ]),
    );
    let run = env.import("demo", &["--rejects", "out.csv", &file]);
    run.expect_code(0);
    let j = run.json();
    assert_counts(&j, 3, 2, 0, 0, 1);
    assert_eq!(codes(&j), code_map(&[("duplicate_key", 1)]));
    let rejects = parse_rejects(&env.read("out.csv"));
    assert_eq!(line_codes(&rejects), vec![(3, "duplicate_key")]);
    assert!(
        rejects[0].message.contains("line 2"),
        "{}",
        rejects[0].message
    );
    // The stored order and its item are one consistent version: the first.
    assert_eq!(
        env.rows("SELECT o.total_price, i.sold_for FROM orders o JOIN order_items i USING (account_id, order_key) WHERE order_key = '22-22222-22222'"),
        vec![vec![t("5.00"), t("5.00")]]
    );
}

// --- 5. structural rejects -------------------------------------------------------------------

#[test]
fn structural_rejects_report_their_line_and_the_other_rows_import() {
    let env = Env::new();
    let long_name = "Fay ".repeat(50);
    let long =
        format!("6,11-11111-11116,{long_name},f@example.com,111111111116,1,$1.00,$1.00,Mar-15-24");
    let file = env.write(
        "structural.csv",
        mini(&[
            "1,11-11111-11111,Ann,ann@example.com,111111111111,1,$1.00,$1.00,Mar-15-24",
            "2,11-11111-11112,Bob,bob@example.com,111111111112,1,$1.00,$1.00",
            "3,11-11111-11113,Cy,cy@example.com,111111111113,1,$1.00,$1.00,Mar-15-24,x,",
            // Trailing empty extra fields are not a fault.
            "4,11-11111-11114,Di,di@example.com,111111111114,1,$1.00,$1.00,Mar-15-24,,",
            &long,
            "7,11-11111-11117,Gus,g@example.com,111111111117,1,$1.00,$1.00,Mar-15-24",
            "8,11-11111-11118,\"Hal open,h@example.com,111111111118,1,$1.00,$1.00,Mar-15-24",
            "9,11-11111-11119,Ivy,i@example.com,111111111119,1,$1.00,$1.00,Mar-15-24",
        ]),
    );
    assert!(long.len() > 200 && MINI_HEADER.len() < 200);
    let run = env.import(
        "demo",
        &["--max-line-bytes", "200", "--rejects", "out.csv", &file],
    );
    run.expect_code(0);
    let j = run.json();
    assert_eq!(s(&j, "status"), "partially_failed");
    assert_counts(&j, 7, 3, 0, 0, 4);
    assert_eq!(
        codes(&j),
        code_map(&[
            ("line_too_long", 1),
            ("missing_columns", 1),
            ("too_many_columns", 1),
            ("unterminated_quote", 1),
        ])
    );
    let rejects = parse_rejects(&env.read("out.csv"));
    assert_eq!(
        line_codes(&rejects),
        vec![
            (3, "missing_columns"),
            (4, "too_many_columns"),
            (6, "line_too_long"),
            (8, "unterminated_quote"),
        ]
    );
    assert_eq!(
        rejects.iter().map(|r| r.record).collect::<Vec<_>>(),
        vec![3, 4, 6, 8]
    );
    assert!(
        rejects[0].message.contains("Sale Date"),
        "{}",
        rejects[0].message
    );
    assert!(rejects[2].message.contains("200"), "{}", rejects[2].message);
    assert!(rejects.iter().all(|r| r.column.is_empty()));
    assert_eq!(
        order_keys(&env),
        vec!["11-11111-11111", "11-11111-11114", "11-11111-11117"]
    );
    assert_eq!(
        env.rows("SELECT CAST(source_line AS TEXT) FROM orders ORDER BY source_line"),
        vec![vec![t("2")], vec![t("5")], vec![t("7")]]
    );
}

fn encoding_body() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(MINI_HEADER.as_bytes());
    body.extend_from_slice(b"\n1,11-11111-11111,Zo\xc3\xab M\xc3\xbcller,ann@example.com,111111111111,1,$1.00,$1.00,Mar-15-24\n");
    body.extend_from_slice(
        b"2,11-11111-11112,B\xff\xfeb,bob@example.com,111111111112,1,$1.00,$1.00,Mar-15-24\n",
    );
    body.extend_from_slice(
        "3,11-11111-11113,José Ñúñez,cy@example.com,111111111113,1,$1.00,$1.00,Mar-15-24\n"
            .as_bytes(),
    );
    body
}

fn assert_one_invalid_encoding_reject(env: &Env, file: &str) {
    let run = env.import("demo", &["--rejects", "out.csv", file]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(s(&j, "encoding"), "UTF-8");
    assert_eq!(s(&j, "status"), "partially_failed");
    assert_counts(&j, 3, 2, 0, 0, 1);
    assert_eq!(codes(&j), code_map(&[("invalid_encoding", 1)]));
    let rejects = parse_rejects(&env.read("out.csv"));
    assert_eq!(line_codes(&rejects), vec![(3, "invalid_encoding")]);
    assert_eq!(
        env.rows("SELECT order_key, buyer_name FROM orders ORDER BY order_key"),
        vec![
            vec![t("11-11111-11111"), t("Zoë Müller")],
            vec![t("11-11111-11113"), t("José Ñúñez")],
        ]
    );
}

#[test]
fn invalid_utf8_bytes_reject_one_record_of_a_utf8_file_with_bom() {
    let env = Env::new();
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(encoding_body());
    let file = env.write("bom.csv", bytes);
    assert_one_invalid_encoding_reject(&env, &file);
}

#[test]
fn invalid_utf8_bytes_reject_one_record_of_a_utf8_file_without_bom() {
    let env = Env::new();
    let file = env.write("nobom.csv", encoding_body());
    assert_one_invalid_encoding_reject(&env, &file);
}

#[test]
fn a_record_over_the_default_limit_is_dropped_and_the_lines_after_it_stay_exact() {
    let env = Env::new();
    let header = "Sales Record Number,Order Number,Buyer Name,Buyer Note,Item Number,Quantity,Sold For,Total Price,Sale Date";
    let row = |i: u32, note: &str| {
        format!("{i},11-11111-1111{i},N{i},{note},11111111111{i},1,$1.00,$1.00,Mar-15-24\n")
    };
    let mut text = format!("{header}\n");
    text.push_str(&row(1, ""));
    text.push_str(&row(2, &format!("\"{}\"", "x".repeat(1_500_000))));
    text.push_str(&row(3, ""));
    text.push_str("4,11-11111-11114,Di\n");
    text.push_str(&row(5, ""));
    let file = env.write("big.csv", text);
    let run = env.import("demo", &["--rejects", "out.csv", &file]);
    run.expect_code(0);
    let j = run.json();
    assert_counts(&j, 5, 3, 0, 0, 2);
    let rejects = parse_rejects(&env.read("out.csv"));
    assert_eq!(
        line_codes(&rejects),
        vec![(3, "line_too_long"), (5, "missing_columns")]
    );
    assert_eq!(
        env.rows("SELECT order_key, CAST(source_line AS TEXT) FROM orders ORDER BY order_key"),
        vec![
            vec![t("11-11111-11111"), t("2")],
            vec![t("11-11111-11113"), t("4")],
            vec![t("11-11111-11115"), t("6")],
        ]
    );
}

// --- 6. physical line numbers ----------------------------------------------------------------

#[test]
fn rejects_report_the_physical_start_line_with_crlf_quoted_newlines_and_blank_lines() {
    let env = Env::new();
    let text = concat!(
        "Sales Record Number,Order Number,Buyer Name,Buyer Note,Item Number,Quantity,Sold For,Total Price,Sale Date\r\n", // 1
        "1,11-11111-11111,Ann,\"line one\nline two\",111111111111,1,$1.00,$1.00,Mar-15-24\r\n", // 2-3
        "\r\n", // 4
        "2,11-11111-11112,Bob,\"a\r\nb\r\nc\",111111111112,0,$1.00,$1.00,Mar-15-24\r\n", // 5-7
        "\r\n", // 8
        "\r\n", // 9
        "3,11-11111-11113,Cy,\"x\ny\",111111111113,1,$1.00,$1.00,Feb-30-24\r\n", // 10-11
        "4,11-11111-11114,Di,,111111111114,1,$1.00,$1.00,Mar-15-24\r\n", // 12
        "5,11-11111-11115,Ed,\"p\r\nq\",111111111115,1\r\n", // 13-14
        "\r\n", // 15
        "6,11-11111-11116,Fay,\"r\r\ns\",111111111116,1,$1.00,$1.00,Mar-15-24\r\n", // 16-17
        "7,11-11111-11117,Gus,,111111111117,1,$1.00,$1.00,Mar-15-24\r\n", // 18
    );
    let file = env.write("lines.csv", text);
    let run = env.import("demo", &["--rejects", "out.csv", &file]);
    run.expect_code(0);
    let j = run.json();
    assert_counts(&j, 7, 4, 0, 0, 3);
    assert_eq!(u(&j, "skipped"), 4, "blank lines 4, 8, 9 and 15: {j}");
    let rejects = parse_rejects(&env.read("out.csv"));
    assert_eq!(
        rejects
            .iter()
            .map(|r| (r.line, r.record, r.code.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (5, 3, "out_of_range"),
            (10, 4, "invalid_date"),
            (13, 6, "missing_columns"),
        ]
    );
    assert_eq!(
        env.rows(
            "SELECT order_key, buyer_note, CAST(source_line AS TEXT) FROM orders ORDER BY order_key"
        ),
        vec![
            vec![t("11-11111-11111"), t("line one\nline two"), t("2")],
            vec![t("11-11111-11114"), None, t("12")],
            vec![t("11-11111-11116"), t("r\r\ns"), t("16")],
            vec![t("11-11111-11117"), None, t("18")],
        ]
    );
}

// --- 7. a generated report with injected faults ----------------------------------------------

/// Generates a report with `opts` into the test's directory, imports it and checks that every
/// injected fault, and nothing else, is rejected at its exact line with its code.
fn check_generated_faults(opts: &OrdersReportOptions) {
    for env in Env::each_store("generated") {
        check_generated_faults_in(&env, opts);
    }
}

fn check_generated_faults_in(env: &Env, opts: &OrdersReportOptions) {
    let report = env.generate_orders("generated.csv", opts);
    assert_eq!(report.data_records, opts.rows);
    let every = opts.fault_every.expect("faults are injected");
    assert_eq!(report.faults.len() as u64, opts.rows / every);

    let run = env.import("demo", &["--rejects", "out.csv", "generated.csv"]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(s(&j, "status"), "partially_failed");
    assert_eq!(u(&j, "rows_read"), report.data_records);
    assert_reconciles(&j);
    assert_eq!(u(&j, "rejected"), report.faults.len() as u64);
    assert_eq!(u(&j, "updated"), 0);
    assert_eq!(u(&j, "unchanged"), 0);
    if opts.framing {
        assert_eq!(u(&j, "skipped"), 5);
        assert_eq!(u(&j, "footer.record_count"), report.orders);
        assert_eq!(s(&j, "footer.seller_id"), opts.seller_id);
    }

    let mut expected_codes: BTreeMap<String, u64> = BTreeMap::new();
    for f in &report.faults {
        *expected_codes.entry(f.code.to_string()).or_default() += 1;
    }
    assert_eq!(codes(&j), expected_codes);

    let rejects = parse_rejects(&env.read("out.csv"));
    let got: BTreeSet<(u64, String, String)> = rejects
        .iter()
        .map(|r| (r.line, r.code.clone(), r.column.clone()))
        .collect();
    let want: BTreeSet<(u64, String, String)> = report
        .faults
        .iter()
        .map(|f| {
            (
                f.line,
                f.code.to_string(),
                f.column.unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(rejects.len(), report.faults.len(), "one reject per fault");
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "faults not reported: {missing:?}\nrejects that are no fault: {extra:?}"
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM import_rejects"),
        report.faults.len() as i64
    );
    let stored_rows =
        env.count("SELECT (SELECT COUNT(*) FROM orders) + (SELECT COUNT(*) FROM order_items)");
    assert_eq!(
        stored_rows as u64,
        u(&j, "tables.orders.inserted") + u(&j, "tables.order_items.inserted")
    );
}

#[test]
fn generated_report_faults_are_all_rejected_at_their_exact_lines_with_their_codes() {
    check_generated_faults(&OrdersReportOptions {
        rows: 5000,
        fault_every: Some(97),
        ..OrdersReportOptions::default()
    });
}

/// The eBay.de dialect: `;`, German names, `12,50 €`, `15-Mär-24`, `Ja`/`Nein`.
#[test]
fn generated_german_report_faults_are_rejected_at_their_exact_lines_with_their_codes() {
    check_generated_faults(&OrdersReportOptions {
        rows: 3000,
        seed: 11,
        fault_every: Some(89),
        layout: OrdersLayout::De,
        ..OrdersReportOptions::default()
    });
}

/// Several 1 MiB chunks, LF line ends, no BOM, many quoted newlines and multi-item orders.
#[test]
fn generated_report_faults_keep_exact_lines_across_chunks_and_quoted_newlines() {
    check_generated_faults(&OrdersReportOptions {
        rows: 20_000,
        seed: 7,
        crlf: false,
        bom: false,
        multi_item_share: 0.3,
        quoted_newline_share: 0.2,
        fault_every: Some(13),
        ..OrdersReportOptions::default()
    });
}

// --- 8. atomicity ----------------------------------------------------------------------------

#[test]
fn a_failed_write_rolls_back_every_row_and_reject_of_the_job() {
    for env in Env::each_store("a_failed_write_rolls") {
        let file = env.copy_sample();
        env.import("demo", &[file]).expect_code(0);
        let trigger = if env.is_postgres() {
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.item_number = '323456789012' THEN RAISE EXCEPTION 'simulated disk failure'; \
             END IF; RETURN NEW; END $$; \
             CREATE TRIGGER boom BEFORE INSERT ON order_items FOR EACH ROW EXECUTE FUNCTION boom();"
        } else {
            "CREATE TRIGGER boom BEFORE INSERT ON order_items WHEN NEW.item_number = '323456789012' \
             BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END;"
        };
        env.exec(&[trigger, "DELETE FROM order_items", "DELETE FROM orders"]);

        let run = env.import("demo", &[file]);
        run.expect_code(1);
        let j = run.json();
        assert_eq!(s(&j, "status"), "failed");
        let error = s(&j, "error");
        assert!(error.contains("simulated disk failure"), "error: {error}");
        let failed_job = s(&j, "job_id").to_string();
        assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 0);
        assert_eq!(env.count("SELECT COUNT(*) FROM order_items"), 0);
        assert_eq!(
            env.count(&format!(
                "SELECT COUNT(*) FROM import_rejects WHERE job_id = '{failed_job}'"
            )),
            0
        );

        // The same with a reject written before the failure: it goes too.
        let text = String::from_utf8(sample_bytes()).expect("UTF-8");
        assert_eq!(text.matches("$12.50").count(), 1);
        let with_reject = env.write("with-reject.csv", text.replace("$12.50", "$12.3.4"));
        let run = env.import("demo", &["--rejects", "out.csv", &with_reject]);
        run.expect_code(1);
        let j2 = run.json();
        assert_eq!(s(&j2, "status"), "failed");
        assert!(s(&j2, "error").contains("simulated disk failure"), "{j2}");
        let failed_job2 = s(&j2, "job_id").to_string();
        assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 0);
        assert_eq!(env.count("SELECT COUNT(*) FROM order_items"), 0);
        assert_eq!(env.count("SELECT COUNT(*) FROM import_rejects"), 0);

        let list = env.run(&["jobs", "list", "--json"]);
        list.expect_code(0);
        let jobs = list.json_lines();
        assert_eq!(jobs.len(), 3);
        let status_of = |id: &str| {
            jobs.iter()
                .find(|job| job["id"] == id)
                .unwrap_or_else(|| panic!("job {id} listed"))
                .clone()
        };
        for id in [&failed_job, &failed_job2] {
            let job = status_of(id);
            assert_eq!(s(&job, "status"), "failed");
            assert!(s(&job, "error").contains("simulated disk failure"), "{job}");
        }
        assert_eq!(s(&jobs[0], "status"), "completed");
        if !env.is_postgres() {
            // The failed loads into the emptied table had dropped the buyer index to build
            // it at the end; their rollback brought it back.
            assert_eq!(buyer_index(&env), BUYER_INDEX);
        }
    }
}

#[test]
fn a_sqlite_import_waits_for_another_writer_as_long_as_it_writes() {
    use sqlx::Connection;
    let env = Env::new();
    let file = env.copy_sample();
    env.import("first", &[file]).expect_code(0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // Another process's long write: a transaction holding SQLite's write lock.
    let mut holder = rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&env.db_url())
            .await
            .expect("connect");
        sqlx::raw_sql("BEGIN IMMEDIATE; DELETE FROM import_rejects WHERE 0")
            .execute(&mut c)
            .await
            .expect("take the write lock");
        c
    });
    let mut child = env.spawn(&["import", "--account", "second", "--json", file]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        child.try_wait().expect("poll the import").is_none(),
        "the import waits while the lock is held"
    );
    rt.block_on(async {
        sqlx::raw_sql("COMMIT")
            .execute(&mut holder)
            .await
            .expect("release the write lock")
    });
    let out = child.wait_with_output().expect("wait for the import");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("waiting for another process to finish writing to")
            && stderr.contains("t.db (SQLite takes one writer at a time)"),
        "{stderr}"
    );
    let j: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(s(&j, "status"), "completed");
    assert_eq!(u(&j, "tables.orders.inserted"), 3);
}

/// The SQLite definition of the orders index that the customers refresh reads.
const BUYER_INDEX: &str =
    "CREATE INDEX orders_buyer ON orders (buyer_username, account_id, sale_date, order_key)";

fn buyer_index(env: &Env) -> String {
    let rows = env.rows("SELECT sql FROM sqlite_schema WHERE name = 'orders_buyer'");
    assert_eq!(rows.len(), 1, "the orders_buyer index exists");
    rows[0][0].clone().expect("an index has its SQL")
}

#[test]
fn a_big_sqlite_load_builds_the_buyer_index_at_the_end_and_refreshes_the_same_customers() {
    let env = Env::new();
    env.generate_orders(
        "big.csv",
        &OrdersReportOptions {
            rows: 3000,
            ..OrdersReportOptions::default()
        },
    );
    // From a file into an empty table: a big load, which builds the index at the end, in
    // each of its parts.
    let big = env.import("big", &["big.csv"]);
    big.expect_code(0);
    assert_eq!(buyer_index(&env), BUYER_INDEX);
    let parts = env.import("parts", &["--commit-every", "700", "big.csv"]);
    parts.expect_code(0);
    assert_eq!(buyer_index(&env), BUYER_INDEX);
    // From stdin the size is unknown: the index takes each entry as it comes.
    let bytes = std::fs::read(env.path("big.csv")).expect("read big.csv");
    let piped = env.run_stdin(&["import", "--account", "piped", "--json", "-"], &bytes);
    piped.expect_code(0);
    assert_eq!(buyer_index(&env), BUYER_INDEX);

    let customers = |run: &Run| {
        let account = s(&run.json(), "account_id").to_string();
        env.rows(&format!(
            "SELECT username, name, email, phone, address_1, city, zip, country, ship_to_name, \
             ship_to_address_1, CAST(first_order_date AS TEXT), CAST(last_order_date AS TEXT), \
             CAST(order_count AS TEXT), CAST(row_hash AS TEXT) FROM customers \
             WHERE account_id = '{account}' ORDER BY username"
        ))
    };
    let expected = customers(&piped);
    assert!(expected.len() > 100, "{} customers", expected.len());
    assert_eq!(customers(&big), expected);
    assert_eq!(customers(&parts), expected);
    for run in [&big, &parts] {
        assert_eq!(
            run.json()["tables"]["customers"],
            piped.json()["tables"]["customers"]
        );
    }
}

#[test]
fn a_killed_import_leaves_no_rows_and_its_job_is_shown_interrupted() {
    for env in Env::each_store("killed") {
        env.generate_orders(
            "big.csv",
            &OrdersReportOptions {
                rows: 60_000,
                ..OrdersReportOptions::default()
            },
        );
        let mut child = env.spawn(&["import", "--account", "demo", "--json", "big.csv"]);
        let started = std::time::Instant::now();
        while env.try_count("SELECT COUNT(*) FROM import_jobs WHERE status = 'processing'")
            != Some(1)
        {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "the import never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        child.kill().expect("SIGKILL the import");
        child.wait().expect("reap the import");
        wait_for_sessions_gone(&env);

        // The next command finds the job's process gone.
        let list = env.run(&["jobs", "list", "--json"]);
        list.expect_code(0);
        let jobs = list.json_lines();
        assert_eq!(jobs.len(), 1, "{}", env.store_name());
        assert_eq!(s(&jobs[0], "status"), "interrupted", "{}", env.store_name());
        assert!(
            s(&jobs[0], "error").contains("ended before finishing"),
            "{}",
            jobs[0]
        );
        assert_eq!(
            env.count("SELECT COUNT(*) FROM orders"),
            0,
            "{}",
            env.store_name()
        );
        assert_eq!(env.count("SELECT COUNT(*) FROM order_items"), 0);
        // An import afterwards runs normally.
        env.import("demo", &["big.csv"]).expect_code(0);
    }
}

#[test]
fn commit_every_commits_as_it_goes_and_resume_finishes_a_killed_job_exactly() {
    for env in Env::each_store("resume") {
        env.generate_orders(
            "big.csv",
            &OrdersReportOptions {
                rows: 100_000,
                fault_every: Some(97),
                ..OrdersReportOptions::default()
            },
        );
        // The same file in one transaction, into another account: what the resumed job must
        // end up with.
        let reference = env.import("reference", &["big.csv"]);
        let r = reference.json();

        let mut child = env.spawn(&[
            "import",
            "--account",
            "demo",
            "--json",
            "--commit-every",
            "2000",
            "big.csv",
        ]);
        let started = std::time::Instant::now();
        while env.try_count(
            "SELECT COUNT(*) FROM import_jobs WHERE status = 'processing' \
             AND resume_cursor IS NOT NULL",
        ) != Some(1)
        {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "{}: no commit seen",
                env.store_name()
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.kill().expect("SIGKILL the import");
        child.wait().expect("reap the import");
        wait_for_sessions_gone(&env);
        let list = env.run(&["jobs", "list", "--account", "demo", "--json"]);
        list.expect_code(0);
        let job = list.json_lines()[0].clone();
        assert_eq!(s(&job, "status"), "interrupted", "{}", env.store_name());
        let job_id = s(&job, "id").to_string();
        let demo = s(&job, "account_id").to_string();
        let reference_account = s(&r, "account_id").to_string();
        let committed = env.count(&format!(
            "SELECT COUNT(*) FROM orders WHERE account_id = '{demo}'"
        ));
        assert!(
            committed > 0 && (committed as u64) < u(&r, "tables.orders.inserted"),
            "{}: a part was committed: {committed}",
            env.store_name()
        );

        let resumed = env.run(&["resume", &job_id, "--json"]);
        resumed.expect_code(0);
        let j = resumed.json();
        assert_eq!(s(&j, "job_id"), job_id);
        assert_same_outcome(&j, &r, env.store_name());
        assert_eq!(j["footer"], r["footer"], "{}", env.store_name());
        let rows = |account: &str| {
            env.rows(&format!(
                "SELECT order_key, CAST(total_price AS TEXT), CAST(source_line AS TEXT) \
                 FROM orders WHERE account_id = '{account}' ORDER BY order_key"
            ))
        };
        assert!(
            rows(&demo) == rows(&reference_account),
            "{}: the same orders",
            env.store_name()
        );
        let items = |account: &str| {
            env.count(&format!(
                "SELECT COUNT(*) FROM order_items WHERE account_id = '{account}'"
            ))
        };
        assert_eq!(items(&demo), items(&reference_account));
        // Every reject once: none of the committed part's rejects came again.
        assert_eq!(
            env.count(&format!(
                "SELECT COUNT(*) FROM import_rejects WHERE job_id = '{job_id}'"
            )) as u64,
            u(&r, "rejected")
        );
        env.run(&["resume", &job_id]).expect_code(2);
    }
}

// --- 9. dry run ------------------------------------------------------------------------------

#[test]
fn dry_run_reports_counts_and_creates_no_database() {
    let env = Env::new();
    let file = env.copy_sample();
    let run = env.import("demo", &["--dry-run", file]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(j["dry_run"], Value::Bool(true));
    assert_eq!(s(&j, "status"), "completed");
    assert_counts(&j, 5, 5, 0, 0, 0);
    assert_eq!(u(&j, "skipped"), 5);
    assert_eq!(u(&j, "tables.orders.inserted"), 3);
    assert_eq!(u(&j, "tables.order_items.inserted"), 4);
    assert_eq!(u(&j, "footer.record_count"), 3);
    assert!(!env.db_path().exists(), "the database file was created");
    assert!(
        !has_file_starting_with(env.dir.path(), "t.db"),
        "no database side files either"
    );

    // Rejects are still reported.
    let bad = one_reject_file(&env);
    let run = env.import("demo", &["--dry-run", "--rejects", "out.csv", &bad]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(s(&j, "status"), "partially_failed");
    assert_counts(&j, 2, 1, 0, 0, 1);
    assert_eq!(
        line_codes(&parse_rejects(&env.read("out.csv"))),
        vec![(3, "out_of_range")]
    );
    assert!(!env.db_path().exists(), "the database file was created");
}

// --- 10. exit codes --------------------------------------------------------------------------

#[test]
fn usage_errors_exit_with_2() {
    let env = Env::new();
    let file = env.copy_sample();

    let run = env.run(&["import", "--account", "demo", "nosuch.csv"]);
    run.expect_code(2);
    assert!(run.stderr.contains("nosuch.csv"), "{}", run.stderr);

    let run = env.run(&["import", "--account", "Bad Slug!", file]);
    run.expect_code(2);
    assert!(run.stderr.contains("Bad Slug!"), "{}", run.stderr);

    let run = env.run(&["import", "--account", "demo", "--type", "nosuch", file]);
    run.expect_code(2);
    assert!(run.stderr.contains("nosuch"), "{}", run.stderr);

    let run = env.run(&["import", "--account", "demo", "--delimiter", "ab", file]);
    run.expect_code(2);
    assert!(run.stderr.contains("--delimiter"), "{}", run.stderr);

    // None of these imported anything.
    if env.db_path().exists() {
        assert_eq!(env.count("SELECT COUNT(*) FROM import_jobs"), 0);
        assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 0);
    }
}

fn one_reject_file(env: &Env) -> String {
    env.write(
        "one-reject.csv",
        mini(&[
            "1,11-11111-11111,Ann,ann@example.com,111111111111,1,$1.00,$1.00,Mar-15-24",
            "2,11-11111-11112,Bob,bob@example.com,111111111112,0,$1.00,$1.00,Mar-15-24",
        ]),
    )
}

fn missing_required_file(env: &Env) -> String {
    env.write(
        "no-required.csv",
        "Order Number,Buyer Name,Something\n11-11111-11111,Ann,x\n",
    )
}

#[test]
fn max_rejects_exits_with_3_only_when_exceeded() {
    let env = Env::new();
    let file = one_reject_file(&env);
    let run = env.import("demo", &["--max-rejects", "0", &file]);
    run.expect_code(3);
    let j = run.json();
    assert_eq!(s(&j, "status"), "partially_failed");
    assert_counts(&j, 2, 1, 0, 0, 1);

    let run = env.import("demo", &["--max-rejects", "1", &file]);
    run.expect_code(0);
    assert_counts(&run.json(), 2, 0, 0, 1, 1);
}

#[test]
fn a_header_without_required_columns_fails_the_job_with_exit_1() {
    let env = Env::new();
    let file = missing_required_file(&env);
    let run = env.import("demo", &[&file]);
    run.expect_code(1);
    let j = run.json();
    assert_eq!(s(&j, "status"), "failed");
    let error = s(&j, "error");
    assert!(
        error.contains("total_price") && error.contains("sale_date"),
        "names the missing columns: {error}"
    );
    assert!(
        error.contains("Order Number")
            && error.contains("Buyer Name")
            && error.contains("Something"),
        "names the found columns: {error}"
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 0);
    let list = env.run(&["jobs", "list", "--account", "demo", "--json"]);
    list.expect_code(0);
    let jobs = list.json_lines();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["id"], j["job_id"]);
    assert_eq!(s(&jobs[0], "status"), "failed");
    assert_eq!(s(&jobs[0], "error"), error);
}

#[test]
fn several_files_exit_with_the_worst_code() {
    let env = Env::new();
    let sample = env.copy_sample();
    let rejects = one_reject_file(&env);
    let failing = missing_required_file(&env);

    let run = env.import("demo", &[sample, sample]);
    run.expect_code(0);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 2);
    assert_counts(&lines[0], 5, 5, 0, 0, 0);
    assert_counts(&lines[1], 5, 0, 0, 5, 0);

    let run = env.import("demo", &["--max-rejects", "0", sample, &rejects, sample]);
    run.expect_code(3);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines.iter().map(|l| s(l, "file")).collect::<Vec<_>>(),
        vec![sample, rejects.as_str(), sample]
    );
    assert_eq!(u(&lines[1], "rejected"), 1);

    let run = env.import("demo", &["--max-rejects", "0", &failing, &rejects, sample]);
    run.expect_code(1);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines.iter().map(|l| s(l, "status")).collect::<Vec<_>>(),
        vec!["failed", "partially_failed", "completed"]
    );

    let run = env.import("demo", &[&rejects, &failing]);
    run.expect_code(1);
    assert_eq!(run.json_lines().len(), 2);
}

#[test]
fn stdin_dash_imports_the_sample() {
    let env = Env::new();
    let run = env.run_stdin(
        &["import", "--account", "demo", "--json", "-"],
        &sample_bytes(),
    );
    run.expect_code(0);
    let j = run.json();
    assert_eq!(s(&j, "file"), "-");
    assert_eq!(s(&j, "status"), "completed");
    assert_counts(&j, 5, 5, 0, 0, 0);
    assert_eq!(u(&j, "tables.orders.inserted"), 3);
    assert_eq!(u(&j, "tables.order_items.inserted"), 4);
    assert_eq!(u(&j, "file_size"), sample_bytes().len() as u64);
    assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 3);

    // The same bytes from the file: same digest, and nothing new.
    let file = env.copy_sample();
    let run = env.import("demo", &[file]);
    run.expect_code(0);
    let k = run.json();
    assert_eq!(s(&k, "file_sha256"), s(&j, "file_sha256"));
    assert_counts(&k, 5, 0, 0, 5, 0);
}

// --- 11. jobs --------------------------------------------------------------------------------

/// The shortest prefix (at least 8 characters) of `id` that no other id starts with.
fn unique_prefix<'a>(id: &'a str, all: &[String]) -> &'a str {
    (8..id.len())
        .map(|n| &id[..n])
        .find(|p| all.iter().filter(|other| other.starts_with(p)).count() == 1)
        .unwrap_or(id)
}

#[test]
fn jobs_list_show_and_errors() {
    let env = Env::new();
    let sample = env.copy_sample();
    let first = env.import("demo", &[sample]);
    first.expect_code(0);
    let file = one_reject_file(&env);
    let second = env.import("demo", &["--rejects", "import-rejects.csv", &file]);
    second.expect_code(0);
    env.import("other", &[sample]).expect_code(0);
    let id1 = s(&first.json(), "job_id").to_string();
    let id2 = s(&second.json(), "job_id").to_string();

    let list = env.run(&["jobs", "list", "--account", "demo", "--json"]);
    list.expect_code(0);
    let jobs = list.json_lines();
    assert_eq!(list.stdout.lines().count(), 2, "one JSON object per line");
    assert_eq!(
        jobs.iter()
            .map(|j| s(j, "id").to_string())
            .collect::<Vec<_>>(),
        vec![id1.clone(), id2.clone()],
        "the account's jobs, oldest first"
    );
    assert_eq!(s(&jobs[0], "status"), "completed");
    assert_eq!(s(&jobs[1], "status"), "partially_failed");
    assert_eq!(u(&jobs[1], "rejected"), 1);
    let all = env.run(&["jobs", "list", "--json"]);
    all.expect_code(0);
    let all_ids: Vec<String> = all
        .json_lines()
        .iter()
        .map(|j| s(j, "id").to_string())
        .collect();
    assert_eq!(all_ids.len(), 3);
    let nobody = env.run(&["jobs", "list", "--account", "nobody", "--json"]);
    nobody.expect_code(0);
    assert_eq!(nobody.stdout.trim(), "");

    let prefix = unique_prefix(&id2, &all_ids);
    assert!(prefix.len() < id2.len());
    let show = env.run(&["jobs", "show", prefix, "--json"]);
    show.expect_code(0);
    let job = show.json_doc();
    assert_eq!(s(&job, "id"), id2);
    assert_eq!(s(&job, "status"), "partially_failed");
    assert_eq!(s(&job, "file_name"), file);
    assert_eq!(u(&job, "rows_read"), 2);
    assert_eq!(u(&job, "inserted"), 1);
    assert_eq!(u(&job, "rejected"), 1);
    assert_eq!(codes(&job), code_map(&[("out_of_range", 1)]));
    assert_eq!(u(&job, "tables.orders.inserted"), 1);

    let missing = env.run(&["jobs", "show", "ffffffff-0000", "--json"]);
    missing.expect_code(1);

    // CSV on stdout: the same report the import wrote.
    let csv = env.run(&["jobs", "errors", &id2, "--format", "csv"]);
    csv.expect_code(0);
    assert_eq!(csv.stdout, env.read("import-rejects.csv"));
    let rows = parse_rejects(&csv.stdout);
    assert_eq!(
        rows,
        vec![RejectRow {
            line: 3,
            record: 3,
            column: "quantity".into(),
            code: "out_of_range".into(),
            message: rows[0].message.clone(),
            value: "0".into(),
        }]
    );

    // JSON to a file.
    let json = env.run(&[
        "jobs",
        "errors",
        prefix,
        "--format",
        "json",
        "--out",
        "errors.json",
    ]);
    json.expect_code(0);
    assert_eq!(json.stdout, "");
    let doc: Value = serde_json::from_str(&env.read("errors.json")).expect("errors.json is JSON");
    let arr = doc.as_array().expect("an array of rejects");
    assert_eq!(arr.len(), 1);
    assert_eq!(u(&arr[0], "line"), 3);
    assert_eq!(u(&arr[0], "record"), 3);
    assert_eq!(s(&arr[0], "column"), "quantity");
    assert_eq!(s(&arr[0], "code"), "out_of_range");
    assert_eq!(s(&arr[0], "value"), "0");
    assert_eq!(s(&arr[0], "message"), rows[0].message);

    // A job without rejects: just the header.
    let none = env.run(&["jobs", "errors", &id1, "--format", "csv"]);
    none.expect_code(0);
    assert_eq!(none.stdout, format!("{REJECTS_HEADER}\n"));
}

// --- 12. accounts ----------------------------------------------------------------------------

#[test]
fn accounts_are_isolated() {
    for env in Env::each_store("accounts_are_isolate") {
        let file = env.copy_sample();
        let a = env.import("a", &[file]);
        a.expect_code(0);
        let b = env.import("b", &[file]);
        b.expect_code(0);
        let (ja, jb) = (a.json(), b.json());
        assert_counts(&ja, 5, 5, 0, 0, 0);
        assert_counts(&jb, 5, 5, 0, 0, 0);
        let (acc_a, acc_b) = (s(&ja, "account_id"), s(&jb, "account_id"));
        assert_ne!(acc_a, acc_b);

        let again = env.import("a", &[file]);
        again.expect_code(0);
        let jr = again.json();
        assert_counts(&jr, 5, 0, 0, 5, 0);
        assert_eq!(s(&jr, "account_id"), acc_a);

        let mut want = vec![
            vec![t(acc_a), t("a"), t("3"), t("4")],
            vec![t(acc_b), t("b"), t("3"), t("4")],
        ];
        want.sort();
        assert_eq!(
            env.rows(
                "SELECT CAST(a.id AS TEXT), a.slug, \
             CAST((SELECT COUNT(*) FROM orders o WHERE o.account_id = a.id) AS TEXT), \
             CAST((SELECT COUNT(*) FROM order_items i WHERE i.account_id = a.id) AS TEXT) \
             FROM accounts a ORDER BY CAST(a.id AS TEXT)"
            ),
            want
        );
        assert_eq!(
            env.count(
                "SELECT COUNT(DISTINCT account_id) FROM orders WHERE order_key = '98-76543-21098'"
            ),
            2
        );
        let list_a = env.run(&["jobs", "list", "--account", "a", "--json"]);
        list_a.expect_code(0);
        assert_eq!(list_a.json_lines().len(), 2);
        let list_b = env.run(&["jobs", "list", "--account", "b", "--json"]);
        list_b.expect_code(0);
        assert_eq!(list_b.json_lines().len(), 1);
    }
}

// --- 13. unknown columns ---------------------------------------------------------------------

#[test]
fn unknown_columns_are_named_in_a_warning_and_the_import_completes() {
    let env = Env::new();
    let file = env.write(
        "foo.csv",
        "Sales Record Number,Order Number,Buyer Name,Foo,Total Price,Sale Date\n\
         1,11-11111-11111,Ann,bar,$1.00,Mar-15-24\n",
    );
    let run = env.import("demo", &[&file]);
    run.expect_code(0);
    let j = run.json();
    assert_eq!(s(&j, "status"), "completed");
    assert_counts(&j, 1, 1, 0, 0, 0);
    let warnings = j["warnings"].as_array().expect("warnings array");
    assert_eq!(warnings.len(), 1, "{j}");
    assert!(
        warnings[0].as_str().expect("a string").contains("Foo"),
        "{warnings:?}"
    );
    assert_eq!(order_keys(&env), vec!["11-11111-11111"]);
}

// --- 14. type detection ----------------------------------------------------------------------

#[test]
fn a_header_of_no_import_type_fails_with_exit_1() {
    let env = Env::new();
    let file = env.write("abc.csv", "a,b,c\n1,2,3\n");
    let run = env.import("demo", &[&file]);
    run.expect_code(1);
    let j = run.json();
    assert_eq!(s(&j, "status"), "failed");
    assert!(
        s(&j, "error").contains("matches no import type"),
        "{}",
        s(&j, "error")
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 0);
}
