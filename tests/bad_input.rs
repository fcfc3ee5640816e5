//! Bad input through the binary: a forced type the header is not, a site nothing names,
//! duplicate and unnamed columns, amounts in mixed currencies, and file text that would
//! reach the terminal raw or unbounded. None of it panics or disappears silently: a job fails
//! naming what to do, a value is rejected at its line and column, or a warning says so.

mod common;

use common::*;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/");

/// Copies `data/<name>` into the test's directory and returns its relative path.
fn data_file(env: &Env, name: &str) -> String {
    let bytes = std::fs::read(format!("{DATA}{name}")).expect("read a data file");
    env.write(&format!("data/{name}"), bytes)
}

fn warnings(j: &Value) -> Vec<&str> {
    j["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("warnings is not an array in {j}"))
        .iter()
        .map(|w| w.as_str().expect("a warning is a string"))
        .collect()
}

/// The one warning that contains `needle`.
fn warning<'a>(j: &'a Value, needle: &str) -> &'a str {
    let found: Vec<&str> = warnings(j)
        .into_iter()
        .filter(|w| w.contains(needle))
        .collect();
    assert_eq!(found.len(), 1, "one warning with {needle:?} in {j}");
    found[0]
}

/// Text with a character a terminal acts on (ESC, CR, NUL, other controls, bidi overrides)
/// other than the line breaks between lines.
fn has_hidden_controls(text: &str) -> bool {
    text.chars().any(|c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

// --- a forced type the header is not ----------------------------------------------------------

#[test]
fn a_forced_type_that_does_not_fit_the_header_fails_the_job_naming_the_type_it_looks_like() {
    for env in Env::each_store("forced_type_misfit") {
        let file = data_file(&env, "orders-report-us.csv");
        let run = env.import("demo", &["--type", "listings", &file]);
        run.expect_code(1);
        let j = run.json();
        assert_eq!(s(&j, "status"), "failed", "{j}");
        assert_eq!(
            s(&j, "error"),
            "the header is not a listings header: listings takes 5 of its 82 columns (Item \
             Number, Item Title, Custom Label, Quantity, Variation Details), orders takes 82; \
             it looks like an orders header: drop --type or use --type orders; nothing of it \
             was stored",
            "{}",
            env.store_name()
        );
        assert_eq!(env.count("SELECT COUNT(*) FROM listings"), 0);
        assert_eq!(env.count("SELECT COUNT(*) FROM products"), 0);
        // The type it names is the right one.
        env.import("demo", &["--type", "orders", &file])
            .expect_code(0);
        assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 3);
    }
}

#[test]
fn missing_columns_of_a_forced_type_name_the_type_the_header_looks_like() {
    let env = Env::new();
    let file = data_file(&env, "listings-active-us.csv");
    let run = env.import("demo", &["--dry-run", "--type", "products", &file]);
    run.expect_code(1);
    let error = s(&run.json(), "error").to_string();
    assert!(
        error.starts_with("required columns are missing: sku; the header has: Item number, "),
        "{error}"
    );
    assert!(
        error.ends_with(
            "and 20 more; it looks like a listings header: drop --type or use --type listings"
        ),
        "{error}"
    );
}

#[test]
fn every_sample_imports_with_its_own_forced_type_and_is_refused_as_another() {
    let env = Env::new();
    let mut names: Vec<String> = std::fs::read_dir(DATA)
        .expect("list data/")
        .map(|e| {
            e.expect("a data entry")
                .file_name()
                .into_string()
                .expect("UTF-8")
        })
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 16, "{names:?}");
    const TYPES: [&str; 4] = ["orders", "listings", "products", "customers"];
    for name in names {
        let own = *TYPES
            .iter()
            .find(|t| name.starts_with(*t))
            .unwrap_or_else(|| panic!("{name}: no type"));
        let file = data_file(&env, &name);
        for ty in TYPES {
            let run = env.import("demo", &["--dry-run", "--type", ty, &file]);
            let j = run.json();
            if ty == own {
                run.expect_code(0);
                assert_eq!(s(&j, "import_type"), ty, "{name}: {j}");
                assert_eq!(u(&j, "rejected"), 0, "{name}: {j}");
            } else {
                run.expect_code(1);
                let hint = format!("drop --type or use --type {own}");
                assert!(s(&j, "error").ends_with(&hint), "{name} as {ty}: {j}");
            }
        }
    }
}

