//! PostgreSQL-only behaviour, against the real server: row-level security as a non-superuser,
//! connection problems, a backend terminated mid-import, and concurrent imports. Each test
//! creates its own database. When no server is reachable the tests print SKIPPED, unless
//! `EBAY_IMPORT_REQUIRE_PG=1` (CI), which makes that a failure.

mod common;

use common::*;
use ebay_import_generate::OrdersReportOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary with `--database URL`, run in `env`'s directory, outputs piped.
fn spawn(env: &Env, url: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ebay-import"))
        .arg("--database")
        .arg(url)
        .args(args)
        .current_dir(env.dir.path())
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ebay-import")
}

fn finish(child: Child) -> (i32, String, String) {
    let out = child.wait_with_output().expect("wait for ebay-import");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn generated(env: &Env, name: &str, rows: u64) -> String {
    env.generate_orders(
        name,
        &OrdersReportOptions {
            rows,
            ..OrdersReportOptions::default()
        },
    );
    name.to_string()
}

fn json_of(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.lines().next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("one JSON line expected: {e}\n{stdout}"))
}

#[test]
fn row_level_security_confines_every_statement_to_the_account_set_for_it() {
    let Some(env) = Env::postgres("rls") else {
        return;
    };
    let admin = env.db_url();
    let role = format!("ei_app_{}", uuid::Uuid::now_v7().simple());
    let db = admin.rsplit('/').next().expect("database name").to_string();
    db_exec(
        &format!("{}/postgres", pg_server()),
        &[
            &format!("CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"),
            &format!("ALTER DATABASE {db} OWNER TO {role}"),
        ],
    );
    // The engine itself runs as the non-superuser owner, under FORCE ROW LEVEL SECURITY.
    let app = admin.replacen("postgres@", &format!("{role}@"), 1);
    let file = env.copy_sample();
    let (a, b) = (
        "0190a000-0000-7000-8000-00000000000a",
        "0190b000-0000-7000-8000-00000000000b",
    );
    let listings = env.write(
        "listings.csv",
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/listings-active-us.csv"
        ))
        .expect("listings sample"),
    );
    for account in [a, b] {
        let (code, out, err) = finish(spawn(
            &env,
            &app,
            &["import", "--account", account, "--json", file],
        ));
        assert_eq!(code, 0, "{err}");
        assert_eq!(u(&json_of(&out), "inserted"), 5);
        let (code, out, err) = finish(spawn(
            &env,
            &app,
            &["import", "--account", account, "--json", &listings],
        ));
        assert_eq!(code, 0, "{err}");
        assert_eq!(u(&json_of(&out), "inserted"), 3);
    }

    let rows = |setting: Option<&str>, sql: &str| -> Vec<Vec<Option<String>>> {
        let set = setting.map(|s| format!("SET ebay_import.account_id = '{s}'"));
        block_on(async {
            let mut conn = PgConnection::connect(&app)
                .await
                .expect("connect as the app role");
            if let Some(set) = &set {
                sqlx::raw_sql(AssertSqlSafe(set.clone()))
                    .execute(&mut conn)
                    .await
                    .expect("set the account");
            }
            let out: Vec<(Option<String>,)> = sqlx::query_as(AssertSqlSafe(sql.to_string()))
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            out.into_iter().map(|(v,)| vec![v]).collect()
        })
    };
    let count = |setting: Option<&str>, sql: &str| -> String {
        rows(setting, sql)[0][0].clone().unwrap_or_default()
    };
    // Every data table: without the setting nothing is visible; with A set, A's rows only.
    for (table, per_account) in [
        ("orders", "3"),
        ("order_items", "4"),
        ("customers", "3"),
        ("listings", "3"),
        ("products", "3"),
    ] {
        let all = format!("SELECT COUNT(*)::text FROM {table}");
        assert_eq!(count(None, &all), "0", "{table}");
        assert_eq!(count(Some(a), &all), per_account, "{table}");
        let others = format!("{all} WHERE account_id = '{b}'");
        assert_eq!(count(Some(a), &others), "0", "{table}");
    }
    // Without the setting, nothing is visible.
    assert_eq!(count(None, "SELECT COUNT(*)::text FROM orders"), "0");
    assert_eq!(count(None, "SELECT COUNT(*)::text FROM order_items"), "0");
    // With account A set, only A's rows, whatever the query asks for.
    assert_eq!(count(Some(a), "SELECT COUNT(*)::text FROM orders"), "3");
    assert_eq!(
        count(
            Some(a),
            &format!("SELECT COUNT(*)::text FROM orders WHERE account_id = '{b}'")
        ),
        "0"
    );
    assert_eq!(
        rows(Some(a), "SELECT DISTINCT account_id::text FROM order_items"),
        vec![vec![t(a)]]
    );
    // Updating or deleting B's rows from A affects nothing; nor can A write rows for B.
    assert_eq!(
        count(
            Some(a),
            &format!(
                "WITH u AS (UPDATE orders SET buyer_name = 'x' WHERE account_id = '{b}' RETURNING 1) \
                 SELECT COUNT(*)::text FROM u"
            )
        ),
        "0"
    );
    assert_eq!(
        count(
            Some(a),
            &format!(
                "WITH d AS (DELETE FROM order_items WHERE account_id = '{b}' RETURNING 1) \
                 SELECT COUNT(*)::text FROM d"
            )
        ),
        "0"
    );
    let insert_for_b = block_on(async {
        let mut conn = PgConnection::connect(&app).await.expect("connect");
        sqlx::raw_sql(AssertSqlSafe(format!(
            "SET ebay_import.account_id = '{a}'; INSERT INTO orders (account_id, order_key, \
             row_hash, job_id, source_line) VALUES ('{b}', 'X', 0, gen_random_uuid(), 1)"
        )))
        .execute(&mut conn)
        .await
    });
    let err = insert_for_b
        .expect_err("a row for another account is refused")
        .to_string();
    assert!(err.contains("row-level security"), "{err}");
    // B's rows are all still there.
    assert_eq!(
        count(
            Some(b),
            "SELECT COUNT(*)::text FROM orders WHERE buyer_name = 'x'"
        ),
        "0"
    );
    assert_eq!(
        count(Some(b), "SELECT COUNT(*)::text FROM order_items"),
        "4"
    );

    drop(env);
    db_exec(
        &format!("{}/postgres", pg_server()),
        &[&format!("DROP ROLE IF EXISTS {role}")],
    );
}

