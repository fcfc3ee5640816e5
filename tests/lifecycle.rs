//! The job lifecycle end to end, on both stores: a job's record commits with its data (crash
//! points), `resume` and `rollback` under the job's run lock, concurrent commands, outputs
//! that may not overwrite inputs, inputs that change while read, run locks and read-only
//! reads, `--lock-timeout`, and row-level security on the job tables. Signals are in
//! `tests/signals.rs`.

mod common;

use common::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::time::Duration;

/// A `--commit-every` job in several parts, even of a small file: 64 KiB batches (about 140
/// generated records each), a commit after every 200 records.
const PARTS: [&str; 4] = ["--commit-every", "200", "--batch-bytes", "64KiB"];

// --- 1. a job's record commits with its data --------------------------------------------------

#[test]
fn a_commit_every_job_crashed_after_its_second_commit_shows_exactly_its_committed_parts_and_resumes_to_the_one_go_result(
) {
    for env in Env::each_store("crash_second_commit") {
        let file = orders_file(&env, "orders.csv", 1200, Some(37));
        let one_go = env.import("one-go", &[&file]);
        one_go.expect_code(0);
        let r = one_go.json();
        let reference = s(&r, "account_id").to_string();

        crashed(&env, "committed:2", &import_args("parts", &PARTS, &file));
        let j = job_of(&env, "parts");
        let store = env.store_name();
        assert_eq!(s(&j, "status"), "interrupted", "{store}: {j}");
        let id = s(&j, "id").to_string();
        let account = s(&j, "account_id").to_string();
        // Its counts are those of the rows stored under its id: the two committed parts.
        assert_reconciles(&j);
        assert_eq!(u(&j, "updated") + u(&j, "unchanged"), 0, "{store}: {j}");
        assert_eq!(u(&j, "inserted"), records_of_job(&env, &id), "{store}: {j}");
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                table_count(&j, table, "inserted"),
                rows_of_job(&env, table, &id),
                "{store}: {table} of {j}"
            );
            assert_eq!(
                rows_of_job(&env, table, &id),
                rows_of_account(&env, table, &account),
                "{store}: every {table} row of the account is the job's"
            );
        }
        assert_eq!(
            u(&j, "rejected"),
            rejects_of(&env, &id).len() as u64,
            "{store}: {j}"
        );
        let rows_read = u(&j, "rows_read");
        assert!(
            rows_read >= 400 && rows_read < u(&r, "rows_read"),
            "{store}: two parts of at least 200 records each, not the whole file: {j}"
        );
        // Nothing after the committed part is stored.
        let next_line = j["resume_cursor"]["next"]["line"]
            .as_u64()
            .unwrap_or_else(|| panic!("{store}: a resume cursor in {j}"));
        assert_eq!(
            env.count(&format!(
                "SELECT COUNT(*) FROM orders WHERE job_id = '{id}' AND source_line >= {next_line}"
            )),
            0
        );
        let error = s(&j, "error");
        assert!(
            error.contains(&format!("`resume {id}`"))
                && error.contains(&format!(
                    "first {rows_read} record(s), before line {next_line}"
                )),
            "{store}: {error}"
        );

        let resumed = env.run(&["resume", &id, "--json"]);
        resumed.expect_code(0);
        let res = resumed.json();
        assert_eq!(s(&res, "job_id"), id);
        assert_same_outcome(&res, &r, &format!("{store}: resumed against one go"));
        assert_same_outcome(&job(&env, &id), &r, &format!("{store}: the job's record"));
        assert_same_rows(&env, &account, &reference, "resumed against one go");
        assert_eq!(
            rejects_of(&env, &id),
            rejects_of(&env, s(&r, "job_id")),
            "{store}: the same rejects, each once"
        );
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                rows_of_job(&env, table, &id),
                rows_of_account(&env, table, &account),
                "{store}: every {table} row of the account is the job's"
            );
        }
    }
}

#[test]
fn a_one_go_job_crashed_after_its_commit_is_completed_and_before_it_stored_nothing_and_cannot_be_resumed_or_rolled_back(
) {
    for env in Env::each_store("crash_one_go") {
        let file = orders_file(&env, "orders.csv", 400, Some(41));
        let one_go = env.import("reference", &[&file]);
        one_go.expect_code(0);
        let r = one_go.json();
        let store = env.store_name();

        // Crashed right after its commit: the record committed with the rows.
        crashed(&env, "committed", &import_args("after", &[], &file));
        let after = job_of(&env, "after");
        assert_same_outcome(&after, &r, &format!("{store}: crashed after the commit"));
        assert_eq!(after["resume_cursor"], Value::Null);
        assert!(after["file_sha256"].is_string(), "{store}: {after}");
        assert_eq!(after["file_sha256"], r["file_sha256"]);
        assert_same_rows(
            &env,
            s(&after, "account_id"),
            s(&r, "account_id"),
            "crashed after the commit",
        );
        assert_eq!(
            rejects_of(&env, s(&after, "id")),
            rejects_of(&env, s(&r, "job_id"))
        );

        // Crashed after writing its second batch inside its transaction: nothing stored.
        crashed(
            &env,
            "batch:2",
            &import_args("mid", &["--batch-bytes", "64KiB"], &file),
        );
        let mid = job_of(&env, "mid");
        assert_eq!(s(&mid, "status"), "interrupted", "{store}: {mid}");
        assert_eq!(rows_of_account(&env, "orders", s(&mid, "account_id")), 0);
        assert!(rejects_of(&env, s(&mid, "id")).is_empty());

        // Crashed right before it: nothing stored, and the record says so.
        crashed(&env, "commit", &import_args("before", &[], &file));
        let before = job_of(&env, "before");
        let id = s(&before, "id").to_string();
        let account = s(&before, "account_id").to_string();
        assert_eq!(s(&before, "status"), "interrupted", "{store}: {before}");
        let error = s(&before, "error");
        assert!(
            error.contains("nothing of it was stored"),
            "{store}: {error}"
        );
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                rows_of_account(&env, table, &account),
                0,
                "{store}: {table}"
            );
        }
        assert!(rejects_of(&env, &id).is_empty());
        let resume = env.run(&["resume", &id]);
        resume.expect_code(2);
        assert!(
            resume.stderr.contains("no resume point"),
            "{}",
            resume.stderr
        );
        let rollback = env.run(&["rollback", &id]);
        rollback.expect_code(1);
        assert!(
            rollback.stderr.contains("nothing of it was stored"),
            "{}",
            rollback.stderr
        );
        assert_eq!(s(&job(&env, &id), "status"), "interrupted");
    }
}

#[test]
fn a_rollback_crashed_before_its_commit_left_the_job_whole_and_after_it_rolled_back() {
    for env in Env::each_store("crash_rollback") {
        let file = orders_file(&env, "orders.csv", 300, Some(29));
        let store = env.store_name();
        let first = env.import("undone", &[&file]);
        first.expect_code(0);
        let a = first.json();
        let (id, account) = (s(&a, "job_id").to_string(), s(&a, "account_id").to_string());
        let orders = stored(&env, "orders", &account);
        let items = stored(&env, "order_items", &account);
        assert!(!orders.is_empty());

        // The rows were undone in the transaction, the record not yet written: nothing of it
        // committed.
        crashed(&env, "undone", &["rollback", &id]);
        let j = job(&env, &id);
        assert_eq!(s(&j, "status"), s(&a, "status"), "{store}: {j}");
        assert_eq!(stored(&env, "orders", &account), orders, "{store}");
        assert_eq!(stored(&env, "order_items", &account), items, "{store}");
        // And it can be rolled back afterwards.
        env.run(&["rollback", &id]).expect_code(0);
        assert_eq!(s(&job(&env, &id), "status"), "rolled_back");
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                rows_of_account(&env, table, &account),
                0,
                "{store}: {table}"
            );
        }

        // Crashed right after its commit: rolled back, rows gone.
        let second = env.import("committed", &[&file]);
        second.expect_code(0);
        let b = second.json();
        let (id, account) = (s(&b, "job_id").to_string(), s(&b, "account_id").to_string());
        assert!(rows_of_account(&env, "orders", &account) > 0);
        crashed(&env, "committed", &["rollback", &id]);
        assert_eq!(s(&job(&env, &id), "status"), "rolled_back", "{store}");
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                rows_of_account(&env, table, &account),
                0,
                "{store}: {table}"
            );
        }
    }
}

