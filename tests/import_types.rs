//! Every import type and every eBay dialect, end to end on both stores: each sample in `data/`
//! is imported and the exact typed values that land in the database are checked.

mod common;

use common::*;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/");

/// Copies `data/<name>` into the test's directory and imports it.
fn import_data(env: &Env, account: &str, name: &str, extra: &[&str]) -> Value {
    let bytes = std::fs::read(format!("{DATA}{name}")).expect("read a data file");
    let rel = env.write(&format!("data/{name}"), bytes);
    let mut args: Vec<&str> = extra.to_vec();
    args.push(&rel);
    let run = env.import(account, &args);
    run.expect_code(0);
    let j = run.json();
    assert_reconciles(&j);
    j
}

const LISTINGS_SQL: &str = "SELECT listing_key, action, item_number, custom_label, title, \
     CAST(available_quantity AS TEXT), format, CAST(start_price AS TEXT), currency, \
     CAST(start_date AS TEXT), CAST(end_date AS TEXT), condition, upc, isbn, attributes \
     FROM listings ORDER BY source_line";

const PRODUCTS_SQL: &str = "SELECT sku, title, CAST(quantity AS TEXT), CAST(price AS TEXT), \
     currency, upc, ean, isbn, mpn, brand, condition FROM products ORDER BY sku";

