//! The crash campaign: imports, resumes and rollbacks killed at seeded random points (a crash
//! point — before or after a commit, after a batch, after a rollback's undo — or a SIGKILL
//! after a random delay), on both stores. After every kill the job records must tell the truth:
//! no job reads `processing`; what a job's record says is stored is what is stored; `resume` of
//! any resumable job ends with exactly the counts, rows and rejects of a one-go import; no row
//! is stored twice.
//!
//! `EBAY_IMPORT_CRASH_SEED` picks another campaign, `EBAY_IMPORT_CRASH_ROUNDS` makes it
//! longer (the default keeps it to about a minute).

mod common;

use common::*;
use ebay_import_generate::OrdersReportOptions;
use serde_json::Value;
use std::time::Duration;

const FILE: &str = "orders.csv";
/// Small batches: many parts from a small file.
const BATCH: &str = "64KiB";
const COMMIT_EVERY: &str = "300";

fn seed() -> u64 {
    std::env::var("EBAY_IMPORT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261207)
}

fn rounds() -> usize {
    std::env::var("EBAY_IMPORT_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6)
}

/// What an account holds after a job, compared across accounts.
#[derive(Debug, PartialEq)]
struct Stored {
    orders: Vec<Vec<Option<String>>>,
    items: i64,
    customers: Vec<Vec<Option<String>>>,
    rejects: Vec<Vec<Option<String>>>,
}

fn stored(env: &Env, account: &str, job: &str) -> Stored {
    Stored {
        orders: env.rows(&format!(
            "SELECT order_key, CAST(total_price AS TEXT), CAST(source_line AS TEXT) FROM orders \
             WHERE account_id = '{account}' ORDER BY order_key"
        )),
        items: env.count(&format!(
            "SELECT COUNT(*) FROM order_items WHERE account_id = '{account}'"
        )),
        customers: env.rows(&format!(
            "SELECT username, name, email, phone, address_1, city, zip, country, ship_to_name, \
             ship_to_address_1, CAST(first_order_date AS TEXT), CAST(last_order_date AS TEXT), \
             CAST(order_count AS TEXT) FROM customers WHERE account_id = '{account}' ORDER BY username"
        )),
        rejects: env.rows(&format!(
            "SELECT CAST(line AS TEXT), code, column_name FROM import_rejects WHERE job_id = '{job}' \
             ORDER BY line, code, column_name"
        )),
    }
}

struct Campaign<'a> {
    env: &'a Env,
    rng: fastrand::Rng,
    reference: Value,
    reference_stored: Stored,
    round: usize,
}

impl Campaign<'_> {
    fn account(&self) -> String {
        format!("crash-{}", self.round)
    }

    /// A kill for the next run: a crash point reached the n-th time, or a SIGKILL after a
    /// delay.
    fn kill(&mut self, points: &[&'static str], most: u64) -> Kill {
        if self.rng.u8(0..4) == 0 {
            Kill::After(Duration::from_millis(self.rng.u64(30..1500)))
        } else {
            let point = points[self.rng.usize(0..points.len())];
            Kill::At(point, self.rng.u64(1..=most))
        }
    }

    /// Runs the binary to be killed; returns once the database let go of what it held (a
    /// killed process's PostgreSQL session lives on for a moment, holding its locks).
    fn run_killed(&self, args: &[&str], kill: &Kill) -> Run {
        let run = self.run_until_killed(args, kill);
        wait_for_sessions_gone(self.env);
        run
    }

    fn run_until_killed(&self, args: &[&str], kill: &Kill) -> Run {
        match kill {
            Kill::At(point, n) => {
                let at = format!("{point}:{n}");
                self.env.run_env(args, &[("EBAY_IMPORT_CRASH_AT", &at)])
            }
            Kill::After(delay) => {
                let mut child = self.env.spawn(args);
                std::thread::sleep(*delay);
                let _ = child.kill();
                let out = child.wait_with_output().expect("reap the killed run");
                Run {
                    args: args.iter().map(|s| s.to_string()).collect(),
                    code: out.status.code().unwrap_or(-1),
                    stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                }
            }
        }
    }

    /// The account's only job, as `jobs list` reads it; none when the run was killed before
    /// it recorded one (then nothing of it may be stored).
    fn job_of(&self, account: &str) -> Option<Value> {
        let list = self
            .env
            .run(&["jobs", "list", "--account", account, "--json"]);
        list.expect_code(0);
        let mut jobs = list.json_lines();
        assert!(
            jobs.len() <= 1,
            "{}: one job in {account}",
            self.env.store_name()
        );
        let job = jobs.pop();
        if job.is_none() {
            let rows = self.env.count(&format!(
                "SELECT COUNT(*) FROM orders o JOIN accounts a ON a.id = o.account_id \
                 WHERE a.slug = '{account}'"
            ));
            assert_eq!(rows, 0, "{}: rows without a job", self.env.store_name());
        }
        job
    }

    /// What the job's record says is stored is what is stored, and no row is stored twice.
    fn check_truth(&self, job: &Value, what: &str) {
        let store = self.env.store_name();
        let status = s(job, "status");
        assert_ne!(status, "processing", "{store} {what}: {job}");
        let (id, account) = (s(job, "id"), s(job, "account_id"));
        let committed = !job["resume_cursor"].is_null();
        let stored_nothing = matches!(status, "interrupted" | "failed") && !committed;
        // A rolled back job's rows are gone; its rejects, a record of its file, stay.
        let rows_gone = stored_nothing || status == "rolled_back";
        for (table, key) in [
            ("orders", "order_key"),
            ("order_items", "item_key"),
            ("customers", "username"),
        ] {
            let rows = self.env.count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE account_id = '{account}'"
            ));
            let distinct = self.env.count(&format!(
                "SELECT COUNT(DISTINCT {key}) FROM {table} WHERE account_id = '{account}'"
            ));
            assert_eq!(rows, distinct, "{store} {what}: {table} rows stored twice");
            let said = if rows_gone {
                0
            } else {
                let t = &job["tables"][table];
                t["inserted"].as_i64().unwrap_or(0) + t["updated"].as_i64().unwrap_or(0)
            };
            assert_eq!(rows, said, "{store} {what}: {table} stored vs {job}");
        }
        let rejects = self.env.count(&format!(
            "SELECT COUNT(*) FROM import_rejects WHERE job_id = '{id}'"
        ));
        let said: u64 = if stored_nothing {
            0
        } else {
            codes(job).values().sum()
        };
        assert_eq!(rejects as u64, said, "{store} {what}: rejects vs {job}");
        if status == "interrupted" {
            let error = s(job, "error");
            assert!(
                error.contains(if committed {
                    "resume"
                } else {
                    "nothing of it was stored"
                }),
                "{store} {what}: {error}"
            );
        }
    }

    /// Resumes the job until it is done (killing some resumes too), then checks it against the
    /// one-go import.
    fn resume_to_the_end(&mut self, job: Value) {
        let id = s(&job, "id").to_string();
        let account = self.account();
        let mut job = job;
        for attempt in 0.. {
            assert!(attempt < 20, "resume never finished");
            let kill = (self.rng.u8(0..3) == 0).then(|| self.kill(&["batch", "commit"], 30));
            let args = ["resume", id.as_str(), "--json"];
            match &kill {
                Some(kill) => {
                    self.run_killed(&args, kill);
                }
                None => {
                    self.env.run(&args).expect_code(0);
                }
            }
            job = self.job_of(&account).expect("the job stays");
            self.check_truth(&job, &format!("resume {attempt} killed {kill:?}"));
            if s(&job, "status") != "interrupted" {
                break;
            }
        }
        self.check_like_one_go(&job);
    }

    fn check_like_one_go(&self, job: &Value) {
        let store = self.env.store_name();
        let account = s(job, "account_id");
        assert_same_outcome(job, &self.reference, store);
        let id = s(job, "id");
        let got = stored(self.env, account, id);
        let want = &self.reference_stored;
        let first_diff = got.orders.iter().zip(&want.orders).find(|(g, w)| g != w);
        assert!(
            got.orders == want.orders,
            "{store}: job {id}'s orders differ ({} against {} rows; first: {first_diff:?})",
            got.orders.len(),
            want.orders.len()
        );
        assert_eq!(got.items, want.items, "{store}: job {id}'s items");
        for (g, w) in got.customers.iter().zip(&want.customers) {
            assert_eq!(g, w, "{store}: job {id}'s customers");
        }
        assert_eq!(got.customers.len(), want.customers.len(), "{store}");
        assert!(
            got.rejects == want.rejects,
            "{store}: job {id}'s rejects differ"
        );
    }

    /// An import killed somewhere, in one transaction (all or nothing, and the record says
    /// which) or with `--commit-every` (then resumed to the end).
    fn killed_import(&mut self, commit_every: bool) {
        let account = self.account();
        let kill = self.kill(
            &["commit", "committed", "batch"],
            if commit_every { 24 } else { 3 },
        );
        let mut args = vec![
            "import",
            "--account",
            &account,
            "--json",
            "--batch-bytes",
            BATCH,
        ];
        if commit_every {
            args.extend(["--commit-every", COMMIT_EVERY]);
        }
        args.push(FILE);
        self.run_killed(&args, &kill);
        let Some(job) = self.job_of(&account) else {
            return;
        };
        self.check_truth(
            &job,
            &format!("import (--commit-every: {commit_every}) killed {kill:?}"),
        );
        match s(&job, "status") {
            "interrupted" if !job["resume_cursor"].is_null() => self.resume_to_the_end(job),
            "interrupted" => {
                let id = s(&job, "id");
                self.env.run(&["resume", id]).expect_code(2);
                self.env.run(&["rollback", id]).expect_code(1);
            }
            _ => self.check_like_one_go(&job),
        }
    }

    /// A rollback killed somewhere: the job is rolled back with none of its rows, or still
    /// completed with all of them, and a second rollback finishes it.
    fn killed_rollback(&mut self) {
        let account = self.account();
        self.env
            .import(&account, &["--batch-bytes", BATCH, FILE])
            .expect_code(0);
        let job = self.job_of(&account).expect("the import's job");
        let id = s(&job, "id").to_string();
        let kill = self.kill(&["undone", "commit", "committed"], 1);
        self.run_killed(&["rollback", &id], &kill);
        let job = self.job_of(&account).expect("the job stays");
        self.check_truth(&job, &format!("rollback killed {kill:?}"));
        if s(&job, "status") != "rolled_back" {
            assert_eq!(s(&job, "status"), s(&self.reference, "status"));
            self.env.run(&["rollback", &id]).expect_code(0);
            let job = self.job_of(&account).expect("the job stays");
            self.check_truth(&job, "rollback again");
        }
        self.env.run(&["rollback", &id]).expect_code(1);
    }
}

#[derive(Debug)]
enum Kill {
    /// Abort the n-th time the crash point is reached.
    At(&'static str, u64),
    /// SIGKILL after a delay.
    After(Duration),
}

#[test]
fn job_records_tell_the_truth_after_any_crash() {
    for env in Env::each_store("crash") {
        env.generate_orders(
            FILE,
            &OrdersReportOptions {
                rows: 2500,
                fault_every: Some(97),
                ..OrdersReportOptions::default()
            },
        );
        let reference = env.import("reference", &["--batch-bytes", BATCH, FILE]);
        reference.expect_code(0);
        let reference = reference.json();
        let reference_stored = stored(&env, s(&reference, "account_id"), s(&reference, "job_id"));
        let mut c = Campaign {
            env: &env,
            rng: fastrand::Rng::with_seed(seed()),
            reference,
            reference_stored,
            round: 0,
        };
        for round in 0..rounds() {
            c.round = round;
            match c.rng.u8(0..4) {
                0 | 1 => c.killed_import(true),
                2 => c.killed_import(false),
                _ => c.killed_rollback(),
            }
        }
    }
}
