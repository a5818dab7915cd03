//! `scan CIDR…`: find miners and print ready-to-paste config entries.

use crate::cli::{Output, ScanArgs};
use crate::duration::Span;
use crate::exit::{self, Failure};

pub fn scan(args: &ScanArgs) -> Result<i32, Failure> {
    let addresses = crate::scan::targets(&args.ranges, args.allow_large).map_err(|m| Failure::new(exit::USAGE, m))?;
    let timeout = Span::parse(&args.timeout).map_err(|m| Failure::new(exit::USAGE, m))?;
    let started = std::time::Instant::now();
    let found = crate::scan::scan(&addresses, args.port, args.http_port, timeout.0, args.concurrency.max(1));
    eprintln!(
        "scanned {} address(es) in {:.1} s: {} device(s) found",
        addresses.len(),
        started.elapsed().as_secs_f64(),
        found.len()
    );
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&found).unwrap_or_default()),
        _ => print!("{}", crate::scan::entries(&found)),
    }
    Ok(exit::OK)
}
