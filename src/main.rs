//! `ebay-import`: the command line over the pipeline crates.

mod cli;
mod outfile;
mod output;

use mimalloc::MiMalloc;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// Set by the first stop signal: a second one ends the process at once.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// SIGINT and SIGTERM (a terminal's Ctrl-C, a scheduler or Kubernetes stopping the pod) ask the
/// running job to stop at its next batch boundary (see `ebay_import_model::stop`); a second
/// one exits at once with 128 + its number, the database rolling back what was not committed.
fn stop_on_signals() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for signal in [SIGINT, SIGTERM] {
        // The shutdown goes first: on the first signal the flag is not set yet.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, &STOPPING)?;
        signal_hook::flag::register(signal, &STOPPING)?;
        signal_hook::flag::register_usize(
            signal,
            ebay_import_model::stop::signal_flag(),
            signal as usize,
        )?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = <cli::Cli as clap::Parser>::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("EBAY_IMPORT_LOG"))
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = stop_on_signals() {
        eprintln!("error: cannot handle stop signals: {e}");
        return ExitCode::from(cli::EXIT_FAILED);
    }
    // Named workers make profiles and thread dumps readable.
    let _ = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("ebay-import-worker-{i}"))
        .build_global();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cli::EXIT_FAILED);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(error) = e.error {
                eprintln!("error: {error:#}");
            }
            ExitCode::from(e.code)
        }
    }
}