// --- the site a file is read as ---------------------------------------------------------------

const DAY_FIRST: &str = "order_id,buyer_name,order_total,order_date\n\
                         1234567890,Ann,1.00,03/04/2024\n\
                         1234567891,Bob,2.00,15/03/2024\n\
                         1234567892,Cy,3.00,25/12/2024 10:30\n";

#[test]
fn a_canonical_csv_says_its_site_was_assumed_and_which_site_its_dates_fit() {
    for env in Env::each_store("assumed_site") {
        let file = env.write("day-first.csv", DAY_FIRST);
        let run = env.import("demo", &[&file]);
        run.expect_code(0);
        let j = run.json();
        assert_eq!(s(&j, "site"), "US");
        assert_counts(&j, 3, 1, 0, 0, 2);
        assert_eq!(codes(&j), code_map(&[("invalid_date", 2)]));
        assert!(
            warning(&j, "assumed").starts_with(
                "the site US is assumed (no --site, and nothing in the header names a site): \
                 amounts are read with a decimal point ($12.34) and numeric dates month first \
                 (03/04/2024 is 2024-03-04)"
            ),
            "{j}"
        );
        assert_eq!(
            warning(&j, "date_order"),
            "2 numeric date(s) are dates only read day first, such as \"15/03/2024\" at line 3 \
             (sale_date), where the US site reads them month first (03/04/2024 is 2024-03-04), \
             so an import rejects them as invalid_date; the file looks like it comes from a site \
             that writes dates that way: import it with --site UK, AU, DE, FR or IT (code \
             date_order)"
        );
        assert_eq!(u(&j, "warning_codes.date_order.count"), 2, "{j}");
        assert_eq!(u(&j, "warning_codes.date_order.first_line"), 3, "{j}");
        // The site it names reads every date, and nothing is assumed any more.
        let run = env.import("demo", &["--site", "UK", &file]);
        run.expect_code(0);
        let j = run.json();
        assert_counts(&j, 3, 2, 1, 0, 0);
        assert_eq!(j["warnings"], serde_json::json!([]), "{j}");
        assert_eq!(
            env.rows(
                "SELECT order_key, CAST(sale_date AS TEXT), currency FROM orders \
                 ORDER BY order_key"
            ),
            vec![
                vec![t("1234567890"), t("2024-04-03 00:00:00"), t("GBP")],
                vec![t("1234567891"), t("2024-03-15 00:00:00"), t("GBP")],
                vec![t("1234567892"), t("2024-12-25 10:30:00"), t("GBP")],
            ],
            "{}",
            env.store_name()
        );
    }
}