// --- 2. killed between its last part and its end -----------------------------------------------

#[test]
fn a_commit_every_job_killed_at_its_final_commit_resumes_to_the_one_go_result_with_each_reject_once(
) {
    for env in Env::each_store("crash_final_commit") {
        let file = orders_file(&env, "orders.csv", 300, Some(23));
        let one_go = env.import("reference", &[&file]);
        one_go.expect_code(0);
        let r = one_go.json();
        let store = env.store_name();
        // With a commit at every batch boundary, the last batch commits as a part of its own;
        // the commit after it is the job's final one. Crash at each commit in turn until the
        // crashed job holds every record: that crash was at the final commit.
        let parts = ["--commit-every", "1", "--batch-bytes", "64KiB"];
        let mut last = None;
        for k in 1..=30 {
            let account = format!("final-{k}");
            crashed(
                &env,
                &format!("commit:{k}"),
                &import_args(&account, &parts, &file),
            );
            let j = job_of(&env, &account);
            assert_eq!(s(&j, "status"), "interrupted", "{store}: {j}");
            // Whichever commit it died at, its record counts what is stored under its id.
            let id = s(&j, "id");
            assert_reconciles(&j);
            assert_eq!(u(&j, "inserted"), records_of_job(&env, id), "{store}: {j}");
            assert_eq!(
                u(&j, "rejected"),
                rejects_of(&env, id).len() as u64,
                "{store}: {j}"
            );
            assert_eq!(
                table_count(&j, "orders", "inserted"),
                rows_of_job(&env, "orders", id),
                "{store}: {j}"
            );
            if u(&j, "rows_read") == u(&r, "rows_read") {
                last = Some(j);
                break;
            }
        }
        let j = last.unwrap_or_else(|| panic!("{store}: no crash left every part committed"));
        let id = s(&j, "id").to_string();
        let account = s(&j, "account_id").to_string();
        // Every part is stored and counted; only the job's end is missing.
        for key in ["rows_read", "inserted", "rejected", "errors_by_code"] {
            assert_eq!(j[key], r[key], "{store}: {key}");
        }
        assert_eq!(rejects_of(&env, &id), rejects_of(&env, s(&r, "job_id")));
        assert!(s(&j, "error").contains(&format!("`resume {id}`")), "{j}");

        let resumed = env.run(&["resume", &id, "--json"]);
        resumed.expect_code(0);
        let res = resumed.json();
        assert_same_outcome(&res, &r, &format!("{store}: resumed against one go"));
        assert_eq!(res["file_sha256"], r["file_sha256"], "{store}");
        assert_same_rows(&env, &account, s(&r, "account_id"), "resumed at its end");
        assert_eq!(
            rejects_of(&env, &id),
            rejects_of(&env, s(&r, "job_id")),
            "{store}: each reject once"
        );
    }
}

// --- 3. the committed part of a resumed file must be unchanged ----------------------------------

#[test]
fn a_resume_refuses_a_file_whose_committed_part_changed_even_at_the_same_length() {
    for env in Env::each_store("resume_changed") {
        let file = orders_file(&env, "orders.csv", 1000, None);
        let one_go = env.import("reference", &[&file]);
        one_go.expect_code(0);
        let r = one_go.json();
        let store = env.store_name();
        crashed(&env, "committed:1", &import_args("parts", &PARTS, &file));
        let before = job_of(&env, "parts");
        let id = s(&before, "id").to_string();
        let account = s(&before, "account_id").to_string();
        let committed = rows_of_account(&env, "orders", &account);
        assert!(committed > 0);

        // Flip a digit of a data line early in the committed part: same length, other bytes.
        let original = std::fs::read(env.path(&file)).expect("read the file");
        let mut changed = original.clone();
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(
                original
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        let from = line_starts[9];
        let at = from
            + original[from..]
                .iter()
                .position(u8::is_ascii_digit)
                .expect("a digit");
        changed[at] = if changed[at] == b'9' {
            b'1'
        } else {
            changed[at] + 1
        };
        assert_eq!(changed.len(), original.len());
        std::fs::write(env.path(&file), &changed).expect("change the file");

        let refused = env.run(&["resume", &id, "--json"]);
        refused.expect_code(1);
        assert!(
            refused.stderr.contains("not the file the job started with"),
            "{store}: {}",
            refused.stderr
        );
        let after = job(&env, &id);
        assert_eq!(
            after["file_sha256"], before["file_sha256"],
            "{store}: {after}"
        );
        assert_eq!(after["file_size"], before["file_size"], "{store}: {after}");
        assert_eq!(after["rows_read"], before["rows_read"], "{store}: {after}");
        assert_eq!(rows_of_account(&env, "orders", &account), committed);

        // The file as it was: the resume goes through.
        std::fs::write(env.path(&file), &original).expect("restore the file");
        let resumed = env.run(&["resume", &id, "--json"]);
        resumed.expect_code(0);
        let res = resumed.json();
        assert_same_outcome(&res, &r, &format!("{store}: resumed against one go"));
        assert_eq!(res["file_sha256"], r["file_sha256"]);
        assert_eq!(res["file_size"], r["file_size"]);
        assert_same_rows(
            &env,
            &account,
            s(&r, "account_id"),
            "resumed after the restore",
        );
    }
}

#[test]
fn a_resume_refuses_a_file_cut_short_or_grown_since_its_job_read_it_and_writes_nothing() {
    let env = Env::new();
    let file = orders_file(&env, "orders.csv", 1000, None);
    crashed(&env, "committed:1", &import_args("parts", &PARTS, &file));
    let before = job_of(&env, "parts");
    let id = s(&before, "id").to_string();
    let account = s(&before, "account_id").to_string();
    let committed = rows_of_account(&env, "orders", &account);
    let original = std::fs::read(env.path(&file)).expect("read the file");
    let cursor = before["resume_cursor"]["next"]["byte"]
        .as_u64()
        .expect("a cursor") as usize;
    // Cut inside the committed part, then grown by a line.
    let cut = &original[..cursor / 2];
    let mut grown = original.clone();
    grown.extend_from_slice(
        b"1,11-11111-11111,Ann,ann@example.com,111111111111,1,$1.00,$1.00,Mar-15-24\r\n",
    );
    for (what, bytes) in [("cut short", cut), ("grown", &grown[..])] {
        std::fs::write(env.path(&file), bytes).expect("change the file");
        let refused = env.run(&["resume", &id, "--json"]);
        // Not the file the job started with: exit 1, as for other content of the same length.
        refused.expect_code(1);
        assert!(
            refused.stderr.contains("not the same file")
                || refused.stderr.contains("not the file the job started with"),
            "{what}: {}",
            refused.stderr
        );
        assert_eq!(
            rows_of_account(&env, "orders", &account),
            committed,
            "{what}"
        );
        let after = job(&env, &id);
        assert_eq!(after["file_size"], before["file_size"], "{what}");
        assert_eq!(after["rows_read"], before["rows_read"], "{what}");
    }
    std::fs::write(env.path(&file), &original).expect("restore the file");
    env.run(&["resume", &id]).expect_code(0);
}

// --- 4. one go and --commit-every store the same customers ---------------------------------------

/// Orders with the customer columns, for the customers refresh.
const CUSTOMER_HEADER: &str = "Sales Record Number,Order Number,Buyer Username,Buyer Name,\
     Buyer Email,Phone,Buyer Address 1,Buyer City,Buyer Zip,Buyer Country,Ship To Name,\
     Ship To Address 1,Item Number,Quantity,Sold For,Total Price,Sale Date";

fn customer_line(n: u64, buyer: &str, filled: bool, date: &str) -> String {
    let who = if filled {
        format!(
            "{buyer}{n}@example.com,555-{n:04},{n} Main St,Springfield,{:05},US,{buyer} at home,{n} Main St",
            10000 + n
        )
    } else {
        ",,,,,,,".to_string()
    };
    format!(
        "{n},10-{:05}-{:05},{buyer},Buyer {buyer},{who},{:012},1,$5.00,$5.00,{date}",
        n / 100000,
        n % 100000,
        100_000_000_000 + n
    )
}

#[test]
fn one_go_and_commit_every_store_the_same_customers_when_a_later_order_leaves_fields_empty() {
    for env in Env::each_store("same_customers") {
        let store = env.store_name();
        // Before the job, bob is known with an old email.
        let before = format!(
            "{CUSTOMER_HEADER}\n{}\n",
            customer_line(900_000, "bob", true, "Jan-01-24")
        );
        let before = env.write("before.csv", before);
        // The job: alice's and bob's first orders fill every field, filler orders of other
        // buyers make several 4 KiB batches, and their later orders (later sale dates, in the
        // last batch) leave email, phone and addresses empty.
        let mut text = format!("{CUSTOMER_HEADER}\n");
        text.push_str(&customer_line(1, "alice", true, "Feb-01-24"));
        text.push('\n');
        text.push_str(&customer_line(2, "bob", true, "Feb-02-24"));
        text.push('\n');
        for n in 3..300 {
            text.push_str(&customer_line(n, &format!("filler{n}"), true, "Mar-01-24"));
            text.push('\n');
        }
        text.push_str(&customer_line(300, "alice", false, "Jun-01-24"));
        text.push('\n');
        text.push_str(&customer_line(301, "bob", false, "Jun-02-24"));
        text.push('\n');
        assert!(
            text.len() > 8 * 4096,
            "several batches: {} bytes",
            text.len()
        );
        let file = env.write("orders.csv", text);

        let mut accounts = Vec::new();
        let mut summaries = Vec::new();
        for (account, extra) in [
            ("one-go", vec![]),
            (
                "parts",
                vec!["--commit-every", "1", "--batch-bytes", "4KiB"],
            ),
        ] {
            env.import(account, &[&before]).expect_code(0);
            let run = env.import(account, &[&extra[..], &[file.as_str()][..]].concat());
            run.expect_code(0);
            let j = run.json();
            accounts.push(s(&j, "account_id").to_string());
            summaries.push(j);
        }
        let (one_go, parts) = (&summaries[0], &summaries[1]);
        assert_same_outcome(parts, one_go, &format!("{store}: in parts against one go"));
        let customers = |account: &str| stored(&env, "customers", account);
        let want = customers(&accounts[0]);
        let got = customers(&accounts[1]);
        for buyer in ["alice", "bob"] {
            let find = |rows: &[Vec<Option<String>>]| {
                rows.iter()
                    .find(|r| r[0].as_deref() == Some(buyer))
                    .cloned()
                    .unwrap_or_else(|| panic!("{store}: customer {buyer}"))
            };
            assert_eq!(
                find(&got),
                find(&want),
                "{store}: {buyer} as stored in parts (left) and in one go (right); columns {:?}",
                columns(&env, "customers")
            );
        }
        assert_eq!(got, want, "{store}: every customer");
    }
}

// --- 5. concurrent commands ----------------------------------------------------------------------

#[test]
fn four_imports_started_at_once_on_a_database_that_does_not_exist_yet_all_complete() {
    for env in Env::each_store("four_at_once") {
        let file = env.copy_sample();
        if !env.is_postgres() {
            assert!(!env.db_path().exists());
        }
        let children: Vec<Child> = (0..4)
            .map(|_| env.spawn(&["import", "--account", "demo", "--json", file]))
            .collect();
        let mut counts: Vec<(u64, u64)> = children
            .into_iter()
            .map(|c| {
                let (status, out, err) = finish_within(c, Duration::from_secs(120));
                assert_eq!(status.code(), Some(0), "{}: {err}", env.store_name());
                let j: Value = serde_json::from_str(out.trim()).expect("one JSON line");
                (u(&j, "inserted"), u(&j, "unchanged"))
            })
            .collect();
        counts.sort();
        let n = counts[3].0;
        assert!(n > 0);
        assert_eq!(
            counts,
            vec![(0, n), (0, n), (0, n), (n, 0)],
            "{}: they took turns",
            env.store_name()
        );
    }
}

#[test]
fn of_three_rollbacks_of_one_job_started_at_once_exactly_one_succeeds() {
    for env in Env::each_store("three_rollbacks") {
        let file = orders_file(&env, "orders.csv", 300, None);
        let run = env.import("demo", &[&file]);
        run.expect_code(0);
        let id = s(&run.json(), "job_id").to_string();
        let children: Vec<Child> = (0..3).map(|_| env.spawn(&["rollback", &id])).collect();
        let mut ok = 0;
        for c in children {
            let (status, _, err) = finish_within(c, Duration::from_secs(120));
            match status.code() {
                Some(0) => ok += 1,
                Some(1) => assert!(err.contains("rolled_back"), "{}: {err}", env.store_name()),
                other => panic!(
                    "{}: rollback exited with {other:?}: {err}",
                    env.store_name()
                ),
            }
        }
        assert_eq!(ok, 1, "{}", env.store_name());
        assert_eq!(s(&job(&env, &id), "status"), "rolled_back");
        assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 0);
    }
}

