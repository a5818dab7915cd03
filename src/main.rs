//! The `edge-mining` binary: see `edge-mining --help`.

fn main() {
    std::process::exit(edge_mining::cli::main());
}