/// The versions an upsert replaces are kept by the upsert itself, set-based: no data table
/// runs a trigger per row (a row trigger made a day of updates several times slower).
#[test]
fn no_data_table_runs_a_row_trigger() {
    let Some(env) = Env::postgres("no_triggers") else {
        return;
    };
    env.run(&["migrate"]).expect_code(0);
    let triggers =
        env.rows("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal");
    assert!(triggers.is_empty(), "{triggers:?}");
}

/// What the server says, by SQLSTATE, is the kind of store error callers match on.
#[test]
fn server_errors_have_their_kind() {
    use ebay_import_store::{ErrorKind, StoreError};
    let Some(env) = Env::postgres("kinds") else {
        return;
    };
    let cases = [
        ("23505", ErrorKind::Constraint),
        ("23502", ErrorKind::Constraint),
        ("53100", ErrorKind::DiskFull),
        ("40001", ErrorKind::Lock),
        ("40P01", ErrorKind::Lock),
        ("55P03", ErrorKind::Lock),
        ("57P01", ErrorKind::Connection),
        ("08006", ErrorKind::Connection),
        ("22012", ErrorKind::Other),
    ];
    block_on(async {
        let mut conn = PgConnection::connect(&env.db_url()).await.expect("connect");
        for (code, kind) in cases {
            let raise = format!("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '{code}'; END $$");
            let e = sqlx::raw_sql(AssertSqlSafe(raise))
                .execute(&mut conn)
                .await
                .expect_err("raised");
            assert_eq!(StoreError::from(e).kind(), kind, "{code}");
        }
    });
}

#[test]
fn connection_problems_are_one_clear_line_and_exit_2() {
    let Some(env) = Env::postgres("connect") else {
        return;
    };
    let server = pg_server();
    let missing = format!("{server}/ei_missing_{}", uuid::Uuid::now_v7().simple());
    let nobody = server.replacen("postgres@", "ei_no_such_role@", 1) + "/postgres";
    let cases = [
        ("postgres://postgres@127.0.0.1:1/x", "connection refused"),
        (missing.as_str(), "does not exist"),
        (nobody.as_str(), "authentication failed"),
        (
            "postgres://postgres@127.0.0.1:5432/x?sslmode=bogus",
            "invalid PostgreSQL URL",
        ),
        ("mysql://root@localhost/x", "unsupported database URL"),
    ];
    for (url, says) in cases {
        let (code, out, err) = finish(spawn(&env, url, &["jobs", "list"]));
        assert_eq!(code, 2, "{url}: {err}");
        assert!(out.is_empty(), "{url}: {out}");
        assert_eq!(err.trim_end().lines().count(), 1, "{url}: one line: {err}");
        assert!(err.contains(says), "{url}: {err}");
        assert!(err.starts_with("error: "), "{url}: {err}");
    }
    // A password never appears in a message.
    let (_, _, err) = finish(spawn(
        &env,
        "postgres://postgres:hunter2@127.0.0.1:1/x",
        &["jobs", "list"],
    ));
    assert!(!err.contains("hunter2"), "{err}");
}

