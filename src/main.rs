//! The `edge-mining` binary: see `edge-mining --help`.

fn main() {
    // Like any Unix tool, end quietly when the reader of our output goes away (`| head`).
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // glibc keeps small freed chunks in "fastbins" and merges them all back whenever a
    // larger block is asked for. A farm's cycle frees millions of small chunks (its reply
    // trees), so that merging grew faster than the fleet: a fifth of the user CPU at
    // 10,000 miners (perf: malloc_consolidate, unlink_chunk). Without fastbins, small
    // chunks still go to glibc's per-thread cache first.
    // SAFETY: mallopt only changes glibc's allocator settings; no thread is running yet.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MXFAST, 0);
    }
    edge_mining::parallel::raise_open_file_limit();
    std::process::exit(edge_mining::cli::main());
}