#[test]
fn inspect_says_where_the_site_came_from_and_what_an_import_would_warn() {
    let env = Env::new();
    let file = env.write("day-first.csv", DAY_FIRST);
    let run = env.run(&["inspect", "--json", &file]);
    run.expect_code(0);
    let r = run.json_doc();
    assert_eq!(r["site"], "US");
    assert_eq!(
        r["site_source"],
        "assumed: no --site, and nothing in the header names a site"
    );
    let found = warnings(&r);
    assert_eq!(found.len(), 2, "{r}");
    assert!(found[0].starts_with("the site US is assumed"), "{r}");
    assert!(
        found[1].starts_with("2 numeric date(s) are dates only read day first"),
        "{r}"
    );
    let text = env.run(&["inspect", &file]);
    text.expect_code(0);
    assert!(
        text.stdout
            .contains("site:      US (assumed: no --site, and nothing in the header names a site)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("warning:   2 numeric date(s)"),
        "{}",
        text.stdout
    );
    let uk = data_file(&env, "orders-report-uk.csv");
    let r = env.run(&["inspect", "--json", &uk]).json_doc();
    assert_eq!(
        r["site_source"],
        "the layout: Seller Hub Orders report (UK)"
    );
    assert_eq!(r["warnings"], serde_json::json!([]));
    let forced = env
        .run(&["inspect", "--json", "--site", "DE", &file])
        .json_doc();
    assert_eq!(forced["site_source"], "set with --site");
}

// --- duplicate and unnamed columns ------------------------------------------------------------

const WITH_EMAIL: &str = "Sales Record Number,Order Number,Buyer Username,Buyer Name,Buyer Email,\
                          Total Price,Sale Date\n\
                          1,11-11111-11111,ann_b,Ann,ann@example.com,$1.00,Mar-15-24\n";

#[test]
fn columns_that_map_to_one_field_fail_the_job_and_keep_what_is_stored() {
    for env in Env::each_store("duplicate_columns") {
        let first = env.write("first.csv", WITH_EMAIL);
        env.import("demo", &[&first]).expect_code(0);
        // The same order again, its email in a second Buyer Email column: the first one
        // used to win, storing NULL over the stored email.
        let twice = env.write(
            "twice.csv",
            "Sales Record Number,Order Number,Buyer Username,Buyer Name,Buyer Email,\
             Total Price,Sale Date,Buyer Email\n\
             1,11-11111-11111,ann_b,Ann,,$1.00,Mar-15-24,ann@example.com\n",
        );
        let run = env.import("demo", &[&twice]);
        run.expect_code(1);
        let j = run.json();
        assert_eq!(
            s(&j, "error"),
            "columns 5 (Buyer Email) and 8 (Buyer Email) both map to buyer_email: which of \
             them holds the data cannot be told; remove or rename all but one; nothing of it \
             was stored",
            "{}",
            env.store_name()
        );
        assert_eq!(
            env.rows("SELECT buyer_email FROM orders"),
            vec![vec![t("ann@example.com")]]
        );
        assert_eq!(
            env.rows("SELECT email FROM customers"),
            vec![vec![t("ann@example.com")]]
        );
        // Two spellings of one field are duplicates too.
        let spellings = env.write(
            "spellings.csv",
            "Order Number,Buyer Name,Buyer Email,Total Price,Sale Date,email\n",
        );
        let run = env.import("demo", &[&spellings]);
        run.expect_code(1);
        assert!(
            s(&run.json(), "error")
                .starts_with("columns 3 (Buyer Email) and 6 (email) both map to buyer_email"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn inspect_reports_duplicate_columns_without_failing() {
    let env = Env::new();
    let file = env.write(
        "twice.csv",
        "Order Number,Buyer Name,Buyer Email,Total Price,Sale Date,Buyer Email\n",
    );
    let run = env.run(&["inspect", "--json", &file]);
    run.expect_code(0);
    let r = run.json_doc();
    assert_eq!(r["import_type"], "orders");
    assert!(
        warnings(&r)
            .iter()
            .any(|w| w.starts_with("columns 3 (Buyer Email) and 6 (Buyer Email) both map")),
        "{r}"
    );
}

#[test]
fn an_unnamed_column_with_values_is_a_warning_naming_its_position() {
    let env = Env::new();
    let file = env.write(
        "unnamed.csv",
        "Sales Record Number,Order Number,Buyer Name,,Total Price,Sale Date,\n\
         1,11-11111-11111,Ann,ann@example.com,$1.00,Mar-15-24,\n\
         2,11-11111-11112,Bob,,$2.00,Mar-15-24,\n",
    );
    let run = env.import("demo", &["--dry-run", &file]);
    run.expect_code(0);
    let j = run.json();
    assert_counts(&j, 2, 2, 0, 0, 0);
    // The trailing unnamed column holds nothing: padding, not worth a warning.
    assert_eq!(
        warnings(&j),
        vec![
            "columns without a header name hold values, which are ignored: 4 \
             (\"ann@example.com\" at line 2); give them a name in the header if they are data"
        ]
    );
}

// --- mixed currencies -------------------------------------------------------------------------

#[test]
fn an_amount_in_another_currency_than_its_row_is_rejected_at_its_line_and_column() {
    for env in Env::each_store("mixed_currencies") {
        let file = env.write(
            "mixed.csv",
            "Sales Record Number,Order Number,Buyer Name,Item Number,Sold For,\
             Shipping And Handling,Total Price,Sale Date,Currency\n\
             1,11-11111-11111,Ann,123456789012,£1.00,1.00 GBP,$2.00,Mar-15-24,USD\n\
             2,11-11111-11112,Bob,123456789013,€28.00,$3.00,$34.00,Mar-15-24,\n\
             3,11-11111-11113,Cy,123456789014,$28.00,$3.00,$34.00,Mar-15-24,\n\
             4,11-11111-11114,Di,,,$3.00,$34.00,Mar-15-24,\n\
             4,11-11111-11114,,123456789015,€31.00,,,Mar-15-24,\n",
        );
        let run = env.import("demo", &["--rejects", "rejects.csv", &file]);
        run.expect_code(0);
        let j = run.json();
        assert_counts(&j, 5, 1, 0, 0, 4);
        assert_eq!(
            codes(&j),
            code_map(&[("invalid_money", 4), ("order_incomplete", 1)])
        );
        let rejects = parse_rejects(&env.read("rejects.csv"));
        let got: Vec<(u64, &str, &str, &str)> = rejects
            .iter()
            .map(|r| (r.line, r.column.as_str(), r.code.as_str(), r.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "shipping_and_handling", "invalid_money", "1.00 GBP"),
                (2, "sold_for", "invalid_money", "£1.00"),
                (3, "sold_for", "invalid_money", "€28.00"),
                (5, "", "order_incomplete", ""),
                (6, "sold_for", "invalid_money", "€31.00"),
            ],
            "{}",
            env.store_name()
        );
        assert!(
            rejects[2].message.starts_with(
                "\"€28.00\" is in EUR, but the row's other amounts are in USD: the amounts of \
                 one row are in one currency"
            ),
            "{}",
            rejects[2].message
        );
        assert!(rejects[1]
            .message
            .contains("the row's currency column says USD"));
        assert!(rejects[4]
            .message
            .contains("its order's are in USD (line 5)"));
        assert_eq!(
            env.rows("SELECT order_key, CAST(total_price AS TEXT), currency FROM orders"),
            vec![vec![t("11-11111-11113"), t("34.00"), t("USD")]]
        );
    }
}

#[test]
fn every_type_rejects_amounts_in_another_currency_than_its_row() {
    for env in Env::each_store("mixed_currencies_keyed") {
        let listings = env.write(
            "listings.csv",
            "Item number,Title,Currency,Start price,Available quantity\n\
             123456789012,Lamp,USD,£89.99,3\n\
             123456789013,Mug,USD,$12.00,1\n",
        );
        let run = env.import("demo", &["--rejects", "listings.rejects.csv", &listings]);
        run.expect_code(0);
        assert_counts(&run.json(), 2, 1, 0, 0, 1);
        let rejects = parse_rejects(&env.read("listings.rejects.csv"));
        assert_eq!(
            (
                rejects[0].line,
                rejects[0].column.as_str(),
                rejects[0].code.as_str()
            ),
            (2, "start_price", "invalid_money")
        );
        let products = env.write(
            "products.csv",
            "sku,title,price,currency\nMUG-1,Mug,€12.00,USD\nMUG-2,Mug,12.00,EUR\n",
        );
        let run = env.import("demo", &["--rejects", "products.rejects.csv", &products]);
        run.expect_code(0);
        assert_counts(&run.json(), 2, 1, 0, 0, 1);
        assert_eq!(
            env.rows(
                "SELECT sku, CAST(price AS TEXT), currency FROM products WHERE sku LIKE 'MUG-%'"
            ),
            vec![vec![t("MUG-2"), t("12.00"), t("EUR")]],
            "{}",
            env.store_name()
        );
    }
}

// --- file text in messages --------------------------------------------------------------------

#[test]
fn control_characters_in_header_names_are_escaped_in_every_message() {
    let env = Env::new();
    let evil = "\u{1b}[2J\u{1b}[31mEvil\u{202e}\u{0}\r";
    let file = env.write(
        "evil.csv",
        format!(
            "Sales Record Number,Order Number,Buyer Name,\"{evil}\",Total Price,Sale Date\n\
             1,11-11111-11111,Ann \u{1b}[0m,x,$1.00,Mar-15-24\n\
             2,11-11111-11112,Bob,y,$1.00,Mar-15-24\n"
        ),
    );
    let text = env.run(&["import", "--account", "demo", "--rejects", "r.csv", &file]);
    text.expect_code(0);
    assert!(!has_hidden_controls(&text.stdout), "{:?}", text.stdout);
    assert!(
        text.stdout.contains(
            "warning: 1 unknown column(s) ignored: \\u{1b}[2J\\u{1b}[31mEvil\\u{202e}\\0\\r"
        ),
        "{:?}",
        text.stdout
    );
    // A rejected value keeps its text in the reject report; its message quotes it escaped.
    let rejects = parse_rejects(&env.read("r.csv"));
    assert_eq!(rejects[0].code, "control_characters");
    assert_eq!(rejects[0].value, "Ann \u{1b}[0m");
    assert!(!has_hidden_controls(&rejects[0].message));
    // The header error of a file no type fits, and inspect, escape them too.
    let unfit = env.write("unfit.csv", format!("\"{evil}\",Order Number,Buyer Name\n"));
    let failed = env.run(&["import", "--account", "demo", &unfit]);
    failed.expect_code(1);
    assert!(!has_hidden_controls(&failed.stdout), "{:?}", failed.stdout);
    assert!(
        failed.stdout.contains("the header has: \\u{1b}[2J"),
        "{}",
        failed.stdout
    );
    let inspect = env.run(&["inspect", "--type", "orders", &unfit]);
    inspect.expect_code(0);
    assert!(
        !has_hidden_controls(&inspect.stdout),
        "{:?}",
        inspect.stdout
    );
    assert!(
        inspect.stdout.contains("unknown:   \\u{1b}[2J"),
        "{}",
        inspect.stdout
    );
}

#[test]
fn a_header_of_a_hundred_thousand_columns_gives_one_short_error_line() {
    let env = Env::new();
    let header: Vec<String> = (0..100_000).map(|i| format!("col{i}")).collect();
    let file = env.write("wide.csv", format!("{}\n", header.join(",")));
    let run = env.import("demo", &["--dry-run", &file]);
    run.expect_code(1);
    assert!(run.stdout.len() < 2_000, "{} bytes", run.stdout.len());
    let error = s(&run.json(), "error").to_string();
    assert!(
        error.ends_with("knows these columns: col0, col1, col2, col3, col4, col5, col6, col7, col8, col9 and 99990 more"),
        "{error}"
    );
}

#[test]
fn a_binary_file_gives_a_bounded_error_of_visible_characters() {
    let env = Env::new();
    // Knuth's multiplicative hash of the index: every byte value, in no order.
    let bytes: Vec<u8> = (0u32..200_000)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let file = env.write("noise.csv", bytes);
    let run = env.run(&["import", "--account", "demo", "--dry-run", &file]);
    run.expect_code(1);
    assert!(run.stdout.len() < 4_000, "{} bytes", run.stdout.len());
    assert!(!has_hidden_controls(&run.stdout), "{:?}", run.stdout);
}

#[test]
fn long_lists_of_unknown_columns_are_cut_in_the_warning() {
    let env = Env::new();
    let extra: Vec<String> = (0..50)
        .map(|i| format!("extra {i} {}", "x".repeat(200)))
        .collect();
    let file = env.write(
        "extra.csv",
        format!(
            "Sales Record Number,Order Number,Buyer Name,Total Price,Sale Date,{}\n\
             1,11-11111-11111,Ann,$1.00,Mar-15-24{}\n",
            extra.join(","),
            ",".repeat(extra.len())
        ),
    );
    let run = env.import("demo", &["--dry-run", &file]);
    run.expect_code(0);
    let j = run.json();
    let w = warning(&j, "unknown column(s)");
    assert!(
        w.starts_with("50 unknown column(s) ignored: extra 0 xxx"),
        "{w}"
    );
    assert!(w.ends_with("… and 40 more"), "{w}");
    assert!(w.len() < 1_200, "{} bytes: {w}", w.len());
}