/// Imports a 60,000-record report and ends its connection once the job is running and its
/// backend, inside the data transaction, matches `activity` (a condition on
/// `pg_stat_activity`); returns how the import ended.
fn import_terminated(env: &Env, activity: &str) -> (i32, String, String) {
    let url = env.db_url();
    let file = generated(env, "big.csv", 60_000);
    let child = spawn(env, &url, &["import", "--account", "demo", "--json", &file]);
    let started = Instant::now();
    let mut terminated = false;
    while started.elapsed() < Duration::from_secs(60) {
        if env.try_count("SELECT COUNT(*) FROM import_jobs WHERE status = 'processing'") != Some(1)
        {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let hit = env.rows(&format!(
            "SELECT CAST(pg_terminate_backend(pid) AS TEXT) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'ebay-import' \
             AND backend_xid IS NOT NULL AND {activity}"
        ));
        if hit.iter().any(|r| r[0].as_deref() == Some("true")) {
            terminated = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        terminated,
        "the import's data connection was never seen: {activity}"
    );
    finish(child)
}

/// The job failed, its record says so, and nothing of it is stored.
fn failed_with_nothing_stored(env: &Env, j: &serde_json::Value, err: &str) {
    assert_eq!(s(j, "status"), "failed");
    assert!(s(j, "error").ends_with("nothing of it was stored"), "{j}");
    assert!(
        err.contains(&format!("job {} failed: ", s(j, "job_id"))),
        "{err}"
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM order_items"), 0);
    assert_eq!(env.count("SELECT COUNT(*) FROM import_rejects"), 0);
    let job = s(j, "job_id").to_string();
    assert_eq!(
        env.rows(&format!(
            "SELECT status FROM import_jobs WHERE id = '{job}'"
        )),
        vec![vec![t("failed")]]
    );
}

#[test]
fn a_terminated_backend_fails_the_job_and_leaves_no_row_of_it() {
    let Some(env) = Env::postgres("terminate") else {
        return;
    };
    // Ended while it runs a statement whose answer it reads (not a COPY: the reset that
    // answers a client still sending COPY data drops the server's reason before the client
    // reads it; the next test covers that).
    let (code, out, err) = import_terminated(&env, "state = 'active' AND query NOT LIKE 'COPY%'");
    assert_eq!(code, 1, "{out}\n{err}");
    let j = json_of(&out);
    // What happened, once, without the server's own source line (which reads like a line of
    // the file).
    let error = s(&j, "error");
    assert_eq!(
        error.matches("terminating connection").count(),
        1,
        "{error}"
    );
    assert!(error.contains("SQLSTATE 57P01"), "{error}");
    assert!(!error.contains(" at line"), "{error}");
    failed_with_nothing_stored(&env, &j, &err);
}

#[test]
fn a_connection_ended_during_a_copy_fails_the_job_with_a_clear_reason() {
    let Some(env) = Env::postgres("terminate_copy") else {
        return;
    };
    let (code, out, err) = import_terminated(&env, "query LIKE 'COPY%'");
    assert_eq!(code, 1, "{out}\n{err}");
    let j = json_of(&out);
    let error = s(&j, "error");
    assert!(
        error.contains("terminating connection") || error.contains("closed it without a reason"),
        "{error}"
    );
    assert!(!error.contains("bytes at EOF"), "{error}");
    failed_with_nothing_stored(&env, &j, &err);
}

#[test]
fn imports_of_one_account_take_turns_while_other_accounts_run() {
    let Some(env) = Env::postgres("concurrent") else {
        return;
    };
    let url = env.db_url();
    let file = generated(&env, "orders.csv", 3_000);
    let (a, b) = (
        "0190a000-0000-7000-8000-0000000000aa",
        "0190b000-0000-7000-8000-0000000000bb",
    );
    // Hold account A's import lock, as a running import of A would, on a runtime that lives as
    // long as the connection (closing a TLS connection needs it).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let lock = rt.block_on(async {
        let mut conn = PgConnection::connect(&url).await.expect("connect");
        sqlx::query(AssertSqlSafe(format!(
            "SELECT pg_advisory_lock(hashtextextended('ebay_import:' || '{a}', 0))"
        )))
        .execute(&mut conn)
        .await
        .expect("take A's lock");
        conn
    });
    let import = |account: &str| {
        spawn(
            &env,
            &url,
            &["import", "--account", account, "--json", &file],
        )
    };
    let waiting_a = [import(a), import(a)];
    let a_spawned = Instant::now();
    let b_runs = [import(b), import(b)];
    // Both imports of B complete while A is held; one inserted every row, the other found
    // them unchanged: they took turns.
    let mut b_counts: Vec<(u64, u64)> = b_runs
        .into_iter()
        .map(|c| {
            let (code, out, err) = finish(c);
            assert_eq!(code, 0, "{err}");
            let j = json_of(&out);
            (u(&j, "inserted"), u(&j, "unchanged"))
        })
        .collect();
    b_counts.sort();
    assert_eq!(b_counts, vec![(0, 3_000), (3_000, 0)]);
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM import_jobs WHERE account_id = '{a}' AND status = 'processing'"
        )),
        2,
        "A's imports wait for the lock"
    );
    // A waiting import says so after a second; B's imports may finish sooner.
    std::thread::sleep(Duration::from_millis(1500).saturating_sub(a_spawned.elapsed()));
    rt.block_on(lock.close()).expect("release A's lock");
    let mut a_counts = Vec::new();
    for c in waiting_a {
        let (code, out, err) = finish(c);
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("waiting for another import of account"),
            "{err}"
        );
        let j = json_of(&out);
        a_counts.push((u(&j, "inserted"), u(&j, "unchanged")));
    }
    a_counts.sort();
    assert_eq!(a_counts, vec![(0, 3_000), (3_000, 0)]);
}
