//! Review findings: each test shows one way the job lifecycle or the outputs broke a promise
//! of the README.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// Changes one byte of `rel` at `at`, keeping its length.
fn poke(env: &Env, rel: &str, at: usize, byte: u8) {
    let mut bytes = std::fs::read(env.path(rel)).expect("read the file");
    assert_ne!(bytes[at], byte);
    bytes[at] = byte;
    std::fs::write(env.path(rel), bytes).expect("write the file");
}

/// A job stopped by SIGTERM has a `finished_at`; a resume of it that fails (here: its file
/// changed in the committed part) must record why and exit 1, not leave the job `processing`
/// with no reason and exit 0.
#[test]
fn a_failed_resume_of_a_stopped_job_records_why() {
    for env in Env::each_store("review_stale_finish") {
        let store = env.store_name();
        let file = orders_file(&env, "orders.csv", 3000, Some(31));
        let parts = ["--commit-every", "200", "--batch-bytes", "64KiB"];
        let child = env.spawn(&import_args("stopped", &parts, &file));
        wait_for_job(&env, "stopped", "j.resume_cursor IS NOT NULL");
        signal(&child, "TERM");
        let (status, out, err) = finish_within(child, Duration::from_secs(120));
        assert_eq!(status.code(), Some(143), "{store}: {out}\n{err}");
        let j = job_of(&env, "stopped");
        let id = s(&j, "id").to_string();
        assert_eq!(s(&j, "status"), "interrupted", "{store}: {j}");
        // The committed part now reads differently, at the same length.
        poke(&env, &file, 5000, b'#');
        let resumed = env.run(&["resume", &id, "--json"]);
        assert_eq!(resumed.code, 1, "{store}: {resumed:?}");
        let raw = raw_status(&env, &id);
        assert!(
            raw == "failed" || raw == "interrupted",
            "{store}: the job stays {raw} in the database"
        );
        let shown = job(&env, &id);
        assert!(
            s(&shown, "error").contains("not the file the job started with"),
            "{store}: the job's error does not say why: {shown}"
        );
    }
}

/// A file changed in its committed part so that it splits into fewer chunks than the job
/// committed: the resume never reaches the chunk it checks, and must still refuse (exit 1),
/// not complete with the committed counts while the rest of the file is never stored.
#[test]
fn a_resume_of_a_file_that_now_splits_into_fewer_chunks_is_refused() {
    for env in Env::each_store("review_fewer_chunks") {
        let store = env.store_name();
        let lines: Vec<String> = (1..=4000)
            .map(|i| {
                format!(
                    "{i},12-34567-{i:05},Buyer {i},b{i}@x.com,{},1,$1.00,$1.00,Mar-15-24",
                    123_456_789_000u64 + i
                )
            })
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let file = env.write("q.csv", mini(&refs));
        let args = import_args(
            "q",
            &[
                "--max-line-bytes",
                "1GiB",
                "--commit-every",
                "100",
                "--batch-bytes",
                "4KiB",
            ],
            &file,
        );
        crashed(&env, "committed:20", &args);
        let j = job_of(&env, "q");
        let id = s(&j, "id").to_string();
        assert_eq!(s(&j, "status"), "interrupted", "{store}: {j}");
        // One quote at the start of a field near the top: the rest of the file is now one
        // quoted field, at the same length.
        let text = env.read(&file);
        let at = text.find("Buyer 2,").expect("row 2");
        poke(&env, &file, at, b'"');
        let resumed = env.run(&["resume", &id, "--json"]);
        assert_eq!(resumed.code, 1, "{store}: {resumed:?}");
        assert_ne!(
            s(&job(&env, &id), "status"),
            "completed",
            "{store}: a resume with another file completed"
        );
    }
}

