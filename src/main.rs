//! `ebay-import`: the command line over the pipeline crates.

mod cli;
mod output;

use mimalloc::MiMalloc;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h, the option right before `mi_option_use_numa_nodes`
/// (libmimalloc-sys names that one but not this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const _: () = assert!(libmimalloc_sys::mi_option_use_numa_nodes == MI_OPTION_PURGE_DELAY + 1);

fn main() -> ExitCode {
    // Chunk buffers are freed and allocated again every few milliseconds; mimalloc's default
    // 10 ms purge hands their pages back to the OS in between, and page faults on fresh pages
    // cost about 10 % of a run. Keep freed pages for 100 ms instead.
    // SAFETY: setting an option is a plain store into mimalloc's option table.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 100) };
    let args = <cli::Cli as clap::Parser>::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("EBAY_IMPORT_LOG"))
        .with_writer(std::io::stderr)
        .init();
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
            eprintln!("error: {:#}", e.error);
            ExitCode::from(e.code)
        }
    }
}
