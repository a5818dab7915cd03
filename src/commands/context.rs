//! `context`: poll and print the decisional contexts the rules would see. Sends no command
//! and writes no state.

use serde_json::{Value, json};

use crate::cli::{Cli, ContextArgs};
use crate::cycle::poll;
use crate::cycle::scope::Scope;
use crate::exit::{self, Failure};
use crate::state::Store;

pub fn context(cli: &Cli, args: &ContextArgs) -> Result<i32, Failure> {
    let loaded = super::load_config(cli)?;
    let clock = super::clock(cli, &loaded)?;
    let units: Vec<String> = args.unit.iter().cloned().collect();
    let miners: Vec<String> = args.miner.iter().cloned().collect();
    let scope = Scope::select(&loaded.config, &units, &miners).map_err(|m| Failure::new(exit::USAGE, m))?;
    let fatal = |m: String| Failure::new(exit::FATAL, m);
    // Not the run lock: `context` sends no command. The database is opened for writing so
    // that pool replies and backoff learned here are kept, as a run would keep them.
    let mut store = Store::open(&loaded.config.state).map_err(fatal)?;
    let since = crate::cycle::home::history_start(&loaded.config, clock.now);
    let memory =
        crate::cycle::memory::Memory::load(&store, clock.day_start(), since).map_err(|e| fatal(e.to_string()))?;
    let controllers = crate::devices::build(&loaded.config, &memory.world, &memory.learned);
    let sources = poll::Sources { world: &memory.world, fetcher: &memory.fetcher, samples: &memory.samples };
    let inputs = poll::poll(&loaded.config, &scope, &controllers, &sources, &clock.call(&loaded));
    store.transaction(|conn| memory.fetcher.save(conn)).map_err(fatal)?;
    let mut evaluation = crate::cycle::decide(&loaded, &scope, &inputs, &memory, &clock, true);
    for error in &evaluation.errors {
        eprintln!("failed input: {error}");
    }
    let mut contexts: Vec<Value> = Vec::new();
    for evaluated in &mut evaluation.units {
        let unit = &mut evaluated.outcome;
        for miner in &mut unit.miners {
            if args.miner.as_ref().is_none_or(|id| id == &miner.id) {
                contexts.push(json!({"unit": unit.id, "miner": miner.id, "context": miner.context.take()}));
            }
        }
    }
    let document = match (&args.miner, contexts.len()) {
        (Some(_), 1) => contexts.remove(0)["context"].take(),
        _ => Value::Array(contexts),
    };
    super::print_structured(args.output, &document);
    Ok(if evaluation.errors.is_empty() { exit::OK } else { exit::DEGRADED })
}