/// The same SQLite database named through a symbolic link is the same database: a job
/// running through one name is running through the other, and cannot be resumed beside it.
#[test]
fn a_running_job_is_running_whatever_name_the_database_goes_by() {
    let env = Env::new();
    let file = orders_file(&env, "big.csv", 15_000, Some(53));
    env.run(&["migrate"]).expect_code(0);
    let link = env.path("link.db");
    std::os::unix::fs::symlink(env.db_path(), &link).expect("symlink");
    let via_link = format!("sqlite://{}", link.display());
    let parts = ["--commit-every", "100", "--batch-bytes", "8KiB"];
    let child = env.spawn(&import_args("linked", &parts, &file));
    wait_for_job(&env, "linked", "j.resume_cursor IS NOT NULL");
    let id = env.rows("SELECT id FROM import_jobs")[0][0]
        .clone()
        .expect("an id");
    let shown = run_at(&env, &via_link, &["jobs", "show", &id, "--json"]);
    let resumed = run_at(&env, &via_link, &["resume", &id, "--json"]);
    let (status, out, err) = finish_within(child, Duration::from_secs(300));
    assert_eq!(status.code(), Some(0), "{out}\n{err}");
    shown.expect_code(0);
    assert_eq!(
        s(&shown.json_doc(), "status"),
        "processing",
        "a running job read through a link to its database"
    );
    assert_eq!(
        resumed.code, 2,
        "a running job was resumed through a link to its database: {resumed:?}"
    );
}

/// `sqlite://file:NAME` opens NAME (SQLite takes `file:` names as URIs), so an output named
/// NAME is the database and must be refused, not written over it.
#[test]
fn a_file_uri_database_is_protected_from_the_report_or_refused() {
    let env = Env::new();
    env.copy_sample();
    env.run(&["migrate"]).expect_code(0);
    let before = std::fs::read(env.db_path()).expect("the database");
    let url = "sqlite://file:t.db";
    let run = run_at(
        &env,
        url,
        &["import", "--account", "a", "--rejects", "t.db", SAMPLE_REL],
    );
    assert_eq!(run.code, 2, "{run:?}");
    let after = std::fs::read(env.db_path()).expect("the database");
    assert!(
        after.starts_with(b"SQLite format 3\0"),
        "the database was overwritten ({} bytes before, {} after)",
        before.len(),
        after.len()
    );
}

/// A named pipe (`<(zcat orders.csv.gz)`, `mkfifo`) is read like stdin: it has no size to
/// compare with, so it did not "change while it was read".
#[test]
fn a_named_pipe_imports_like_stdin() {
    let env = Env::new();
    let fifo = env.path("in.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, sample_bytes()).expect("write the fifo"))
    };
    let run = env.import("piped", &["in.fifo"]);
    writer.join().expect("writer");
    run.expect_code(0);
    assert_eq!(s(&run.json(), "status"), "completed", "{run:?}");
}

/// A `--commit-every` job whose file grew while it was read fails with its committed parts,
/// and says `resume ID continues from there`: with the file restored, it must.
#[test]
fn a_commit_every_job_whose_file_changed_resumes_once_the_file_is_restored() {
    let env = Env::new();
    let file = orders_file(&env, "orders.csv", 15_000, Some(31));
    let original = std::fs::read(env.path(&file)).expect("read");
    let one_go = env.import("reference", &[&file]);
    one_go.expect_code(0);
    let parts = ["--commit-every", "200", "--batch-bytes", "16KiB"];
    let child = env.spawn(&import_args("grown", &parts, &file));
    wait_for_job(&env, "grown", "j.resume_cursor IS NOT NULL");
    let mut grown = original.clone();
    grown.extend_from_slice(&original[original.len() - 2000..]);
    std::fs::write(env.path(&file), &grown).expect("append");
    let (status, out, err) = finish_within(child, Duration::from_secs(300));
    assert_eq!(status.code(), Some(1), "{out}\n{err}");
    let j = job_of(&env, "grown");
    assert!(s(&j, "error").contains("changed while it was read"), "{j}");
    assert!(s(&j, "error").contains("continues from there"), "{j}");
    std::fs::write(env.path(&file), &original).expect("restore");
    let resumed = env.run(&["resume", s(&j, "id"), "--json"]);
    resumed.expect_code(0);
    assert_same_outcome(&resumed.json(), &one_go.json(), "resumed after a restore");
}

