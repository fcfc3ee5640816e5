//! Waiting for a lock that another process holds: as long as it takes by default, else until
//! `--lock-timeout`; a requested stop ends the wait; a wait of over a second is announced.

use crate::StoreError;
use ebay_import_model::stop;
use std::time::{Duration, Instant};

/// A wait of over this long is announced on stderr.
const ANNOUNCE_AFTER: Duration = Duration::from_secs(1);

/// How often a lock that cannot be waited on inside the database is tried again.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// One wait for one lock.
pub(crate) struct Wait {
    started: Instant,
    timeout: Option<Duration>,
    announced: bool,
}

impl Wait {
    pub(crate) fn new(timeout: Option<Duration>) -> Wait {
        Wait {
            started: Instant::now(),
            timeout,
            announced: false,
        }
    }

    /// After a failed attempt at the lock: `Ok` to try again, or why the wait is over. `what`
    /// names what is waited for ("another process to finish writing to …").
    pub(crate) fn again(&mut self, what: &dyn Fn() -> String) -> Result<(), StoreError> {
        if let Some(signal) = stop::requested() {
            return Err(StoreError::Stopped(signal));
        }
        let waited = self.started.elapsed();
        if let Some(limit) = self.timeout.filter(|&t| waited >= t) {
            return Err(StoreError::LockTimeout(format!(
                "gave up after {} waiting for {} (--lock-timeout {})",
                seconds(waited),
                what(),
                seconds(limit)
            )));
        }
        if waited >= ANNOUNCE_AFTER && !self.announced {
            self.announced = true;
            eprintln!("waiting for {}", what());
        }
        Ok(())
    }
}

impl Wait {
    /// Tries `attempt` every [`POLL`] until it takes the lock (returns true), the wait is over
    /// ([`Wait::again`]), or it fails.
    pub(crate) async fn until(
        &mut self,
        what: &dyn Fn() -> String,
        mut attempt: impl AsyncFnMut() -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        while !attempt().await? {
            self.again(what)?;
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_ends_at_its_timeout_and_says_what_it_waited_for() {
        let mut w = Wait::new(Some(Duration::from_millis(20)));
        let what = || "the lock".to_string();
        assert!(w.again(&what).is_ok());
        std::thread::sleep(Duration::from_millis(30));
        let e = w.again(&what).unwrap_err().to_string();
        assert!(
            e.starts_with("gave up after 0.0 s waiting for the lock"),
            "{e}"
        );
        assert!(e.ends_with("(--lock-timeout 0.0 s)"), "{e}");
        // Without a timeout it waits on.
        let mut forever = Wait::new(None);
        assert!(forever.again(&what).is_ok());
    }
}
