//! Crash points, for the crash tests: with `EBAY_IMPORT_CRASH_AT=NAME[:N]` in its environment
//! the process aborts, as abruptly as a SIGKILL ends it, the N-th time (default: the first)
//! it reaches the point `NAME`. Without the variable a point costs one atomic load.
//!
//! The points: `commit` (a data transaction is about to commit), `committed` (it just did),
//! `batch` (a batch was written inside the transaction), `undone` (a rollback's rows are
//! undone, its job record not yet written).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The point to crash at and how many times it is passed first.
static PLAN: OnceLock<Option<(String, u64)>> = OnceLock::new();
static PASSED: AtomicU64 = AtomicU64::new(0);

fn plan() -> &'static Option<(String, u64)> {
    PLAN.get_or_init(|| {
        let spec = std::env::var("EBAY_IMPORT_CRASH_AT").ok()?;
        let (name, n) = match spec.split_once(':') {
            Some((name, n)) => (name.to_string(), n.parse().ok()?),
            None => (spec, 1),
        };
        Some((name, n))
    })
}

/// Aborts the process if this is the planned crash point.
pub fn point(name: &str) {
    if let Some((planned, n)) = plan() {
        if planned == name && PASSED.fetch_add(1, Ordering::SeqCst) + 1 == *n {
            std::process::abort();
        }
    }
}
