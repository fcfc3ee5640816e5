//! PostgreSQL's bulk load: an account's first rows of a table are copied straight into a
//! partition of its own, attached at the commit. Every case is compared with the upsert path
//! (the same file into an account whose partitions exist already): the same counts and every
//! stored column the same. Each test creates its own database; without a server they print
//! SKIPPED, unless `EBAY_IMPORT_REQUIRE_PG=1` (CI).

mod common;

use common::*;
use ebay_import_generate::OrdersReportOptions;

const TABLES: [(&str, &str); 3] = [
    ("orders", "order_key"),
    ("order_items", "item_key"),
    ("customers", "username"),
];
const DATA_TABLES: [&str; 5] = ["orders", "order_items", "listings", "products", "customers"];
/// Small batches, so a file spans several.
const BATCH: &str = "64KiB";

fn account_uuid(n: u8) -> String {
    format!("0190{n:02x}00-0000-7000-8000-0000000000{n:02x}")
}

/// Every stored column of the account's rows but the account and the job, one text per row,
/// in key order.
fn stored(env: &Env, account: &str) -> Vec<Vec<Option<String>>> {
    let mut all = Vec::new();
    for (table, key) in TABLES {
        all.extend(env.rows(&format!(
            "SELECT (to_jsonb(t) - 'account_id' - 'job_id')::text FROM {table} t \
             WHERE account_id = '{account}' ORDER BY {key}"
        )));
    }
    all
}

/// Makes the account's partitions of every data table, empty, so its imports upsert.
fn partitions_exist(env: &Env, account: &str) {
    let statements: Vec<String> = DATA_TABLES
        .iter()
        .map(|t| format!("SELECT ebay_import_add_partition('{t}', '{account}')"))
        .collect();
    let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    env.exec(&refs);
}

/// The counts of an import's JSON line that must agree between the two paths.
fn counts(run: &Run) -> serde_json::Value {
    let v = run.json();
    serde_json::json!([
        v["rows_read"],
        v["inserted"],
        v["updated"],
        v["unchanged"],
        v["rejected"],
        v["tables"],
        v["errors_by_code"]
    ])
}

/// Imports the file into a new account (bulk load) and into one whose partitions exist
/// (upsert), and checks that both give the same counts and store the same rows; returns the
/// new account's run.
fn same_as_upsert(env: &Env, file: &str, extra: &[&str]) -> Run {
    let (bulk, upsert) = (account_uuid(1), account_uuid(2));
    // The schema exists before the partitions are made.
    env.run(&["migrate"]).expect_code(0);
    partitions_exist(env, &upsert);
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["--batch-bytes", BATCH, file]);
    let loaded = env.import(&bulk, &args);
    let upserted = env.import(&upsert, &args);
    assert_eq!(
        loaded.code, upserted.code,
        "{}\n{}",
        loaded.stderr, upserted.stderr
    );
    assert_eq!(counts(&loaded), counts(&upserted));
    assert_eq!(stored(env, &bulk), stored(env, &upsert));
    assert!(!stored(env, &bulk).is_empty());
    loaded
}

/// The account's partition of `table`: whether it is attached, under forced row-level
/// security with a policy, and how many indexes it has.
fn partition(env: &Env, table: &str, account: &str) -> Option<(bool, bool, i64)> {
    let name = format!("{table}_{}", account.replace('-', ""));
    let rows = env.rows(&format!(
        "SELECT c.relispartition::text, (c.relrowsecurity AND c.relforcerowsecurity \
         AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))::text, \
         (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)::text \
         FROM pg_class c WHERE c.oid = to_regclass('{name}')"
    ));
    rows.first().map(|r| {
        let text = |i: usize| r[i].clone().unwrap_or_default();
        (
            text(0) == "true",
            text(1) == "true",
            text(2).parse().unwrap_or(0),
        )
    })
}

fn indexes_of(env: &Env, table: &str) -> i64 {
    env.count(&format!(
        "SELECT count(*) FROM pg_index WHERE indrelid = '{table}'::regclass"
    ))
}

#[test]
fn a_new_account_is_copied_into_partitions_of_its_own_and_stores_what_an_upsert_stores() {
    let Some(env) = Env::postgres("bulk_same") else {
        return;
    };
    env.generate_orders(
        "orders.csv",
        &OrdersReportOptions {
            rows: 3000,
            fault_every: Some(97),
            ..OrdersReportOptions::default()
        },
    );
    let run = same_as_upsert(&env, "orders.csv", &[]);
    assert!(u(&run.json(), "rejected") > 0, "{}", run.stdout);
    let account = account_uuid(1);
    for (table, _) in TABLES {
        let (attached, secured, indexes) =
            partition(&env, table, &account).unwrap_or_else(|| panic!("{table}: no partition"));
        assert!(attached, "{table}");
        assert!(secured, "{table}: row-level security");
        assert_eq!(
            indexes,
            indexes_of(&env, table),
            "{table}: every index of the parent"
        );
    }
    // The same file again goes through the upsert: every row unchanged.
    let again = env.import(&account, &["--batch-bytes", BATCH, "orders.csv"]);
    again.expect_code(0);
    assert_eq!(u(&again.json(), "inserted"), 0, "{}", again.stdout);
    assert_eq!(u(&again.json(), "updated"), 0, "{}", again.stdout);
}