#[test]
fn of_two_resumes_of_one_job_started_together_exactly_one_runs_and_the_result_is_the_one_go_one() {
    for env in Env::each_store("two_resumes") {
        let file = orders_file(&env, "orders.csv", 1000, Some(31));
        let one_go = env.import("reference", &[&file]);
        one_go.expect_code(0);
        let r = one_go.json();
        let store = env.store_name();
        crashed(&env, "committed:1", &import_args("parts", &PARTS, &file));
        let j = job_of(&env, "parts");
        let id = s(&j, "id").to_string();
        let children: Vec<Child> = (0..2)
            .map(|_| env.spawn(&["resume", &id, "--json"]))
            .collect();
        let mut ran = Vec::new();
        let mut refused = Vec::new();
        for c in children {
            let (status, out, err) = finish_within(c, Duration::from_secs(120));
            match status.code() {
                Some(0) => ran.push(out),
                Some(_) => refused.push((out, err)),
                None => panic!("{store}: a resume died: {err}"),
            }
        }
        assert_eq!(ran.len(), 1, "{store}: refused: {refused:?}");
        assert_eq!(
            refused[0].0.trim(),
            "",
            "{store}: the refused resume reports no job"
        );
        let res: Value = serde_json::from_str(ran[0].trim()).expect("one JSON line");
        assert_same_outcome(&res, &r, &format!("{store}: resumed against one go"));
        assert_same_outcome(&job(&env, &id), &r, &format!("{store}: the job's record"));
        assert_eq!(rejects_of(&env, &id), rejects_of(&env, s(&r, "job_id")));
        assert_same_rows(
            &env,
            s(&j, "account_id"),
            s(&r, "account_id"),
            "resumed twice at once",
        );
    }
}

/// A trigger that fails every insert of an item from a line after `line`, as a full disk would.
fn fail_items_after(env: &Env, line: u64) {
    let trigger = if env.is_postgres() {
        format!(
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.source_line > {line} THEN RAISE EXCEPTION 'simulated disk failure'; \
             END IF; RETURN NEW; END $$; \
             CREATE TRIGGER boom BEFORE INSERT ON order_items FOR EACH ROW EXECUTE FUNCTION boom();"
        )
    } else {
        format!(
            "CREATE TRIGGER boom BEFORE INSERT ON order_items WHEN NEW.source_line > {line} \
             BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END;"
        )
    };
    env.exec(&[&trigger]);
}

fn stop_failing(env: &Env) {
    if env.is_postgres() {
        env.exec(&["DROP TRIGGER boom ON order_items", "DROP FUNCTION boom()"]);
    } else {
        env.exec(&["DROP TRIGGER boom"]);
    }
}

