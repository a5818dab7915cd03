//! The `edge-mining` binary: see `edge-mining --help`.

fn main() {
    // Like any Unix tool, end quietly when the reader of our output goes away (`| head`).
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    edge_mining::parallel::raise_open_file_limit();
    std::process::exit(edge_mining::cli::main());
}
