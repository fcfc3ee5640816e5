//! A request to stop, process-wide: a signal handler records it, and the long-running stages
//! (the import loop, a wait for a database lock) look at it where stopping is safe.

use std::sync::atomic::{AtomicUsize, Ordering};

static SIGNAL: AtomicUsize = AtomicUsize::new(0);

/// Where a signal handler records the signal that asks the process to stop (storing an
/// atomic is all it does, so it is safe in a handler).
pub fn signal_flag() -> &'static AtomicUsize {
    &SIGNAL
}

/// The signal that asked the process to stop, if one did.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s as i32),
    }
}

/// The conventional name of a stop signal, for messages.
pub fn signal_name(signal: i32) -> String {
    match signal {
        1 => "SIGHUP".into(),
        2 => "SIGINT".into(),
        15 => "SIGTERM".into(),
        s => format!("signal {s}"),
    }
}