#[test]
fn a_commit_every_job_failing_in_a_later_part_keeps_its_committed_parts_to_resume_or_roll_back() {
    for env in Env::each_store("fails_later") {
        let file = orders_file(&env, "orders.csv", 700, Some(43));
        let one_go = env.import("reference", &[&file]);
        one_go.expect_code(0);
        let r = one_go.json();
        let store = env.store_name();
        // The account to roll back already holds the file's first orders and their buyers.
        let pre = orders_file(&env, "pre.csv", 300, Some(43));
        env.import("undo", &[&pre]).expect_code(0);
        let undo = s(&job_of(&env, "undo"), "account_id").to_string();
        let before: Vec<_> = ["orders", "order_items", "customers"]
            .iter()
            .map(|t| stored(&env, t, &undo))
            .collect();

        fail_items_after(&env, 600);
        let mut failed = Vec::new();
        for account in ["parts", "undo"] {
            let run = env.import(account, &[&PARTS[..], &[file.as_str()][..]].concat());
            run.expect_code(1);
            let j = run.json();
            let id = s(&j, "job_id").to_string();
            assert_eq!(s(&j, "status"), "failed", "{store}: {j}");
            let error = s(&j, "error");
            assert!(
                error.contains("simulated disk failure")
                    && error.contains(&format!("`resume {id}` continues"))
                    && error.contains(&format!("`rollback {id}` undoes them")),
                "{store}: {error}"
            );
            assert!(run
                .stderr
                .contains(&format!("ebay-import: job {id} failed: ")));
            // The record written after the failed part's rollback counts the parts before it.
            let recorded = job(&env, &id);
            assert_eq!(recorded["error"], j["error"]);
            assert_eq!(
                table_count(&recorded, "orders", "inserted")
                    + table_count(&recorded, "orders", "updated"),
                rows_of_job(&env, "orders", &id),
                "{store}: {recorded}"
            );
            assert!(
                rows_of_job(&env, "orders", &id) > 0,
                "{store}: parts were committed"
            );
            assert_eq!(
                env.count(&format!(
                    "SELECT COUNT(*) FROM order_items WHERE job_id = '{id}' AND source_line > 600"
                )),
                0
            );
            assert_eq!(rejects_of(&env, &id).len() as u64, u(&recorded, "rejected"));
            failed.push(id);
        }
        stop_failing(&env);

        // Resumed, the job ends as one go would have.
        let resumed = env.run(&["resume", &failed[0], "--json"]);
        resumed.expect_code(0);
        assert_same_outcome(
            &resumed.json(),
            &r,
            &format!("{store}: resumed after failing"),
        );
        assert_same_rows(
            &env,
            s(&job(&env, &failed[0]), "account_id"),
            s(&r, "account_id"),
            "resumed after failing",
        );
        assert_eq!(
            rejects_of(&env, &failed[0]),
            rejects_of(&env, s(&r, "job_id"))
        );

        // Rolled back, its committed parts are gone and what they replaced is back.
        env.run(&["rollback", &failed[1]]).expect_code(0);
        assert_eq!(s(&job(&env, &failed[1]), "status"), "rolled_back");
        for (table, rows) in ["orders", "order_items", "customers"].iter().zip(&before) {
            assert!(
                &stored(&env, table, &undo) == rows,
                "{store}: {table} as before the job"
            );
        }
        let refused = env.run(&["resume", &failed[1]]);
        refused.expect_code(2);
        assert!(refused.stderr.contains("rolled_back"), "{}", refused.stderr);
    }
}

#[test]
fn an_interrupted_commit_every_job_can_be_rolled_back_and_is_then_not_resumable() {
    for env in Env::each_store("rollback_interrupted") {
        let file = orders_file(&env, "orders.csv", 1000, Some(19));
        let store = env.store_name();
        crashed(&env, "committed:2", &import_args("parts", &PARTS, &file));
        let j = job_of(&env, "parts");
        let id = s(&j, "id").to_string();
        let account = s(&j, "account_id").to_string();
        assert_eq!(s(&j, "status"), "interrupted");
        assert!(rows_of_account(&env, "orders", &account) > 0);
        let run = env.run(&["rollback", &id, "--json"]);
        run.expect_code(0);
        let done = run.json();
        assert_eq!(s(&done, "status"), "rolled_back");
        assert_eq!(
            u(&done, "deleted.orders"),
            table_count(&j, "orders", "inserted"),
            "{store}: {done}"
        );
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                rows_of_account(&env, table, &account),
                0,
                "{store}: {table}"
            );
        }
        assert_eq!(s(&job(&env, &id), "status"), "rolled_back");
        env.run(&["resume", &id]).expect_code(2);
        env.run(&["rollback", &id]).expect_code(1);
    }
}

// --- 6. outputs ----------------------------------------------------------------------------------

fn one_reject_file(env: &Env) -> String {
    env.write(
        "one-reject.csv",
        mini(&[
            "1,11-11111-11111,Ann,ann@example.com,111111111111,1,$1.00,$1.00,Mar-15-24",
            "2,11-11111-11112,Bob,bob@example.com,111111111112,0,$1.00,$1.00,Mar-15-24",
        ]),
    )
}

/// Every file of the test's directory (not the lock directory) with its size and a hash of
/// its bytes.
fn files(env: &Env) -> Vec<(String, usize, u64)> {
    use std::hash::{Hash, Hasher};
    let mut all: Vec<(String, usize, u64)> = std::fs::read_dir(env.dir.path())
        .expect("read the test directory")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path()).expect("read a file");
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut h);
            (name, bytes.len(), h.finish())
        })
        .collect();
    all.sort();
    all
}

#[test]
fn an_output_naming_an_input_or_the_database_under_any_name_is_refused_before_anything_is_written()
{
    let env = Env::new();
    let file = one_reject_file(&env);
    let first = env.import("demo", &[&file]);
    first.expect_code(0);
    let id = s(&first.json(), "job_id").to_string();
    std::os::unix::fs::symlink(env.path(&file), env.path("link.csv")).expect("symlink");
    std::fs::hard_link(env.path(&file), env.path("hard.csv")).expect("hard link");
    std::os::unix::fs::symlink(env.db_path(), env.path("db-link")).expect("symlink");
    std::os::unix::fs::symlink(env.path("t.db-wal"), env.path("db-wal-link")).expect("symlink");
    std::fs::hard_link(env.db_path(), env.path("db-hard")).expect("hard link");
    // (A read-only connection leaves SQLite's -wal and -shm files beside the database.)
    let jobs_before = env.run(&["jobs", "list", "--json"]).stdout;
    let all_before = files(&env);

    let dotted = format!("./{file}");
    let absolute = env.path(&file).display().to_string();
    for out in [
        file.as_str(),
        &dotted,
        &absolute,
        "link.csv",
        "hard.csv",
        "t.db",
        "t.db-wal",
        "t.db-shm",
        "db-link",
        "db-hard",
        "db-wal-link",
    ] {
        let run = env.import("demo", &["--rejects", out, &file]);
        run.expect_code(2);
        assert!(
            run.stderr.contains("would destroy it"),
            "--rejects {out}: {}",
            run.stderr
        );
        assert_eq!(files(&env), all_before, "--rejects {out} wrote something");
        if out.starts_with("t.db") || out.starts_with("db-") {
            let errors = env.run(&["jobs", "errors", &id, "--out", out]);
            errors.expect_code(2);
            assert!(
                errors.stderr.contains("would destroy it"),
                "{}",
                errors.stderr
            );
            assert_eq!(files(&env), all_before, "jobs errors --out {out}");
        }
    }
    assert_eq!(env.run(&["jobs", "list", "--json"]).stdout, jobs_before);
    // The same input through stdin names no file to protect: the report is written.
    let bytes = std::fs::read(env.path(&file)).expect("read");
    env.run_stdin(
        &[
            "import",
            "--account",
            "demo",
            "--json",
            "--rejects",
            "r.csv",
            "-",
        ],
        &bytes,
    )
    .expect_code(0);
    assert!(env.read("r.csv").starts_with(REJECTS_HEADER));
}

