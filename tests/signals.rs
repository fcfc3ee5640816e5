//! Stop signals end an import at its next batch boundary, on both stores: the job becomes
//! `interrupted` saying what is stored (a `--commit-every` job commits its finished part
//! first), the command exits with 128 + the signal and one line on stderr; a second signal
//! ends the process at once.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

/// Big enough that an import is still reading when the signal comes.
const BIG_ROWS: u64 = 15_000;

#[test]
fn sigterm_or_sigint_stops_an_import_interrupting_its_job_with_nothing_stored() {
    for env in Env::each_store("sigterm_one_go") {
        let file = orders_file(&env, "big.csv", BIG_ROWS, Some(53));
        let store = env.store_name();
        for (name, code) in [("TERM", 143), ("INT", 130)] {
            let account = format!("stopped-by-{}", name.to_lowercase());
            let child = env.spawn(&import_args(&account, &[], &file));
            wait_for_job(&env, &account, "j.status = 'processing'");
            signal(&child, name);
            let (status, out, err) = finish_within(child, Duration::from_secs(120));
            assert_eq!(status.code(), Some(code), "{store} SIG{name}: {out}\n{err}");
            let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(
                lines.len(),
                1,
                "{store} SIG{name}: one line on stderr: {err}"
            );
            let why = format!("stopped by SIG{name} before finishing");
            assert!(
                lines[0].contains("ebay-import: job ")
                    && lines[0].contains(&why)
                    && lines[0].contains("nothing of it was stored"),
                "{store}: {err}"
            );
            let j: Value = serde_json::from_str(out.trim()).expect("the job's JSON line");
            assert_eq!(s(&j, "status"), "interrupted");
            let recorded = job_of(&env, &account);
            assert_eq!(s(&recorded, "status"), "interrupted", "{store}: {recorded}");
            assert!(s(&recorded, "error").contains(&why), "{store}: {recorded}");
            assert_eq!(raw_status(&env, s(&recorded, "id")), "interrupted");
            let account_id = s(&recorded, "account_id");
            for table in ["orders", "order_items", "customers"] {
                assert_eq!(
                    rows_of_account(&env, table, account_id),
                    0,
                    "{store}: {table}"
                );
            }
            assert!(rejects_of(&env, s(&recorded, "id")).is_empty());
        }
    }
}

