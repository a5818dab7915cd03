//! `notifier test ID`: send a test message through one notifier, to see it arrive before a
//! miner ever needs it.

use crate::cli::{Cli, NotifierCommand};
use crate::exit::{self, Failure};

pub fn notifier(cli: &Cli, command: &NotifierCommand) -> Result<i32, Failure> {
    let NotifierCommand::Test { id } = command;
    let loaded = super::load_config(cli)?;
    let clock = super::clock(cli, &loaded)?;
    let notifiers = crate::notify::build(&loaded.config);
    let Some(configured) = notifiers.iter().find(|n| &n.id == id) else {
        let known: Vec<&str> = notifiers.iter().map(|n| n.id.as_str()).collect();
        let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
        return Err(Failure::new(exit::USAGE, format!("unknown notifier `{id}` (configured: {known})")));
    };
    match crate::notify::send_test(configured, &clock.call(&loaded), &clock.format(clock.now)) {
        Ok(()) => {
            println!("ok: notifier `{id}` accepted the test message");
            Ok(exit::OK)
        }
        Err(message) => Err(Failure::new(exit::DEGRADED, format!("notifier `{id}`: {message}"))),
    }
}