#[test]
fn an_existing_report_is_replaced_only_when_the_command_completes() {
    let env = Env::new();
    let file = one_reject_file(&env);
    let good = "good old report\n";
    env.write("r.csv", good);
    env.write("e.csv", good);
    let temp_files = |env: &Env| has_file_starting_with(env.dir.path(), ".ebay-import-");

    // Refused: a missing input, an unknown job.
    env.import("demo", &["--rejects", "r.csv", &file, "missing.csv"])
        .expect_code(2);
    assert_eq!(env.read("r.csv"), good);
    env.run(&["jobs", "errors", "0190", "--out", "e.csv"])
        .expect_code(if env.db_path().exists() { 1 } else { 2 });
    assert_eq!(env.read("e.csv"), good);
    assert!(!temp_files(&env));

    // Completed: replaced.
    let run = env.import("demo", &["--rejects", "r.csv", &file]);
    run.expect_code(0);
    let id = s(&run.json(), "job_id").to_string();
    let report = env.read("r.csv");
    assert!(report.starts_with(REJECTS_HEADER), "{report}");
    assert_eq!(parse_rejects(&report).len(), 1);
    env.run(&["jobs", "errors", &id, "--out", "e.csv"])
        .expect_code(0);
    assert_eq!(env.read("e.csv"), report);
    assert!(!temp_files(&env));

    // Given up waiting for the database: the report stays as it was.
    env.write("r.csv", good);
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
    let run = env.import(
        "demo",
        &["--lock-timeout", "1s", "--rejects", "r.csv", &file],
    );
    run.expect_code(1);
    assert_eq!(env.read("r.csv"), good);
    rt.block_on(async {
        use sqlx::Connection;
        holder.close().await.expect("release the write lock")
    });
    assert!(!temp_files(&env));

    // Killed while it runs: the report stays as it was.
    let big = orders_file(&env, "big.csv", 20_000, Some(7));
    let mut child = env.spawn(&["import", "--account", "demo", "--rejects", "r.csv", &big]);
    wait_until("the big import runs", || {
        env.try_count("SELECT COUNT(*) FROM import_jobs WHERE status = 'processing'") == Some(1)
    });
    std::thread::sleep(Duration::from_millis(200));
    child.kill().expect("SIGKILL the import");
    child.wait().expect("reap the import");
    assert_eq!(env.read("r.csv"), good);
}

#[test]
fn a_rejects_report_that_cannot_be_written_leaves_the_jobs_as_recorded_and_exits_4() {
    // On PostgreSQL only the report is a file the process writes: a file size limit hits it
    // alone.
    let Some(env) = Env::postgres("report_fails") else {
        return;
    };
    let file = orders_file(&env, "orders.csv", 3000, Some(2));
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("ulimit -f 64; trap '' XFSZ; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_ebay-import"))
        .args(["--database", &env.db_url()])
        .args(import_args("demo", &["--rejects", "r.csv"], &file))
        .current_dir(env.dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("EBAY_IMPORT_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run ebay-import under a file size limit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(4),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let j: Value = serde_json::from_str(stdout.trim()).expect("the job's JSON line");
    let id = s(&j, "job_id").to_string();
    assert_eq!(s(&j, "status"), "partially_failed", "{j}");
    assert!(
        stderr.contains("r.csv could not be written")
            && stderr.contains("the jobs ended as their records say")
            && stderr.contains(&format!("jobs errors ID` gives their rejects (job {id})")),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| !l.trim().is_empty()).count(),
        1,
        "one line: {stderr}"
    );
    // The job is stored as it says.
    assert_eq!(s(&job(&env, &id), "status"), "partially_failed");
    assert_eq!(
        table_count(&j, "orders", "inserted"),
        rows_of_job(&env, "orders", &id)
    );
    assert!(rows_of_job(&env, "orders", &id) > 0);
    assert_eq!(rejects_of(&env, &id).len() as u64, u(&j, "rejected"));
    // Its rejects are more than the limit, and no partial report is left.
    let errors = env.run(&["jobs", "errors", &id]);
    errors.expect_code(0);
    assert!(
        errors.stdout.len() > 64 << 10,
        "{} bytes",
        errors.stdout.len()
    );
    assert!(!env.path("r.csv").exists());
    assert!(!has_file_starting_with(env.dir.path(), ".ebay-import-"));
}

// --- 7. inputs that change while read ------------------------------------------------------------

/// Imports a file big enough to change it while it is read, changes it with `change` as soon as
/// its job runs, and checks the job failed naming the change, stored nothing, and recorded the
/// SHA-256 and size of the bytes it read (`read_from`: the file's bytes as they were read).
fn check_changed_while_read(
    env: &Env,
    account: &str,
    change: impl FnOnce(&std::path::Path),
    read_from: impl FnOnce(&[u8], &[u8]) -> Vec<u8>,
) {
    let file = orders_file(env, "changing.csv", 6_000, None);
    let original = std::fs::read(env.path(&file)).expect("read");
    let child = env.spawn(&import_args(account, &[], &file));
    wait_until("the import runs", || {
        env.try_count(&format!(
            "SELECT COUNT(*) FROM import_jobs j JOIN accounts a ON a.id = j.account_id \
             WHERE a.slug = '{account}'"
        )) == Some(1)
    });
    change(&env.path(&file));
    let (status, out, err) = finish_within(child, Duration::from_secs(300));
    let store = env.store_name();
    assert_eq!(status.code(), Some(1), "{store}: {out}\n{err}");
    let j: Value = serde_json::from_str(out.trim()).expect("the job's JSON line");
    assert_eq!(s(&j, "status"), "failed");
    let error = s(&j, "error");
    assert!(
        error.contains("changed while it was read") && error.contains("nothing of it was stored"),
        "{store}: {error}"
    );
    assert!(
        err.contains(error),
        "{store}: stderr names the reason: {err}"
    );
    let account_id = s(&j, "account_id");
    for table in ["orders", "order_items", "customers"] {
        assert_eq!(
            rows_of_account(env, table, account_id),
            0,
            "{store}: {table}"
        );
    }
    assert!(rejects_of(env, s(&j, "job_id")).is_empty());
    let now = std::fs::read(env.path(&file)).expect("read");
    let size = u(&j, "file_size") as usize;
    let read = read_from(&original, &now);
    assert!(
        size <= read.len(),
        "{store}: {size} bytes recorded of {}",
        read.len()
    );
    assert_eq!(
        s(&j, "file_sha256"),
        sha256_hex(&read[..size]),
        "{store}: the SHA-256 of the {size} bytes read"
    );
    assert_eq!(job(env, s(&j, "job_id"))["file_sha256"], j["file_sha256"]);
}

#[test]
fn a_file_appended_to_while_it_is_imported_fails_its_job_and_records_what_was_read() {
    for env in Env::each_store("appended") {
        check_changed_while_read(
            &env,
            "appended",
            |path| {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .expect("open to append");
                f.write_all(b"1,11-11111-11111,Ann,ann@example.com,111111111111,1,$1.00,$1.00,Mar-15-24\r\n")
                    .expect("append");
            },
            // Whatever was read is a prefix of the file as it is now.
            |_, now| now.to_vec(),
        );
    }
}

#[test]
fn a_file_truncated_while_it_is_imported_fails_its_job_and_records_what_was_read() {
    for env in Env::each_store("truncated") {
        check_changed_while_read(
            &env,
            "truncated",
            |path| {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .expect("open to truncate");
                let len = f.metadata().expect("size").len();
                f.set_len(len / 2).expect("truncate");
            },
            // Whatever was read is a prefix of the file as it was.
            |original, _| original.to_vec(),
        );
    }
}

// --- 9. run locks tell running jobs from dead ones; reads never write ----------------------------

#[test]
fn a_processing_job_reads_as_processing_while_its_run_lock_is_held_and_interrupted_after() {
    for env in Env::each_store("liveness") {
        let file = env.copy_sample();
        let run = env.import("demo", &[file]);
        run.expect_code(0);
        let id = s(&run.json(), "job_id").to_string();
        let store = env.store_name();
        // Made by hand: a job recorded as running, as its process would have left it.
        env.exec(&[&format!(
            "UPDATE import_jobs SET status = 'processing', finished_at = NULL, error = NULL \
             WHERE id = '{id}'"
        )]);
        if env.is_postgres() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let holder = rt.block_on(async {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&env.db_url())
                    .await
                    .expect("connect");
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT pg_advisory_lock(hashtextextended('ebay_import_job:' || '{id}', 0))"
                )))
                .execute(&mut c)
                .await
                .expect("take the job's run lock");
                c
            });
            assert_eq!(s(&job(&env, &id), "status"), "processing", "{store}");
            rt.block_on(async {
                use sqlx::Connection;
                holder.close().await.expect("let go of the lock")
            });
            wait_for_sessions_gone(&env);
        } else {
            let lock = format!("{}-locks/job-{id}", env.db_path().display());
            let mut holder = std::process::Command::new("flock")
                .args([&lock, "sleep", "2"])
                .spawn()
                .expect("run flock");
            wait_until("flock holds the lock", || {
                s(&job(&env, &id), "status") == "processing"
            });
            holder.wait().expect("flock ends");
        }
        let j = job(&env, &id);
        assert_eq!(s(&j, "status"), "interrupted", "{store}: {j}");
        assert!(
            s(&j, "error").contains("ended before finishing"),
            "{store}: {j}"
        );

        // Reading the dead job writes nothing: its record stays as stored.
        let db_before = (!env.is_postgres()).then(|| {
            let meta = std::fs::metadata(env.db_path()).expect("the database file");
            (
                std::fs::read(env.db_path()).expect("read"),
                meta.modified().ok(),
            )
        });
        for args in [
            &["jobs", "list"][..],
            &["jobs", "list", "--json"],
            &["jobs", "list", "--account", "demo"],
            &["jobs", "show", &id],
            &["jobs", "errors", &id],
        ] {
            env.run(args).expect_code(0);
        }
        if let Some(before) = db_before {
            let meta = std::fs::metadata(env.db_path()).expect("the database file");
            let after = (
                std::fs::read(env.db_path()).expect("read"),
                meta.modified().ok(),
            );
            assert!(after == before, "the database file changed");
        }
        assert_eq!(raw_status(&env, &id), "processing", "{store}");
        // A writer persists what the readers saw.
        env.import("demo", &[file]).expect_code(0);
        assert_eq!(raw_status(&env, &id), "interrupted", "{store}");
    }
}