#[test]
fn the_all_active_listings_report_stores_listings_their_attributes_and_products() {
    for env in Env::each_store("active_listings") {
        let j = import_data(&env, "demo", "listings-active-us.csv", &[]);
        assert_eq!(s(&j, "import_type"), "listings");
        assert_eq!(s(&j, "layout"), "Seller Hub All active listings report");
        assert_eq!(s(&j, "site"), "US");
        assert_counts(&j, 3, 3, 0, 0, 0);
        assert_eq!(u(&j, "tables.listings.inserted"), 3);
        assert_eq!(u(&j, "tables.products.inserted"), 3);
        assert_eq!(j["warnings"], serde_json::json!([]), "{}", env.store_name());
        assert_eq!(
            env.rows(LISTINGS_SQL),
            vec![
                vec![
                    t("318508625049"),
                    None,
                    t("318508625049"),
                    t("LAMP-001"),
                    t("Vintage Brass Desk Lamp, Green Glass Shade"),
                    t("3"),
                    t("FIXED_PRICE"),
                    t("89.99"),
                    t("USD"),
                    t("2026-03-02 00:00:00"),
                    None,
                    t("Used"),
                    t("012345678905"),
                    None,
                    None,
                ],
                vec![
                    t("407197269275"),
                    None,
                    t("407197269275"),
                    t("CARD-PSA-4"),
                    t("1999 Pokemon Base Set Charizard #4 PSA 9"),
                    t("1"),
                    t("AUCTION"),
                    t("250.00"),
                    t("USD"),
                    t("2026-11-20 18:30:00"),
                    t("2026-11-27 18:30:00"),
                    t("Graded"),
                    // eBay's "Does not apply" is no code.
                    None,
                    None,
                    t(
                        r#"{"CD:Professional Grader - (ID: 27501)":"PSA","CD:Grade - (ID: 27502)":"9","CDA:Certification Number - (ID: 27503)":"12345678"}"#
                    ),
                ],
                vec![
                    t("267458796006"),
                    None,
                    t("267458796006"),
                    t("BOOK-PP-20"),
                    t("The Pragmatic Programmer, 20th Anniversary Edition"),
                    t("12"),
                    t("FIXED_PRICE"),
                    t("1049.00"),
                    t("USD"),
                    t("2025-01-15 00:00:00"),
                    None,
                    t("New"),
                    None,
                    t("9780306406157"),
                    None,
                ],
            ],
            "{}",
            env.store_name()
        );
        assert_eq!(
            env.rows(
                "SELECT CAST(current_price AS TEXT), CAST(buy_it_now_price AS TEXT), \
                 CAST(sold_quantity AS TEXT), CAST(watchers AS TEXT), category_1_name, \
                 category_1_number, listing_site FROM listings ORDER BY source_line"
            )[1],
            vec![
                t("275.50"),
                t("400.00"),
                t("0"),
                t("52"),
                t("CCG Individual Cards"),
                t("183454"),
                t("US")
            ]
        );
        assert_eq!(
            env.rows(PRODUCTS_SQL),
            vec![
                vec![
                    t("BOOK-PP-20"),
                    t("The Pragmatic Programmer, 20th Anniversary Edition"),
                    t("12"),
                    t("1049.00"),
                    t("USD"),
                    None,
                    None,
                    t("9780306406157"),
                    None,
                    None,
                    t("New"),
                ],
                vec![
                    t("CARD-PSA-4"),
                    t("1999 Pokemon Base Set Charizard #4 PSA 9"),
                    t("1"),
                    t("250.00"),
                    t("USD"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    t("Graded"),
                ],
                vec![
                    t("LAMP-001"),
                    t("Vintage Brass Desk Lamp, Green Glass Shade"),
                    t("3"),
                    t("89.99"),
                    t("USD"),
                    t("012345678905"),
                    None,
                    None,
                    None,
                    None,
                    t("Used"),
                ],
            ]
        );

        // The same file again changes nothing.
        let again = import_data(&env, "demo", "listings-active-us.csv", &[]);
        assert_counts(&again, 3, 0, 0, 3, 0);
        assert_eq!(u(&again, "tables.products.unchanged"), 3);

        // "Edit price and quantity" revises two of them; its #INFO line is framing.
        let revise = import_data(&env, "demo", "listings-revise-price-quantity-us.csv", &[]);
        assert_eq!(s(&revise, "layout"), "Edit price and quantity download");
        assert_counts(&revise, 2, 0, 2, 0, 0);
        assert_eq!(u(&revise, "skipped"), 1);
        assert_eq!(u(&revise, "tables.products.updated"), 2);
        assert_eq!(
            env.rows(
                "SELECT listing_key, action, CAST(start_price AS TEXT), \
                 CAST(available_quantity AS TEXT), category_1_name, format \
                 FROM listings ORDER BY listing_key"
            ),
            vec![
                vec![
                    t("267458796006"),
                    None,
                    t("1049.00"),
                    t("12"),
                    t("Books"),
                    t("FIXED_PRICE")
                ],
                // Columns the download lacks keep their values.
                vec![
                    t("318508625049"),
                    t("Revise"),
                    t("84.99"),
                    t("2"),
                    t("Lamps (38512)"),
                    t("FIXED_PRICE")
                ],
                vec![
                    t("407197269275"),
                    t("Revise"),
                    t("260.00"),
                    t("1"),
                    t("CCG Individual Cards (183454)"),
                    t("AUCTION")
                ],
            ]
        );

        // Rolling the revision back restores the report's values.
        let job = s(&revise, "job_id").to_string();
        env.run(&["rollback", &job, "--json"]).expect_code(0);
        assert_eq!(
            env.rows("SELECT CAST(start_price AS TEXT) FROM listings ORDER BY listing_key"),
            vec![vec![t("1049.00")], vec![t("89.99")], vec![t("250.00")]]
        );
        assert_eq!(
            env.rows("SELECT CAST(price AS TEXT) FROM products ORDER BY sku"),
            vec![vec![t("1049.00")], vec![t("250.00")], vec![t("89.99")]]
        );
    }
}

#[test]
fn the_file_exchange_active_listings_download() {
    for env in Env::each_store("fx_listings") {
        let j = import_data(&env, "demo", "listings-fileexchange-us.csv", &[]);
        assert_eq!(s(&j, "layout"), "File Exchange active listings download");
        assert_counts(&j, 2, 2, 0, 0, 0);
        // The second listing has no custom label: no product.
        assert_eq!(u(&j, "tables.products.inserted"), 1);
        assert_eq!(
            env.rows(
                "SELECT listing_key, custom_label, title, CAST(available_quantity AS TEXT), \
                 CAST(sold_quantity AS TEXT), CAST(start_price AS TEXT), currency, \
                 CAST(start_date AS TEXT), CAST(download_date AS TEXT), condition, \
                 listing_type, category_1_name, category_1_number, listing_site, condition_id, \
                 CASE WHEN out_of_stock_control THEN 'yes' ELSE 'no' END \
                 FROM listings ORDER BY source_line"
            ),
            vec![
                vec![
                    t("260000000101"),
                    t("BRACE-XL"),
                    t("Knee Brace, Extra Large"),
                    t("91"),
                    t("11"),
                    t("19.99"),
                    t("USD"),
                    t("2011-05-24 00:00:00"),
                    t("2020-04-23 22:19:51"),
                    t("New"),
                    t("9"),
                    t("Orthotics, Braces & Sleeves"),
                    t("19264"),
                    t("0"),
                    t("1000"),
                    t("no"),
                ],
                vec![
                    t("400000000202"),
                    None,
                    t(r#"Hand Painted "Nuage" 5-3/4" Saucer"#),
                    t("1"),
                    t("0"),
                    t("24.99"),
                    t("USD"),
                    t("2013-05-24 00:00:00"),
                    t("2020-04-23 22:19:51"),
                    None,
                    t("9"),
                    t("Limoges"),
                    t("2805"),
                    t("0"),
                    None,
                    t("no"),
                ],
            ]
        );
    }
}

#[test]
fn the_category_listing_template_keeps_its_parameters_skips_info_rows_and_keys_new_listings_by_sku()
{
    for env in Env::each_store("category_template") {
        let j = import_data(&env, "demo", "listings-category-template-us.csv", &[]);
        assert_eq!(s(&j, "layout"), "category listing template");
        assert_eq!(s(&j, "template.SiteID"), "US");
        assert_eq!(s(&j, "template.Currency"), "USD");
        assert_eq!(s(&j, "template.Version"), "1193");
        assert_eq!(s(&j, "template.CC"), "UTF-8");
        assert_counts(&j, 3, 3, 0, 0, 0);
        // Line 1 `Info,Version=...`, the blank line 3, and the two `Info,>>>` rows.
        assert_eq!(u(&j, "skipped"), 4);
        assert_eq!(
            env.rows(
                "SELECT listing_key, action, item_number, custom_label, category_1_number, \
                 condition_id, brand, format, duration, CAST(start_price AS TEXT), currency, \
                 CAST(available_quantity AS TEXT), location, shipping_profile_name, upc, \
                 description, attributes, CAST(source_line AS TEXT) \
                 FROM listings ORDER BY source_line"
            ),
            vec![
                vec![
                    t("SKU:BAT-34"),
                    t("Add"),
                    None,
                    t("BAT-34"),
                    t("261328"),
                    t("1000"),
                    t("Louisville"),
                    t("FIXED_PRICE"),
                    t("GTC"),
                    t("59.95"),
                    t("USD"),
                    t("4"),
                    t("Boston, MA"),
                    t("Standard - (ID: 123456)"),
                    t("036000291452"),
                    t(r#"<p>Solid maple, <b>34"</b>.</p>"#),
                    t(r#"{"C:Sport":"Baseball","C:Color":"Natural"}"#),
                    t("6"),
                ],
                vec![
                    t("318508625049"),
                    t("Revise"),
                    t("318508625049"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    t("79.99"),
                    t("USD"),
                    t("3"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    t("7"),
                ],
                vec![
                    t("267458796006"),
                    t("End"),
                    t("267458796006"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    t("USD"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    t("8"),
                ],
            ]
        );
        assert_eq!(
            env.rows("SELECT sku, brand, upc, CAST(price AS TEXT) FROM products"),
            vec![vec![
                t("BAT-34"),
                t("Louisville"),
                t("036000291452"),
                t("59.95")
            ]]
        );
    }
}

#[test]
fn template_actions_product_codes_and_keys_are_validated() {
    let env = Env::new();
    let file = env.write(
        "bad-template.csv",
        "Info,Version=1.0.0,Template=fx_category_template_EBAY_US\n\
         *Action(SiteID=US|Country=US|Currency=USD|Version=1193),CustomLabel,*Title,*StartPrice,Product:UPC,Product:EAN,Product:ISBN,ItemID\n\
         Add,OK-1,Fine,1.00,036000291452,4006381333931,0-306-40615-2,\n\
         Delete,BAD-ACTION,Nope,1.00,,,,\n\
         Add,BAD-UPC,Nope,1.00,036000291453,,,\n\
         Add,BAD-EAN,Nope,1.00,,4006381333932,,\n\
         Add,BAD-ISBN,Nope,1.00,,,0-306-40615-3,\n\
         Revise,,No key,1.00,,,,\n\
         Revise,,Mangled,1.00,,,,3.18509E+11\n",
    );
    let run = env.import("demo", &["--rejects", "rejects.csv", &file]);
    run.expect_code(0);
    let j = run.json();
    assert_counts(&j, 7, 1, 0, 0, 6);
    assert_eq!(
        codes(&j),
        code_map(&[
            ("invalid_enum", 1),
            ("invalid_format", 3),
            ("missing_value", 1),
            ("scientific_notation", 1),
        ])
    );
    let rejects = parse_rejects(&env.read("rejects.csv"));
    assert_eq!(
        line_codes(&rejects),
        vec![
            (4, "invalid_enum"),
            (5, "invalid_format"),
            (6, "invalid_format"),
            (7, "invalid_format"),
            (8, "missing_value"),
            (9, "scientific_notation"),
        ]
    );
    assert!(
        rejects[0].message.contains("Delete"),
        "{}",
        rejects[0].message
    );
    assert!(
        rejects[1].message.contains("check digit"),
        "{}",
        rejects[1].message
    );
    assert!(
        rejects[4].message.contains("item_number") && rejects[4].message.contains("custom_label"),
        "{}",
        rejects[4].message
    );
    assert_eq!(
        env.rows("SELECT listing_key, upc, ean, isbn FROM listings"),
        vec![vec![
            t("SKU:OK-1"),
            t("036000291452"),
            t("4006381333931"),
            t("0-306-40615-2")
        ]]
    );
}

#[test]
fn a_german_template_in_iso_8859_1_with_semicolons_and_decimal_commas() {
    for env in Env::each_store("de_template") {
        let j = import_data(&env, "demo", "listings-category-template-de.csv", &[]);
        assert_eq!(s(&j, "encoding"), "windows-1252");
        assert_eq!(s(&j, "delimiter"), ";");
        assert_eq!(s(&j, "site"), "DE");
        assert_eq!(s(&j, "template.SiteID"), "Germany");
        assert_eq!(s(&j, "template.CC"), "ISO-8859-1");
        assert_counts(&j, 2, 2, 0, 0, 0);
        assert_eq!(
            env.rows(
                "SELECT listing_key, title, CAST(start_price AS TEXT), currency, location, \
                 attributes FROM listings ORDER BY source_line"
            ),
            vec![
                vec![
                    t("SKU:KRUG-1"),
                    t("Bierkrug aus Steingut, 0,5 l – Bayern"),
                    t("24.90"),
                    t("EUR"),
                    t("München"),
                    t(r#"{"C:Marke":"Königlich"}"#),
                ],
                vec![
                    t("SKU:KRUG-2"),
                    t("Weißbierglas, 2er-Set"),
                    t("1249.00"),
                    t("EUR"),
                    t("Nürnberg"),
                    None,
                ],
            ]
        );
    }
}

/// One Orders layout: the order rows (key, buyer, total, shipping, sale date, paid date,
/// currency) and item rows (key, title, quantity, price) that must land.
struct Layout {
    file: &'static str,
    layout: &'static str,
    site: &'static str,
    delimiter: &'static str,
    orders: &'static [[Option<&'static str>; 7]],
    items: &'static [[&'static str; 4]],
}

const LAYOUTS: &[Layout] = &[
    Layout {
        file: "orders-report-uk.csv",
        layout: "Seller Hub Orders report (UK)",
        site: "UK",
        delimiter: ",",
        orders: &[[
            Some("21-11111-22222"),
            Some("Alex Smith"),
            Some("28.19"),
            Some("3.20"),
            Some("2024-03-14 00:00:00"),
            Some("2024-03-14 00:00:00"),
            Some("GBP"),
        ]],
        items: &[[
            "21-11111-22222/334455667788-2233445566001",
            "Tea Set, Bone China",
            "1",
            "24.99",
        ]],
    },
    Layout {
        file: "orders-report-au.csv",
        layout: "Seller Hub Orders report (AU)",
        site: "AU",
        delimiter: ",",
        orders: &[[
            Some("31-22222-33333"),
            Some("Jo Citizen"),
            Some("48.90"),
            Some("9.00"),
            Some("2024-04-03 00:00:00"),
            Some("2024-04-03 00:00:00"),
            Some("AUD"),
        ]],
        items: &[[
            "31-22222-33333/224466880011-3344556677001",
            "Koala Plush Toy",
            "2",
            "19.95",
        ]],
    },
    Layout {
        file: "orders-report-de.csv",
        layout: "Seller Hub Orders report (DE)",
        site: "DE",
        delimiter: ";",
        orders: &[
            [
                Some("41-33333-44444"),
                Some("Jürgen Müller"),
                Some("116.99"),
                Some("4.99"),
                Some("2025-12-10 00:00:00"),
                Some("2025-12-10 00:00:00"),
                Some("EUR"),
            ],
            [
                Some("41-33333-55555"),
                Some("Anna Schmidt"),
                Some("3148.50"),
                Some("0.00"),
                Some("2026-03-28 00:00:00"),
                Some("2026-03-29 00:00:00"),
                Some("EUR"),
            ],
        ],
        items: &[
            [
                "41-33333-44444/115566778899-4455667788001",
                "Kaffeemühle \"Retro\", Edelstahl",
                "1",
                "112.00",
            ],
            [
                "41-33333-55555/115566778900-4455667788002",
                "Teekanne",
                "3",
                "1049.50",
            ],
        ],
    },
    Layout {
        file: "orders-report-us-80col.csv",
        layout: "Seller Hub Orders report, 80 columns (US)",
        site: "US",
        delimiter: ",",
        orders: &[[
            Some("05-12345-67890"),
            Some("Chris Doe"),
            Some("24.90"),
            Some("5.00"),
            Some("2022-06-01 00:00:00"),
            Some("2022-06-01 00:00:00"),
            Some("USD"),
        ]],
        items: &[[
            "05-12345-67890/135792468024-1357924680001",
            "Desk Organizer",
            "1",
            "18.00",
        ]],
    },
    Layout {
        file: "orders-report-us-2020.csv",
        layout: "Seller Hub Orders report, c. 2020 (US)",
        site: "US",
        delimiter: ",",
        orders: &[[
            Some("06-11111-22222"),
            Some("Dana Lee"),
            Some("24.30"),
            Some("0.00"),
            Some("2020-01-10 00:00:00"),
            Some("2020-01-10 00:00:00"),
            Some("USD"),
        ]],
        items: &[[
            "06-11111-22222/114477885522-1144778855001",
            "Camping Lantern",
            "1",
            "22.50",
        ]],
    },
    Layout {
        file: "orders-selling-manager-uk.csv",
        layout: "Selling Manager sales history export",
        site: "UK",
        delimiter: ",",
        orders: &[[
            Some("190012345678-800123456001"),
            Some("Robin Hood"),
            Some("53.50"),
            Some("7.50"),
            Some("2013-02-12 00:00:00"),
            Some("2013-02-12 00:00:00"),
            Some("GBP"),
        ]],
        items: &[[
            "190012345678-800123456001/190012345678-800123456001",
            "Longbow Replica",
            "1",
            "45.00",
        ]],
    },
    Layout {
        file: "orders-fileexchange-sold.csv",
        layout: "File Exchange Sold download",
        site: "US",
        delimiter: ",",
        orders: &[
            [
                Some("150370031260-381063459005"),
                Some("Terry Jones"),
                Some("13.49"),
                Some("3.50"),
                Some("2011-09-14 00:00:00"),
                Some("2011-09-14 00:00:00"),
                Some("USD"),
            ],
            [
                Some("110123456789-0"),
                Some("Sam Auction"),
                Some("32.00"),
                Some("1.00"),
                Some("2011-09-20 00:00:00"),
                None,
                Some("USD"),
            ],
        ],
        items: &[
            [
                "150370031260-381063459005/150370031260-381063459005",
                "Vintage Camera Strap",
                "1",
                "9.99",
            ],
            [
                "110123456789-0/110123456789-0",
                "Auction Lot of Stamps",
                "1",
                "31.00",
            ],
        ],
    },
];

#[test]
fn every_orders_layout_lands_with_exact_values() {
    for env in Env::each_store("orders_layouts") {
        for l in LAYOUTS {
            let account = l.file.trim_end_matches(".csv");
            let j = import_data(&env, account, l.file, &[]);
            let ctx = format!("{} {}: {j}", env.store_name(), l.file);
            assert_eq!(s(&j, "import_type"), "orders", "{ctx}");
            assert_eq!(s(&j, "layout"), l.layout, "{ctx}");
            assert_eq!(s(&j, "site"), l.site, "{ctx}");
            assert_eq!(s(&j, "delimiter"), l.delimiter, "{ctx}");
            assert_eq!(u(&j, "rejected"), 0, "{ctx}");
            assert_eq!(j["warnings"], serde_json::json!([]), "{ctx}");
            let account = s(&j, "account_id");
            let orders = env.rows(&format!(
                "SELECT order_key, buyer_name, CAST(total_price AS TEXT), \
                 CAST(shipping_and_handling AS TEXT), CAST(sale_date AS TEXT), \
                 CAST(paid_on_date AS TEXT), currency FROM orders \
                 WHERE account_id = '{account}' ORDER BY source_line"
            ));
            let want: Vec<Vec<Option<String>>> = l
                .orders
                .iter()
                .map(|r| r.iter().map(|v| v.map(str::to_string)).collect())
                .collect();
            assert_eq!(orders, want, "{ctx}");
            let items = env.rows(&format!(
                "SELECT item_key, item_title, CAST(quantity AS TEXT), CAST(sold_for AS TEXT) \
                 FROM order_items WHERE account_id = '{account}' ORDER BY source_line"
            ));
            let want: Vec<Vec<Option<String>>> = l
                .items
                .iter()
                .map(|r| r.iter().map(|v| t(v)).collect())
                .collect();
            assert_eq!(items, want, "{ctx}");
        }
    }
}

#[test]
fn legacy_columns_of_older_layouts_are_stored() {
    for env in Env::each_store("legacy_columns") {
        import_data(&env, "demo", "orders-selling-manager-uk.csv", &[]);
        import_data(&env, "demo", "orders-fileexchange-sold.csv", &[]);
        import_data(&env, "demo", "orders-report-us-80col.csv", &[]);
        assert_eq!(
            env.rows(
                "SELECT order_key, CAST(insurance AS TEXT), CAST(checkout_date AS TEXT), \
                 CAST(invoice_date AS TEXT), invoice_number, buyer_username, ship_to_phone, \
                 CAST(commitment_date AS TEXT) FROM orders ORDER BY order_key"
            ),
            vec![
                vec![
                    t("05-12345-67890"),
                    None,
                    None,
                    None,
                    None,
                    t("eighty_buyer"),
                    None,
                    t("2022-06-03"),
                ],
                vec![
                    t("110123456789-0"),
                    None,
                    None,
                    None,
                    None,
                    t("fx_buyer2"),
                    None,
                    None,
                ],
                vec![
                    t("150370031260-381063459005"),
                    t("0.00"),
                    t("2011-09-14 00:00:00"),
                    None,
                    None,
                    t("fx_buyer"),
                    t("(555) 010-2000"),
                    None,
                ],
                vec![
                    t("190012345678-800123456001"),
                    t("1.00"),
                    t("2013-02-12 10:15:00"),
                    t("2013-02-12"),
                    t("INV-7001"),
                    t("sm_buyer"),
                    t("0115 496 0000"),
                    None,
                ],
            ]
        );
        assert_eq!(
            env.rows(
                "SELECT item_key, CAST(listed_on AS TEXT), sold_on, product_id_type, \
                 product_id_value, custom_label FROM order_items \
                 WHERE listed_on IS NOT NULL ORDER BY item_key"
            ),
            vec![
                vec![
                    t("110123456789-0/110123456789-0"),
                    t("2011-09-13 00:00:00"),
                    t("eBay"),
                    None,
                    None,
                    None,
                ],
                vec![
                    t("150370031260-381063459005/150370031260-381063459005"),
                    t("2011-09-01 00:00:00"),
                    t("eBay"),
                    t("UPC"),
                    t("012345678905"),
                    t("STRAP-9"),
                ],
            ]
        );
    }
}

const CUSTOMERS_SQL: &str = "SELECT username, name, email, phone, city, ship_to_name, \
     ship_to_city, ship_to_country, CAST(first_order_date AS TEXT), \
     CAST(last_order_date AS TEXT), CAST(order_count AS TEXT) FROM customers ORDER BY username";

#[test]
fn every_orders_import_refreshes_the_customers_of_its_buyers() {
    for env in Env::each_store("derived_customers") {
        let j = import_data(&env, "demo", "orders-report-us.csv", &[]);
        assert_eq!(u(&j, "tables.customers.inserted"), 3);
        let first = env.rows(CUSTOMERS_SQL);
        assert_eq!(
            first,
            vec![
                vec![
                    t("buyer_one"),
                    t("Pat Example"),
                    None,
                    t("555 0100"),
                    None,
                    t("Pat Example"),
                    t("Springfield"),
                    t("United States"),
                    t("2024-03-15 00:00:00"),
                    t("2024-03-15 00:00:00"),
                    t("1"),
                ],
                vec![
                    t("buyer_three"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    t("2024-03-15 00:00:00"),
                    t("2024-03-15 00:00:00"),
                    t("1"),
                ],
                vec![
                    t("buyer_two"),
                    t("Sam Sample"),
                    None,
                    None,
                    None,
                    t("Sam Sample"),
                    t("Portland"),
                    t("United States"),
                    t("2024-03-15 00:00:00"),
                    t("2024-03-15 00:00:00"),
                    t("1"),
                ],
            ],
            "{}",
            env.store_name()
        );

        // Unchanged orders touch no customer.
        let again = import_data(&env, "demo", "orders-report-us.csv", &[]);
        assert!(again["tables"].get("customers").is_none(), "{again}");

        // A later order of buyer_one: the latest order's values win, the counts grow, and
        // what it leaves empty is kept.
        let later = env.write(
            "later.csv",
            format!(
                "{MINI_HEADER},Buyer Username,Ship To City\n\
                 2001,77-77777-77777,Pat Example,pat@example.com,,1,$5.00,$5.00,Apr-02-24,buyer_one,Chicago\n\
                 2002,77-77777-77778,Pat Example,,,1,$6.00,$6.00,Feb-01-24,buyer_one,Peoria\n"
            ),
        );
        let run = env.import("demo", &[&later]);
        run.expect_code(0);
        let j = run.json();
        assert_eq!(u(&j, "tables.customers.updated"), 1, "{j}");
        assert_eq!(
            env.rows(CUSTOMERS_SQL)[0],
            vec![
                t("buyer_one"),
                t("Pat Example"),
                t("pat@example.com"),
                t("555 0100"),
                None,
                t("Pat Example"),
                t("Chicago"),
                t("United States"),
                t("2024-02-01 00:00:00"),
                t("2024-04-02 00:00:00"),
                t("3"),
            ]
        );

        // Rolling the later job back restores the customer as it was.
        env.run(&["rollback", s(&j, "job_id"), "--json"])
            .expect_code(0);
        assert_eq!(env.rows(CUSTOMERS_SQL), first);

        // Rolling the first job back removes the customers it made.
        env.run(&["rollback", s(&again, "job_id"), "--json"])
            .expect_code(0);
        env.run(&["rollback", s(&import_first_job(&env), "id"), "--json"])
            .expect_code(0);
        assert_eq!(env.count("SELECT COUNT(*) FROM customers"), 0);
    }
}

/// The oldest job of the demo account, as `jobs list --json` gives it.
fn import_first_job(env: &Env) -> Value {
    let list = env.run(&["jobs", "list", "--account", "demo", "--json"]);
    list.expect_code(0);
    list.json_lines()
        .into_iter()
        .min_by_key(|j| j["created_at"].as_str().unwrap_or_default().to_string())
        .expect("a job")
}

#[test]
fn canonical_products_and_customers_csvs() {
    for env in Env::each_store("canonical_types") {
        let j = import_data(&env, "demo", "products-canonical.csv", &[]);
        assert_eq!(s(&j, "import_type"), "products");
        assert_eq!(s(&j, "layout"), "canonical products CSV");
        assert_counts(&j, 3, 3, 0, 0, 0);
        assert_eq!(
            env.rows(PRODUCTS_SQL),
            vec![
                vec![
                    t("BOOK-PP-20"),
                    t("The Pragmatic Programmer"),
                    t("12"),
                    t("49.95"),
                    t("USD"),
                    None,
                    None,
                    t("978-0-306-40615-7"),
                    None,
                    None,
                    t("New"),
                ],
                vec![
                    t("LAMP-001"),
                    t("Vintage Brass Desk Lamp"),
                    t("3"),
                    t("89.99"),
                    t("USD"),
                    t("012345678905"),
                    None,
                    None,
                    t("AL-100"),
                    t("Acme Lighting"),
                    t("Used"),
                ],
                vec![
                    t("MUG-BLUE"),
                    t("Blue Enamel Mug"),
                    t("40"),
                    t("12.00"),
                    t("EUR"),
                    None,
                    t("4006381333931"),
                    None,
                    None,
                    t("Emaille"),
                    t("New"),
                ],
            ]
        );

        let j = import_data(&env, "demo", "customers-canonical.csv", &[]);
        assert_eq!(s(&j, "import_type"), "customers");
        assert_counts(&j, 2, 2, 0, 0, 0);
        assert_eq!(
            env.rows(CUSTOMERS_SQL),
            vec![
                vec![
                    t("buyer_one"),
                    t("Pat Example"),
                    t("pat@example.com"),
                    t("555 0100"),
                    t("Springfield"),
                    None,
                    None,
                    None,
                    t("2023-11-02 00:00:00"),
                    t("2024-03-15 00:00:00"),
                    t("4"),
                ],
                vec![
                    t("vip_buyer"),
                    t("Vera Important"),
                    t("vera@example.com"),
                    None,
                    t("Boston"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    t("0"),
                ],
            ]
        );
        // An orders import then refreshes buyer_one from the stored orders, keeping the
        // email the orders do not have.
        import_data(&env, "demo", "orders-report-us.csv", &[]);
        let row = &env.rows(CUSTOMERS_SQL)[0];
        assert_eq!(row[2], t("pat@example.com"));
        assert_eq!(row[6], t("Springfield"));
        assert_eq!(row[10], t("1"));
    }
}

/// What `inspect --json` says about each sample: type, site, layout.
#[test]
fn inspect_names_the_type_site_and_layout_of_every_sample() {
    let env = Env::new();
    let expected = [
        (
            "orders-report-us.csv",
            "orders",
            "US",
            "Seller Hub Orders report, 82 columns (US)",
        ),
        (
            "orders-canonical.csv",
            "orders",
            "US",
            "canonical orders CSV",
        ),
        (
            "orders-report-uk.csv",
            "orders",
            "UK",
            "Seller Hub Orders report (UK)",
        ),
        (
            "orders-report-au.csv",
            "orders",
            "AU",
            "Seller Hub Orders report (AU)",
        ),
        (
            "orders-report-de.csv",
            "orders",
            "DE",
            "Seller Hub Orders report (DE)",
        ),
        (
            "orders-report-us-80col.csv",
            "orders",
            "US",
            "Seller Hub Orders report, 80 columns (US)",
        ),
        (
            "orders-report-us-2020.csv",
            "orders",
            "US",
            "Seller Hub Orders report, c. 2020 (US)",
        ),
        (
            "orders-selling-manager-uk.csv",
            "orders",
            "UK",
            "Selling Manager sales history export",
        ),
        (
            "orders-fileexchange-sold.csv",
            "orders",
            "US",
            "File Exchange Sold download",
        ),
        (
            "listings-active-us.csv",
            "listings",
            "US",
            "Seller Hub All active listings report",
        ),
        (
            "listings-fileexchange-us.csv",
            "listings",
            "US",
            "File Exchange active listings download",
        ),
        (
            "listings-revise-price-quantity-us.csv",
            "listings",
            "US",
            "Edit price and quantity download",
        ),
        (
            "listings-category-template-us.csv",
            "listings",
            "US",
            "category listing template",
        ),
        (
            "listings-category-template-de.csv",
            "listings",
            "DE",
            "category listing template",
        ),
        (
            "products-canonical.csv",
            "products",
            "US",
            "canonical products CSV",
        ),
        (
            "customers-canonical.csv",
            "customers",
            "US",
            "canonical customers CSV",
        ),
    ];
    let mut seen = Vec::new();
    for (file, ty, site, layout) in expected {
        let run = env.run(&["inspect", "--json", "--rows", "0", &format!("{DATA}{file}")]);
        run.expect_code(0);
        let j = run.json_doc();
        assert_eq!(s(&j, "import_type"), ty, "{file}: {j}");
        assert_eq!(s(&j, "site"), site, "{file}: {j}");
        assert_eq!(s(&j, "variant"), layout, "{file}: {j}");
        assert_eq!(j["unknown_columns"], serde_json::json!([]), "{file}: {j}");
        seen.push(file.to_string());
    }
    // Every sample in data/ is covered.
    let mut files: Vec<String> = std::fs::read_dir(DATA)
        .expect("read data/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    seen.sort();
    assert_eq!(files, seen);
}

#[test]
fn a_header_of_no_type_names_the_closest_types_and_their_missing_columns() {
    let env = Env::new();
    let file = env.write(
        "odd.csv",
        "Item number,Buyer Name,Order Number,Colour\n1,2,3,4\n",
    );
    let run = env.import("demo", &[&file]);
    run.expect_code(1);
    let error = s(&run.json(), "error").to_string();
    assert!(
        error.contains("orders (missing total_price, sale_date)"),
        "{error}"
    );
    assert!(error.contains("listings (missing title)"), "{error}");
    assert!(error.contains("Colour"), "names the found columns: {error}");
}

#[test]
fn utf16_tab_separated_unicode_text_is_read() {
    let env = Env::new();
    let text = std::fs::read_to_string(format!("{DATA}listings-fileexchange-us.csv"))
        .expect("sample")
        .replace(",\"Orthotics, Braces & Sleeves\",", ",Orthotics & Sleeves,")
        .replace(',', "\t");
    for (name, bom, wide) in [
        (
            "le.txt",
            vec![0xff, 0xfe],
            (|c: u16| c.to_le_bytes()) as fn(u16) -> [u8; 2],
        ),
        ("be.txt", vec![0xfe, 0xff], |c: u16| c.to_be_bytes()),
    ] {
        let mut bytes = bom;
        bytes.extend(text.encode_utf16().flat_map(wide));
        let file = env.write(name, bytes);
        let run = env.import(&name[..2], &["--dry-run", &file]);
        run.expect_code(0);
        let j = run.json();
        assert_eq!(s(&j, "delimiter"), "\\t", "{j}");
        assert!(s(&j, "encoding").starts_with("UTF-16"), "{j}");
        assert_counts(&j, 2, 2, 0, 0, 0);
    }
}

#[test]
fn spreadsheet_damage_is_flagged_rejected_or_accepted() {
    let env = Env::new();
    // A `sep=;` line, no leading framing, a date re-saved as 9/8/2026 and an item number
    // turned into scientific notation.
    let file = env.write(
        "damaged.csv",
        "sep=;\n\
         Sales Record Number;Order Number;Buyer Name;Item Number;Sold For;Total Price;Sale Date;Paid On Date\n\
         1;01-11111-11111;Ann;123456789012;$1.00;$1.00;9/8/2026;9/9/2026\n\
         2;01-11111-11112;Bob;1.23457E+11;$1.00;$1.00;Sep-08-26;\n\
         3;01-11111-11113;Cy;123456789013;$1.00;$1.00;Sep-08-26;9/10/2026\n",
    );
    let run = env.import("demo", &[&file]);
    run.expect_code(0);
    let j = run.json();
    assert_counts(&j, 3, 2, 0, 0, 1);
    assert_eq!(codes(&j), code_map(&[("scientific_notation", 1)]));
    assert_eq!(u(&j, "skipped"), 1, "the sep= line: {j}");
    assert_eq!(u(&j, "warning_codes.reformatted_date.count"), 3, "{j}");
    assert_eq!(u(&j, "warning_codes.reformatted_date.first_line"), 3, "{j}");
    let warnings = j["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .is_some_and(|w| w.contains("reformatted_date") && w.contains("9/8/2026"))),
        "{j}"
    );
    assert_eq!(
        env.rows(
            "SELECT order_key, CAST(sale_date AS TEXT), CAST(paid_on_date AS TEXT) \
             FROM orders ORDER BY order_key"
        ),
        vec![
            vec![
                t("01-11111-11111"),
                t("2026-09-08 00:00:00"),
                t("2026-09-09 00:00:00")
            ],
            vec![
                t("01-11111-11113"),
                t("2026-09-08 00:00:00"),
                t("2026-09-10 00:00:00")
            ],
        ]
    );
    // A canonical CSV's numeric dates are its own format, not damage.
    let canonical = env.write(
        "canonical.csv",
        "order_id,buyer_name,order_total,order_date\n1234567890,Ann,1.00,9/8/2026\n",
    );
    let run = env.import("demo", &[&canonical]);
    run.expect_code(0);
    // Its only warning is that nothing in it names its site, so the US order was assumed.
    let j = run.json();
    let warnings = j["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{j}");
    assert!(
        warnings[0]
            .as_str()
            .is_some_and(|w| w.starts_with("the site US is assumed")),
        "{j}"
    );
    assert_eq!(j["warning_codes"], serde_json::json!({}), "{j}");
}

#[test]
fn french_and_italian_site_profiles_read_their_numbers_and_months() {
    let env = Env::new();
    for (site, total, date) in [
        ("FR", "1 234,56 €", "15 mars 2024"),
        ("IT", "1.234,56 €", "15 mar 2024"),
        ("DE", "1.234,56 €", "15. Mär 2024"),
    ] {
        let file = env.write(
            &format!("{site}.csv"),
            format!("order_id;buyer_name;order_total;order_date\n1234567890;Ann;{total};{date}\n"),
        );
        let run = env.import(&site.to_lowercase(), &["--site", site, &file]);
        run.expect_code(0);
        let j = run.json();
        assert_eq!(s(&j, "site"), site);
        assert_eq!(u(&j, "inserted"), 1, "{site}: {j}");
        let account = s(&j, "account_id");
        assert_eq!(
            env.rows(&format!(
                "SELECT CAST(total_price AS TEXT), currency, CAST(sale_date AS TEXT) \
                 FROM orders WHERE account_id = '{account}'"
            )),
            vec![vec![t("1234.56"), t("EUR"), t("2024-03-15 00:00:00")]],
            "{site}"
        );
    }
}