/// Orders whose key comes back (`--on-duplicate last-wins`) in a later batch and within one
/// batch: a new account's partition is attached as soon as a key repeats, and the repeat is
/// upserted through the unique index.
#[test]
fn a_key_repeated_in_a_new_account_s_load_is_upserted_as_in_any_account() {
    let Some(env) = Env::postgres("bulk_repeat") else {
        return;
    };
    let mut csv = String::from("order_id,buyer_username,buyer_name,order_total,order_date\n");
    for i in 0..1500u32 {
        csv.push_str(&format!(
            "{},buyer_{},Buyer {},{}.50,2024-01-{:02}\n",
            100_000_000_000u64 + u64::from(i),
            i % 300,
            i % 300,
            10 + i % 90,
            1 + i % 28
        ));
    }
    // A later batch rewrites an order; two neighbouring rows share a new order.
    csv.push_str("100000000005,buyer_5,Buyer Five,999.99,2024-02-01\n");
    csv.push_str("200000000000,buyer_7,Buyer Seven,1.00,2024-02-02\n");
    csv.push_str("200000000000,buyer_7,Buyer Seven,2.00,2024-02-03\n");
    env.write("repeats.csv", csv);
    let run = same_as_upsert(&env, "repeats.csv", &["--on-duplicate", "last-wins"]);
    run.expect_code(0);
    let total = env.rows(&format!(
        "SELECT CAST(total_price AS TEXT) FROM orders WHERE account_id = '{}' \
         AND order_key IN ('100000000005', '200000000000') ORDER BY order_key",
        account_uuid(1)
    ));
    assert_eq!(
        total,
        vec![vec![Some("999.99".into())], vec![Some("2.00".into())]]
    );
}

#[test]
fn a_bulk_load_killed_before_its_commit_leaves_no_partition_and_the_next_one_loads() {
    let Some(env) = Env::postgres("bulk_killed") else {
        return;
    };
    let file = env.copy_sample();
    let account = account_uuid(3);
    let killed = env.run_env(
        &["import", "--account", &account, "--json", file],
        &[("EBAY_IMPORT_CRASH_AT", "commit")],
    );
    assert_ne!(killed.code, 0, "{}", killed.stderr);
    for (table, _) in TABLES {
        assert_eq!(partition(&env, table, &account), None, "{table}");
        assert_eq!(
            env.count(&format!(
                "SELECT count(*) FROM {table} WHERE account_id = '{account}'"
            )),
            0
        );
    }
    let jobs = env.run(&["jobs", "list", "--account", &account, "--json"]);
    jobs.expect_code(0);
    assert_eq!(s(&jobs.json_lines()[0], "status"), "interrupted");
    let again = env.import(&account, &[file]);
    again.expect_code(0);
    assert_eq!(u(&again.json(), "inserted"), 5, "{}", again.stdout);
    for (table, _) in TABLES {
        let (attached, _, indexes) = partition(&env, table, &account).expect("a partition");
        assert!(attached, "{table}");
        assert_eq!(indexes, indexes_of(&env, table), "{table}");
    }
}

#[test]
fn a_bulk_loaded_job_rolls_back_and_its_account_loads_again() {
    let Some(env) = Env::postgres("bulk_rollback") else {
        return;
    };
    let file = env.copy_sample();
    let account = account_uuid(4);
    let first = env.import(&account, &[file]);
    first.expect_code(0);
    let before = stored(&env, &account);
    let job = s(&first.json(), "job_id").to_string();
    env.run(&["rollback", &job]).expect_code(0);
    assert!(stored(&env, &account).is_empty());
    let again = env.import(&account, &[file]);
    again.expect_code(0);
    assert_eq!(u(&again.json(), "inserted"), 5, "{}", again.stdout);
    // The same rows, now written by the upsert into the emptied partitions.
    assert_eq!(stored(&env, &account), before);
}

/// A role that may read and write the data tables but owns none (and may create nothing)
/// imports into a new account: its partitions come from `ebay_import_add_partition`, which
/// runs as the tables' owner, and the rows are upserted through the parents.
#[test]
fn a_loader_role_that_owns_no_table_gets_its_account_s_partitions_from_the_owner() {
    let Some(env) = Env::postgres("bulk_loader") else {
        return;
    };
    env.run(&["migrate"]).expect_code(0);
    let role = format!("ei_loader_{}", uuid::Uuid::now_v7().simple());
    let db = env
        .db_url()
        .rsplit('/')
        .next()
        .expect("database")
        .to_string();
    db_exec(
        &format!("{}/postgres", pg_server()),
        &[&format!("CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")],
    );
    env.exec(&[
        &format!("GRANT CONNECT ON DATABASE {db} TO {role}"),
        &format!("GRANT USAGE ON SCHEMA public TO {role}"),
        &format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        &format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        &format!("GRANT TEMPORARY ON DATABASE {db} TO {role}"),
    ]);
    let url = env.db_url().replacen("postgres@", &format!("{role}@"), 1);
    let account = account_uuid(5);
    let args = [
        "--database",
        &url,
        "import",
        "--account",
        &account,
        "--json",
        env.copy_sample(),
    ];
    let run = Run::of(env.bare(&args), &args);
    let owner = env.rows(&format!(
        "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = to_regclass('orders_{}')",
        account.replace('-', "")
    ));
    let (code, stderr) = (run.code, run.stderr.clone());
    db_exec(
        &format!("{}/postgres", pg_server()),
        &[
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            &format!("DROP ROLE IF EXISTS {role}"),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(u(&run.json(), "inserted"), 5, "{}", run.stdout);
    assert_eq!(owner, vec![vec![Some("postgres".to_string())]]);
}