// --- 10. read commands ---------------------------------------------------------------------------

/// Makes a directory immutable (`chattr +i`: not even root may create a file in it) for as
/// long as it lives.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(dir: &std::path::Path) -> Option<Immutable> {
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Immutable(dir.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn jobs_are_read_from_a_sqlite_database_in_a_directory_that_cannot_be_written() {
    let env = Env::new();
    env.import("demo", &[env.copy_sample()]).expect_code(0);
    let backup = env.path("backup");
    std::fs::create_dir(&backup).expect("backup dir");
    std::fs::copy(env.db_path(), backup.join("t.db")).expect("copy the database");
    let Some(_frozen) = Immutable::set(&backup) else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED jobs_are_read_from_a_sqlite_database_in_a_directory_that_cannot_be_written: \
             chattr +i is not allowed here"
        );
        return;
    };
    let url = format!("sqlite://{}", backup.join("t.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebay-import"))
        .args(["--database", &url, "jobs", "list", "--json"])
        .output()
        .expect("run ebay-import");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("\"status\":\"completed\""), "{listed}");
}

#[test]
fn read_commands_never_create_or_migrate_a_sqlite_database() {
    let env = Env::new();
    let missing = env.path("nothing-here.db");
    let url = format!("sqlite://{}", missing.display());
    for args in [
        &["jobs", "list"][..],
        &["jobs", "show", "0190"],
        &["jobs", "errors", "0190"],
    ] {
        let run = run_at(&env, &url, args);
        run.expect_code(2);
        assert!(run.stderr.contains("no database at"), "{}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    }
    assert!(
        std::fs::read_dir(env.dir.path()).unwrap().next().is_none(),
        "nothing was created"
    );

    // A database whose last migration is not recorded.
    let file = env.copy_sample();
    env.import("demo", &[file]).expect_code(0);
    env.exec(&[
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    ]);
    let run = env.run(&["jobs", "list"]);
    run.expect_code(2);
    assert!(run.stderr.contains("older schema"), "{}", run.stderr);
    assert!(run.stderr.contains("ebay-import migrate"), "{}", run.stderr);
}

#[test]
fn migrate_brings_an_older_sqlite_database_up_to_date_and_then_it_reads() {
    let env = Env::new();
    // A database made by the build before this one: every migration but the last.
    let migrations = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/store/migrations/sqlite"
    );
    let mut names: Vec<String> = std::fs::read_dir(migrations)
        .expect("the migrations")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let older = env.path("older-migrations");
    std::fs::create_dir_all(&older).expect("mkdir");
    for name in &names[..names.len() - 1] {
        std::fs::copy(format!("{migrations}/{name}"), older.join(name)).expect("copy");
    }
    block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("{}?mode=rwc", env.db_url()))
            .await
            .expect("create the database");
        sqlx::migrate::Migrator::new(older.as_path())
            .await
            .expect("the older migrations")
            .run(&mut conn)
            .await
            .expect("apply the older migrations");
        conn.close().await.expect("close");
    });
    let bytes = std::fs::read(env.db_path()).expect("read");
    let run = env.run(&["jobs", "list"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains(&format!(
            "older schema ({} of {} migrations)",
            names.len() - 1,
            names.len()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(env.db_path()).expect("read"),
        bytes,
        "unchanged"
    );
    let migrate = env.run(&["migrate"]);
    migrate.expect_code(0);
    assert!(
        migrate.stdout.contains("the schema is up to date"),
        "{}",
        migrate.stdout
    );
    env.run(&["jobs", "list"]).expect_code(0);
    let file = env.copy_sample();
    env.import("demo", &[file]).expect_code(0);
    env.run(&["migrate"]).expect_code(0);
}

#[test]
fn a_sqlite_url_without_a_file_is_refused_and_creates_nothing() {
    let env = Env::new();
    let file = env.copy_sample();
    let before = files(&env);
    for url in ["sqlite://", "sqlite::memory:", "sqlite://:memory:"] {
        for args in [
            &["import", "--account", "demo", "--json", file][..],
            &["jobs", "list"],
            &["migrate"],
            &["rollback", "0190"],
        ] {
            let run = run_at(&env, url, args);
            run.expect_code(2);
            assert!(
                run.stderr.contains("names no database file"),
                "{url} {args:?}: {}",
                run.stderr
            );
            assert_eq!(files(&env), before, "{url} {args:?} created a file");
            assert!(
                !std::fs::read_dir(env.dir.path())
                    .unwrap()
                    .filter_map(Result::ok)
                    .any(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false)
                        && e.file_name() != "data"),
                "{url} {args:?} created a directory"
            );
        }
    }
}

/// A login role of the test's server, dropped when the test ends.
struct Role {
    name: String,
    /// The test's database, dropped first: a role that owns it or has rights in it cannot
    /// be dropped before.
    database: String,
}

impl Role {
    fn create(env: &Env, prefix: &str, grants: &[String]) -> Role {
        let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
        let mut statements = vec![format!("CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS")];
        statements.extend(grants.iter().map(|g| g.replace("{role}", &name)));
        let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
        db_exec(&format!("{}/postgres", pg_server()), &refs);
        Role {
            name,
            database: database_name(env),
        }
    }

    /// `url` with this role as its user.
    fn url(&self, url: &str) -> String {
        url.replacen("postgres@", &format!("{}@", self.name), 1)
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let admin = format!("{}/postgres", pg_server());
        let statements = [
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
            format!("DROP ROLE IF EXISTS {}", self.name),
        ];
        let _ =
            std::panic::catch_unwind(move || db_exec(&admin, &[&statements[0], &statements[1]]));
    }
}

fn database_name(env: &Env) -> String {
    env.db_url()
        .rsplit('/')
        .next()
        .expect("database name")
        .to_string()
}

#[test]
fn a_postgres_role_that_may_only_select_lists_its_account_s_jobs() {
    let Some(env) = Env::postgres("read_only_role") else {
        return;
    };
    let file = one_reject_file(&env);
    let a = env.import("ro-a", &[&file]);
    a.expect_code(0);
    env.import("ro-b", &[&file]).expect_code(0);
    let db = database_name(&env);
    let role = Role::create(&env, "ei_ro", &[]);
    db_exec(
        &env.db_url(),
        &[
            &format!("GRANT CONNECT ON DATABASE {db} TO {}", role.name),
            &format!("GRANT USAGE ON SCHEMA public TO {}", role.name),
            &format!(
                "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}",
                role.name
            ),
        ],
    );
    let url = role.url(&env.db_url());
    let run = run_at(&env, &url, &["jobs", "list", "--account", "ro-a", "--json"]);
    run.expect_code(0);
    assert!(!run.stderr.contains("permission denied"), "{}", run.stderr);
    let jobs = run.json_lines();
    assert_eq!(jobs.len(), 1, "{}", run.stdout);
    assert_eq!(jobs[0]["id"], a.json()["job_id"]);
    // Without an account nothing is visible to it.
    let run = run_at(&env, &url, &["jobs", "list", "--json"]);
    run.expect_code(0);
    assert_eq!(run.stdout.trim(), "");
}

// --- 11. --lock-timeout --------------------------------------------------------------------------

#[test]
fn a_sqlite_writer_gives_up_waiting_for_another_writer_at_its_lock_timeout() {
    let env = Env::new();
    let file = env.copy_sample();
    let first = env.import("first", &[file]);
    first.expect_code(0);
    let id = s(&first.json(), "job_id").to_string();
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
    for args in [
        &[
            "--lock-timeout",
            "1s",
            "import",
            "--account",
            "second",
            file,
        ][..],
        &["--lock-timeout", "1s", "import", "--account", "first", file],
        &["--lock-timeout", "1s", "rollback", &id],
        &[
            "import",
            "--lock-timeout",
            "1s",
            "--account",
            "second",
            file,
        ],
    ] {
        let run = env.run(args);
        run.expect_code(1);
        assert!(
            run.stderr.contains("gave up after")
                && run
                    .stderr
                    .contains("waiting for another process to finish writing to")
                && run.stderr.contains("(--lock-timeout 1.0 s)"),
            "{args:?}: {}",
            run.stderr
        );
    }
    rt.block_on(async {
        use sqlx::Connection;
        holder.close().await.expect("release the write lock")
    });
    assert_eq!(s(&job(&env, &id), "status"), "completed");
    env.import("second", &[file]).expect_code(0);
}

#[test]
fn a_sqlite_resume_gives_up_waiting_for_the_job_s_run_lock_at_its_lock_timeout() {
    let env = Env::new();
    let file = orders_file(&env, "orders.csv", 1000, None);
    crashed(&env, "committed:1", &import_args("parts", &PARTS, &file));
    let id = s(&job_of(&env, "parts"), "id").to_string();
    // Another command holds the job (a rollback of it, say) while its record still says
    // interrupted.
    env.exec(&[&format!(
        "UPDATE import_jobs SET status = 'interrupted' WHERE id = '{id}'"
    )]);
    let lock = format!("{}-locks/job-{id}", env.db_path().display());
    let mut holder = std::process::Command::new("flock")
        .args([&lock, "sleep", "4"])
        .spawn()
        .expect("run flock");
    wait_until("flock holds the lock", || {
        std::process::Command::new("flock")
            .args(["-n", &lock, "true"])
            .status()
            .map(|s| !s.success())
            .unwrap_or(false)
    });
    let run = env.run(&["--lock-timeout", "1s", "resume", &id]);
    holder.wait().expect("flock ends");
    run.expect_code(1);
    assert!(
        run.stderr.contains("gave up after")
            && run
                .stderr
                .contains(&format!("another process to let go of job {id}"))
            && run.stderr.contains("(--lock-timeout 1.0 s)"),
        "{}",
        run.stderr
    );
    assert_eq!(s(&job(&env, &id), "status"), "interrupted");
    env.run(&["resume", &id]).expect_code(0);
}

#[test]
fn a_sqlite_import_gives_up_waiting_for_another_process_s_migration_at_its_lock_timeout() {
    let env = Env::new();
    let file = env.copy_sample();
    // Another process is migrating the database: it holds the migration lock.
    let lock_dir = format!("{}-locks", env.db_path().display());
    std::fs::create_dir_all(&lock_dir).expect("mkdir");
    let lock = format!("{lock_dir}/migrate");
    let mut holder = std::process::Command::new("flock")
        .args([&lock, "sleep", "4"])
        .spawn()
        .expect("run flock");
    wait_until("flock holds the lock", || {
        std::process::Command::new("flock")
            .args(["-n", &lock, "true"])
            .status()
            .map(|s| !s.success())
            .unwrap_or(false)
    });
    let run = env.run(&["--lock-timeout", "1s", "import", "--account", "demo", file]);
    holder.wait().expect("flock ends");
    run.expect_code(1);
    assert!(
        run.stderr.contains("gave up after")
            && run
                .stderr
                .contains("waiting for another process to finish migrating")
            && run.stderr.contains("(--lock-timeout 1.0 s)"),
        "{}",
        run.stderr
    );
    assert!(!env.db_path().exists(), "nothing was created meanwhile");
    env.import("demo", &[file]).expect_code(0);
}

#[test]
fn a_postgres_import_gives_up_waiting_for_its_account_s_lock_at_its_lock_timeout() {
    let Some(env) = Env::postgres("lock_timeout") else {
        return;
    };
    let file = env.copy_sample();
    let account = "0190c000-0000-7000-8000-0000000000cc";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The schema first, so the lock below is the only thing waited for.
    env.run(&["migrate"]).expect_code(0);
    let holder = rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&env.db_url())
            .await
            .expect("connect");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT pg_advisory_lock(hashtextextended('ebay_import:' || '{account}', 0))"
        )))
        .execute(&mut c)
        .await
        .expect("take the account's lock");
        c
    });
    let run = env.import(account, &["--lock-timeout", "1s", file]);
    run.expect_code(1);
    let j = run.json();
    assert_eq!(s(&j, "status"), "failed");
    let error = s(&j, "error");
    assert!(
        error.contains("gave up after")
            && error.contains(&format!("another import of account {account}"))
            && error.contains("(--lock-timeout 1.0 s)")
            && error.contains("nothing of it was stored"),
        "{error}"
    );
    assert!(run.stderr.contains(error), "{}", run.stderr);
    let id = s(&j, "job_id").to_string();
    assert_eq!(s(&job(&env, &id), "status"), "failed");
    assert_eq!(env.count("SELECT COUNT(*) FROM orders"), 0);
    rt.block_on(async {
        use sqlx::Connection;
        holder.close().await.expect("let go of the lock")
    });
    wait_for_sessions_gone(&env);
    env.import(account, &["--lock-timeout", "1s", file])
        .expect_code(0);
}