#[test]
fn sigterm_during_a_commit_every_import_keeps_its_finished_parts_and_resume_completes_it() {
    for env in Env::each_store("sigterm_parts") {
        let file = orders_file(&env, "orders.csv", 3000, Some(31));
        let one_go = env.import("reference", &[&file]);
        one_go.expect_code(0);
        let r = one_go.json();
        let store = env.store_name();
        let parts = ["--commit-every", "200", "--batch-bytes", "64KiB"];
        let child = env.spawn(&import_args("parts", &parts, &file));
        wait_for_job(&env, "parts", "j.resume_cursor IS NOT NULL");
        signal(&child, "TERM");
        let (status, out, err) = finish_within(child, Duration::from_secs(120));
        assert_eq!(status.code(), Some(143), "{store}: {out}\n{err}");
        assert_eq!(err.trim().lines().count(), 1, "{store}: {err}");
        let j = job_of(&env, "parts");
        let id = s(&j, "id").to_string();
        assert_eq!(s(&j, "status"), "interrupted", "{store}: {j}");
        let error = s(&j, "error");
        assert!(
            error.starts_with("stopped by SIGTERM before finishing; its first ")
                && error.contains(&format!("`resume {id}` continues")),
            "{store}: {error}"
        );
        assert!(err.contains(error), "{store}: {err}");
        // What it says is stored is what is stored.
        assert!(u(&j, "rows_read") >= 200 && u(&j, "rows_read") < u(&r, "rows_read"));
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                table_count(&j, table, "inserted"),
                rows_of_job(&env, table, &id),
                "{store}: {table}"
            );
        }
        assert_eq!(rejects_of(&env, &id).len() as u64, u(&j, "rejected"));

        let resumed = env.run(&["resume", &id, "--json"]);
        resumed.expect_code(0);
        assert_same_outcome(
            &resumed.json(),
            &r,
            &format!("{store}: resumed against one go"),
        );
        assert_same_rows(&env, s(&j, "account_id"), s(&r, "account_id"), "resumed");
        assert_eq!(rejects_of(&env, &id), rejects_of(&env, s(&r, "job_id")));

        // A part that would not commit for a long while yet: the stop commits what is
        // finished of it.
        let long = ["--commit-every", "1000000", "--batch-bytes", "64KiB"];
        let child = env.spawn(&import_args("long-part", &long, &file));
        wait_for_job(&env, "long-part", "j.status = 'processing'");
        signal(&child, "TERM");
        let (status, out, err) = finish_within(child, Duration::from_secs(120));
        assert_eq!(status.code(), Some(143), "{store}: {out}\n{err}");
        let j = job_of(&env, "long-part");
        let id = s(&j, "id").to_string();
        assert_eq!(s(&j, "status"), "interrupted", "{store}: {j}");
        assert!(
            j["resume_cursor"].is_object(),
            "{store}: committed at the stop: {j}"
        );
        assert!(u(&j, "rows_read") > 0 && u(&j, "rows_read") < u(&r, "rows_read"));
        assert_eq!(
            table_count(&j, "orders", "inserted"),
            rows_of_job(&env, "orders", &id),
            "{store}: {j}"
        );
        let resumed = env.run(&["resume", &id, "--json"]);
        resumed.expect_code(0);
        assert_same_outcome(
            &resumed.json(),
            &r,
            &format!("{store}: resumed a long part"),
        );
    }
}

#[test]
fn a_second_stop_signal_ends_the_process_at_once_and_its_job_reads_interrupted() {
    for env in Env::each_store("two_signals") {
        let file = orders_file(&env, "big.csv", BIG_ROWS, None);
        let store = env.store_name();
        let child = env.spawn(&import_args("twice", &[], &file));
        wait_for_job(&env, "twice", "j.status = 'processing'");
        signal(&child, "TERM");
        std::thread::sleep(Duration::from_millis(2));
        signal(&child, "TERM");
        let (status, out, err) = finish_within(child, Duration::from_secs(60));
        assert_eq!(status.code(), Some(143), "{store}: {out}\n{err}");
        wait_for_sessions_gone(&env);
        let j = job_of(&env, "twice");
        assert_eq!(s(&j, "status"), "interrupted", "{store}: {j}");
        assert!(s(&j, "error").contains("nothing of it was stored"), "{j}");
        let account_id = s(&j, "account_id");
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                rows_of_account(&env, table, account_id),
                0,
                "{store}: {table}"
            );
        }
        // An import afterwards runs as usual.
        env.import("twice", &[&file]).expect_code(0);
    }
}

#[test]
fn sigterm_while_waiting_for_another_sqlite_writer_ends_the_wait_with_exit_143() {
    let env = Env::new();
    let file = env.copy_sample();
    env.import("demo", &[file]).expect_code(0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let holder = rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&env.db_url())
            .await
            .expect("connect");
        sqlx::raw_sql("BEGIN IMMEDIATE; DELETE FROM import_rejects WHERE 0")
            .execute(&mut c)
            .await
            .expect("take the write lock");
        c
    });
    let child = env.spawn(&["import", "--account", "demo", "--json", file]);
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "TERM");
    let (status, out, err) = finish_within(child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(143), "{out}\n{err}");
    assert!(err.contains("stopped by SIGTERM"), "{err}");
    rt.block_on(async {
        use sqlx::Connection;
        holder.close().await.expect("release the write lock")
    });
    let list = env.run(&["jobs", "list", "--json"]);
    list.expect_code(0);
    for j in list.json_lines() {
        assert_ne!(s(&j, "status"), "processing", "{j}");
    }
}