/// A rollback under a running `--commit-every` job that has already counted rows of the
/// rolled-back job unchanged is refused, as it is once that job has finished.
#[test]
fn a_rollback_under_a_running_job_that_found_its_rows_unchanged_is_refused() {
    for env in Env::each_store("review_rollback_running") {
        let store = env.store_name();
        let file = orders_file(&env, "big.csv", 15_000, Some(53));
        let first = env.import("acct", &[&file]);
        first.expect_code(0);
        let first = first.json();
        let parts = ["--commit-every", "100", "--batch-bytes", "8KiB"];
        let child = env.spawn(&import_args("acct", &parts, &file));
        wait_until("the second job committed a part", || {
            env.try_count(
                "SELECT COUNT(*) FROM import_jobs WHERE resume_cursor IS NOT NULL \
                 AND status = 'processing'",
            ) == Some(1)
        });
        let rollback = env.run(&["rollback", s(&first, "job_id")]);
        let (status, out, err) = finish_within(child, Duration::from_secs(300));
        assert_eq!(status.code(), Some(0), "{store}: {out}\n{err}");
        assert_eq!(rollback.code, 1, "{store}: {rollback:?}");
        // Whatever happened, what the second job says it counted is there.
        let second: Value = serde_json::from_str(out.trim()).expect("JSON");
        let orders = table_count(&second, "orders", "inserted")
            + table_count(&second, "orders", "unchanged");
        assert_eq!(
            orders as i64,
            env.count("SELECT COUNT(*) FROM orders"),
            "{store}: {second}"
        );
    }
}

/// A rolled back `--commit-every` job that was interrupted no longer says that `resume`
/// continues it: nothing of it is stored.
#[test]
fn a_rolled_back_interrupted_job_says_nothing_of_it_is_stored() {
    for env in Env::each_store("rolled_back_interrupted") {
        let file = orders_file(&env, "orders.csv", 600, None);
        let args = import_args(
            "a",
            &["--commit-every", "100", "--batch-bytes", "16KiB"],
            &file,
        );
        crashed(&env, "committed:2", &args);
        wait_for_sessions_gone(&env);
        let id = s(&job_of(&env, "a"), "id").to_string();
        env.run(&["rollback", &id]).expect_code(0);
        let j = job(&env, &id);
        assert_eq!(s(&j, "status"), "rolled_back", "{}", env.store_name());
        assert!(j["resume_cursor"].is_null(), "{j}");
        let error = s(&j, "error");
        assert!(
            error.ends_with("rolled back, so nothing of it is stored") && !error.contains("resume"),
            "{error}"
        );
        env.run(&["resume", &id]).expect_code(2);
    }
}

/// A writing command refuses a URL that opens the database read-only instead of writing
/// through it regardless; a directory is not a database, and nothing is left beside it.
#[test]
fn sqlite_urls_that_cannot_be_written_or_are_no_file_are_refused() {
    let env = Env::new();
    let file = env.copy_sample();
    env.import("demo", &[file]).expect_code(0);
    for options in ["mode=ro", "immutable=1"] {
        let url = format!("sqlite://{}?{options}", env.db_path().display());
        let run = run_at(&env, &url, &["import", "--account", "demo", file]);
        run.expect_code(2);
        assert!(run.stderr.contains(options), "{}", run.stderr);
    }
    std::fs::create_dir(env.path("dir.db")).expect("a directory");
    let url = format!("sqlite://{}", env.path("dir.db").display());
    let run = run_at(&env, &url, &["import", "--account", "demo", file]);
    run.expect_code(2);
    assert!(run.stderr.contains("names a directory"), "{}", run.stderr);
    assert!(
        !env.path("dir.db-locks").exists(),
        "no lock directory beside it"
    );
}

/// The lock file of a killed job goes when its job is recorded interrupted, and no report may
/// be written into the run locks' directory.
#[test]
fn a_dead_job_s_lock_file_is_removed_and_the_lock_directory_is_protected() {
    let env = Env::new();
    let file = orders_file(&env, "orders.csv", 300, None);
    crashed(
        &env,
        "batch",
        &import_args("a", &["--batch-bytes", "16KiB"], &file),
    );
    let id = s(&job_of(&env, "a"), "id").to_string();
    let lock = env.path(&format!("t.db-locks/job-{id}"));
    assert!(lock.exists(), "a killed process leaves its lock file");
    // The next writer records the job interrupted, and removes the file.
    env.import("b", &[&file]).expect_code(0);
    assert!(!lock.exists(), "the dead job's lock file is removed");
    let run = env.import("c", &["--rejects", "t.db-locks/migrate", &file]);
    run.expect_code(2);
    assert!(run.stderr.contains("would destroy it"), "{}", run.stderr);
}