// --- 12. secrets, closed outputs, reasons on stderr ----------------------------------------------

#[test]
fn help_never_prints_the_database_password() {
    let env = Env::new();
    let url = "postgres://u:s3cr3t@127.0.0.1/x";
    for args in [
        &["--help"][..],
        &["help"],
        &["import", "--help"],
        &["jobs", "list", "--help"],
        &["jobs", "errors", "--help"],
        &["rollback", "--help"],
        &["resume", "--help"],
        &["migrate", "--help"],
        &["import"],
    ] {
        let mut cmd = env.bare(args);
        cmd.env("DATABASE_URL", url);
        let run = Run::of(cmd, args);
        assert!(
            !run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"),
            "{args:?}:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    // Nor does a failed connection.
    let args = ["jobs", "list"];
    let mut cmd = env.bare(&args);
    cmd.env("DATABASE_URL", "postgres://u:s3cr3t@127.0.0.1:1/x");
    let run = Run::of(cmd, &args);
    run.expect_code(2);
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
}

#[test]
fn jobs_errors_into_a_closed_stdout_ends_quietly() {
    for env in Env::each_store("closed_stdout") {
        let file = orders_file(&env, "orders.csv", 3000, Some(2));
        let run = env.import("demo", &[&file]);
        run.expect_code(0);
        let id = s(&run.json(), "job_id").to_string();
        for format in ["csv", "json"] {
            for log in [None, Some("debug")] {
                let mut cmd = env.cmd(&["jobs", "errors", &id, "--format", format]);
                if let Some(level) = log {
                    cmd.env("EBAY_IMPORT_LOG", level);
                }
                let mut child = cmd
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn");
                let mut stdout = child.stdout.take().expect("piped");
                let mut head = [0u8; 256];
                stdout.read_exact(&mut head).expect("the first bytes");
                drop(stdout);
                let (status, _, err) = finish_within(child, Duration::from_secs(30));
                let what = format!("{} --format {format} log {log:?}", env.store_name());
                assert_eq!(status.code(), Some(0), "{what}: {status:?} {err}");
                assert!(!err.to_lowercase().contains("broken pipe"), "{what}: {err}");
                if log.is_none() {
                    assert_eq!(err, "", "{what}");
                }
            }
        }
    }
}

#[test]
fn an_import_into_a_closed_stdout_still_completes_its_job() {
    for env in Env::each_store("import_closed_stdout") {
        let file = env.copy_sample();
        let mut child = env
            .cmd(&["import", "--account", "demo", "--json", file])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let (status, _, err) = finish_within(child, Duration::from_secs(60));
        assert_eq!(status.code(), Some(0), "{}: {err}", env.store_name());
        assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
        let j = job_of(&env, "demo");
        assert_eq!(s(&j, "status"), "completed", "{j}");
        assert!(rows_of_account(&env, "orders", s(&j, "account_id")) > 0);
    }
}

#[test]
fn a_failed_job_names_its_reason_on_stderr_when_stdout_is_discarded() {
    let env = Env::new();
    let file = env.write(
        "no-required.csv",
        "Order Number,Buyer Name,Something\n11-11111-11111,Ann,x\n",
    );
    let args = [
        "import",
        "--account",
        "demo",
        "--json",
        "--type",
        "orders",
        &file,
    ];
    let out = env
        .cmd(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let id = s(&job_of(&env, "demo"), "id").to_string();
    assert!(
        stderr.contains(&format!("ebay-import: job {id} failed: "))
            && stderr.contains("total_price"),
        "{stderr}"
    );
}

// --- 13. row-level security on the job tables ----------------------------------------------------

#[test]
fn postgres_job_records_and_rejects_are_confined_to_the_account_set_for_them() {
    let Some(env) = Env::postgres("rls_jobs") else {
        return;
    };
    let db = database_name(&env);
    let role = Role::create(
        &env,
        "ei_rls",
        &[format!("ALTER DATABASE {db} OWNER TO {{role}}")],
    );
    let app = role.url(&env.db_url());
    let file = one_reject_file(&env);
    let (a, b) = (
        "0190a000-0000-7000-8000-00000000001a",
        "0190b000-0000-7000-8000-00000000001b",
    );
    let import_as_app = |account: &str| {
        let run = run_at(&env, &app, &import_args(account, &[], &file));
        run.expect_code(0);
        run.json()
    };
    let ja = import_as_app(a);
    import_as_app(a);
    let jb = import_as_app(b);
    assert_eq!(u(&ja, "rejected"), 1);

    let count = |setting: Option<&str>, sql: &str| -> String {
        block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app).await.expect("connect");
            if let Some(s) = setting {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "SET ebay_import.account_id = '{s}'"
                )))
                .execute(&mut conn)
                .await
                .expect("set the account");
            }
            let (n,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_one(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            n
        })
    };
    for (table, per_a, per_b) in [("import_jobs", "2", "1"), ("import_rejects", "2", "1")] {
        let all = format!("SELECT COUNT(*)::text FROM {table}");
        assert_eq!(count(None, &all), "0", "{table} without an account");
        assert_eq!(count(Some(a), &all), per_a, "{table} of A");
        assert_eq!(count(Some(b), &all), per_b, "{table} of B");
        let of_b = format!("{all} WHERE account_id = '{b}'");
        assert_eq!(count(Some(a), &of_b), "0", "{table}: B's from A");
    }
    let b_job = s(&jb, "job_id");
    assert_eq!(
        count(
            Some(a),
            &format!(
                "WITH u AS (UPDATE import_jobs SET status = 'failed' WHERE id = '{b_job}' \
                 RETURNING 1) SELECT COUNT(*)::text FROM u"
            )
        ),
        "0"
    );
    // Everything of A and B still reads as it was written.
    assert_eq!(s(&job(&env, b_job), "status"), "partially_failed");
}

#[test]
fn postgres_job_commands_by_id_work_for_the_owner_role_under_row_level_security() {
    let Some(env) = Env::postgres("rls_job_commands") else {
        return;
    };
    let db = database_name(&env);
    let role = Role::create(
        &env,
        "ei_owner",
        &[format!("ALTER DATABASE {db} OWNER TO {{role}}")],
    );
    let app = role.url(&env.db_url());
    let as_app = |args: &[&str]| run_at(&env, &app, args);
    let file = one_reject_file(&env);
    let run = as_app(&import_args("owner-a", &[], &file));
    run.expect_code(0);
    let id = s(&run.json(), "job_id").to_string();
    // Under row-level security the role names the account it acts for.
    let hidden = as_app(&["jobs", "show", &id]);
    hidden.expect_code(1);
    assert!(hidden.stderr.contains("--account"), "{}", hidden.stderr);
    let show = as_app(&["jobs", "show", &id, "--account", "owner-a", "--json"]);
    show.expect_code(0);
    assert_eq!(s(&show.json_doc(), "status"), "partially_failed");
    as_app(&["jobs", "show", &id, "--account", "owner-b"]).expect_code(1);
    let errors = as_app(&["jobs", "errors", &id, "--account", "owner-a"]);
    errors.expect_code(0);
    assert_eq!(parse_rejects(&errors.stdout).len(), 1);
    as_app(&["rollback", &id, "--account", "owner-a"]).expect_code(0);
    assert_eq!(s(&job(&env, &id), "status"), "rolled_back");
}

// --- 14. rollback under later jobs that found its rows unchanged ---------------------------------

#[test]
fn a_rollback_under_a_later_job_that_found_its_rows_unchanged_is_refused_unless_forced() {
    for env in Env::each_store("rollback_unchanged") {
        let file = orders_file(&env, "orders.csv", 200, Some(17));
        let store = env.store_name();
        let jobs_of = |account: &str| {
            let first = env.import(account, &[&file]);
            first.expect_code(0);
            let again = env.import(account, &[&file]);
            again.expect_code(0);
            let (j1, j2) = (first.json(), again.json());
            assert_eq!(u(&j2, "inserted") + u(&j2, "updated"), 0, "{store}: {j2}");
            assert!(u(&j2, "unchanged") > 0);
            (
                s(&j1, "job_id").to_string(),
                s(&j2, "job_id").to_string(),
                s(&j1, "account_id").to_string(),
            )
        };
        let (one, two, account) = jobs_of("forced");
        let refused = env.run(&["rollback", &one]);
        refused.expect_code(1);
        assert!(
            refused.stderr.contains(&two)
                && refused
                    .stderr
                    .contains("found rows of the same tables unchanged")
                && refused.stderr.contains("--force"),
            "{store}: {}",
            refused.stderr
        );
        assert_eq!(s(&job(&env, &one), "status"), "partially_failed");
        assert!(rows_of_account(&env, "orders", &account) > 0);
        env.run(&["rollback", "--force", &one]).expect_code(0);
        assert_eq!(s(&job(&env, &one), "status"), "rolled_back");
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                rows_of_account(&env, table, &account),
                0,
                "{store}: {table}"
            );
        }

        // Later job first, then the earlier one: no refusal.
        let (one, two, account) = jobs_of("in-order");
        env.run(&["rollback", &two]).expect_code(0);
        env.run(&["rollback", &one]).expect_code(0);
        assert_eq!(s(&job(&env, &two), "status"), "rolled_back");
        assert_eq!(s(&job(&env, &one), "status"), "rolled_back");
        for table in ["orders", "order_items", "customers"] {
            assert_eq!(
                rows_of_account(&env, table, &account),
                0,
                "{store}: {table}"
            );
        }
    }
}

#[test]
fn a_rollback_is_refused_under_a_job_resumed_after_it_that_found_its_rows_unchanged() {
    for env in Env::each_store("rollback_under_resumed") {
        let file = orders_file(&env, "orders.csv", 1000, None);
        let store = env.store_name();
        // A: its first part committed, then it died.
        crashed(&env, "committed:1", &import_args("demo", &PARTS, &file));
        let a = s(&job_of(&env, "demo"), "id").to_string();
        // B: the whole file, later; it finds A's part unchanged and inserts the rest.
        let b_run = env.import("demo", &[&file]);
        b_run.expect_code(0);
        let b = s(&b_run.json(), "job_id").to_string();
        assert!(u(&b_run.json(), "unchanged") > 0 && u(&b_run.json(), "inserted") > 0);
        // A resumed after B: the rest of the file is B's rows, found unchanged.
        let resumed = env.run(&["resume", &a, "--json"]);
        resumed.expect_code(0);
        let ra = resumed.json();
        assert!(u(&ra, "unchanged") > 0, "{store}: {ra}");
        // Rolling B back would delete rows A's record counts as unchanged (stored): refused,
        // naming A, unless forced.
        let refused = env.run(&["rollback", &b]);
        assert_eq!(
            refused.code, 1,
            "{store}: rollback of {b} under {a}, resumed after it and counting its rows as \
             unchanged:\n{}{}",
            refused.stdout, refused.stderr
        );
        assert!(refused.stderr.contains(&a), "{store}: {}", refused.stderr);
        env.run(&["rollback", "--force", &b]).expect_code(0);
    }
}
