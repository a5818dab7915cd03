//! `init`: a starter config from questions on a terminal, or from flags.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::InitArgs;
use crate::exit::{self, Failure};
use crate::init::{
    Answers, HomeAssistant, MinerAnswer, POLICY, check_miner, check_name, check_plug, check_url, check_watts,
    parse_location, parse_miner, render,
};

pub fn init(args: &InitArgs) -> Result<i32, Failure> {
    if args.file.exists() && !args.force {
        return Err(Failure::new(exit::USAGE, format!("{} exists; pass --force to overwrite it", args.file.display())));
    }
    let mut answers = if args.interactive || std::io::stdin().is_terminal() { ask(args)? } else { from_flags(args)? };
    check_answers(&answers)?;
    let text = render(&answers);
    let dir = args.file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let write = |path: &std::path::Path, text: &str| {
        std::fs::write(path, text)
            .map_err(|e| Failure::new(exit::FATAL, format!("cannot write {}: {e}", path.display())))
    };
    write(&args.file, &text)?;
    let policy = dir.join("rules/solar-policy.yaml");
    if !policy.exists() {
        std::fs::create_dir_all(dir.join("rules")).map_err(|e| Failure::new(exit::FATAL, e.to_string()))?;
        write(&policy, POLICY)?;
    }
    let schema = dir.join("edge-mining.schema.json");
    if !schema.exists() {
        write(
            &schema,
            &serde_json::to_string_pretty(&crate::config::schema::config_schema(&crate::registry::REGISTRY))
                .unwrap_or_default(),
        )?;
    }
    // What the devices and Home Assistant say, now that there is a config to read them with.
    if read_power_max(&args.file, &mut answers) {
        write(&args.file, &render(&answers))?;
    }
    check_home_assistant(&args.file, &answers);
    println!("wrote {} (and, when missing, {} and {})", args.file.display(), policy.display(), schema.display());
    if let Some(ha) = &answers.home_assistant
        && !dir.join(&ha.token_file).exists()
    {
        println!("next: put your Home Assistant long-lived token in {}", dir.join(&ha.token_file).display());
    }
    println!("then: edge-mining validate -c {0} && edge-mining run --dry-run -c {0}", args.file.display());
    Ok(exit::OK)
}

/// A miner's name, power and plug, asked one by one; a bad answer is said and skipped.
fn ask_miner<R: BufRead>(prompt: &mut Prompter<R>, mut miner: MinerAnswer, number: usize) -> MinerAnswer {
    let name = prompt.ask("  its name", &format!("miner{number}"));
    match check_name(&name) {
        Ok(name) => miner.name = Some(name),
        Err(message) => println!("  {message}"),
    }
    if let Some(watts) = prompt.optional("  its power, W (empty: read it from the miner)", "") {
        match check_watts(&watts) {
            Ok(watts) => miner.power_max = Some(watts),
            Err(message) => println!("  {message}"),
        }
    }
    let plugs = crate::init::plug_types().join(", ");
    if let Some(kind) = prompt.optional(&format!("  a smart plug powering it? type ({plugs}; empty: none)"), "") {
        let address = prompt.ask("  the plug's address", "");
        match check_plug(&kind, &address) {
            Ok(plug) => miner.plug = Some(plug),
            Err(message) => println!("  {message}"),
        }
    }
    miner
}

/// What a config must not carry: a zone that does not exist, a Home Assistant URL that is not one.
fn check_answers(answers: &Answers) -> Result<(), Failure> {
    crate::core::time::time_zone(answers.timezone.as_deref()).map_err(usage)?;
    if let Some(ha) = &answers.home_assistant {
        check_url(&ha.url).map_err(usage)?;
        if !ha.url.contains("://") {
            return Err(usage(format!(
                "`{}`: write the Home Assistant URL with its scheme, e.g. http://{}",
                ha.url, ha.url
            )));
        }
    }
    Ok(())
}

/// Reads each miner's `power_max` from the device where none was given (the written config
/// builds the controllers); true when one was found.
fn read_power_max(file: &std::path::Path, answers: &mut Answers) -> bool {
    let Ok(loaded) = crate::config::load(file, &crate::registry::REGISTRY) else { return false };
    let world = crate::sim::SimWorld::new(Default::default(), Default::default());
    let learned = Default::default();
    let controllers = crate::devices::build(&loaded.config, &world, &learned);
    let call = probe_call();
    let ids = crate::init::miner_ids(answers);
    let mut found = false;
    for (miner, id) in answers.miners.iter_mut().zip(ids).filter(|(m, _)| m.power_max.is_none()) {
        let Some(configured) = loaded.config.miners.iter().find(|m| m.id == id) else { continue };
        let reading = crate::cycle::poll::poll_miner(&loaded.config, configured, &controllers, &call).reading;
        let detected = crate::core::context::power_range(configured, &reading).1.or(reading.power.filter(|w| *w > 0.0));
        match detected {
            Some(watts) => {
                println!("miner `{id}`: power_max {watts:.0} W, read from the device");
                miner.power_max = Some(watts.round());
                found = true;
            }
            None => println!("miner `{id}`: its power could not be read; set `power_max` (W) in the config"),
        }
    }
    found
}

/// Asks Home Assistant for each sensor given, and says what is wrong (a bad token, an entity
/// it does not have); silent when Home Assistant or its token is not there yet.
fn check_home_assistant(file: &std::path::Path, answers: &Answers) {
    let Some(ha) = &answers.home_assistant else { return };
    let Ok(loaded) = crate::config::load(file, &crate::registry::REGISTRY) else { return };
    let Some(client) = crate::services::home_assistant(&loaded.config, "ha") else { return };
    let call = probe_call();
    let entities = [
        Some(&ha.production),
        Some(&ha.consumption),
        ha.grid.as_ref(),
        ha.battery_soc.as_ref(),
        ha.battery_power.as_ref(),
    ];
    for entity in entities.into_iter().flatten() {
        match client.state(entity, &call) {
            Ok(_) => {}
            Err(error) if error.kind == crate::transport::ErrorKind::Unreachable => return,
            Err(error) => println!("Home Assistant: `{entity}`: {error}"),
        }
    }
}

/// The budget of `init`'s look at a device or Home Assistant: 2 s a request, 5 s in all.
fn probe_call() -> crate::transport::Call<'static> {
    crate::transport::Call::new(
        jiff::Timestamp::now().as_second(),
        std::time::Instant::now() + std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(2),
    )
}

fn usage(message: String) -> Failure {
    Failure::new(exit::USAGE, message)
}

fn from_flags(args: &InitArgs) -> Result<Answers, Failure> {
    let mut miners: Vec<MinerAnswer> =
        args.miners.iter().map(|m| parse_miner(m)).collect::<Result<_, _>>().map_err(usage)?;
    if let Some(range) = &args.scan {
        miners.extend(scanned(range)?);
    }
    Ok(Answers {
        location: args.location.as_deref().map(parse_location).transpose().map_err(usage)?,
        min_battery_soc: args.min_battery_soc,
        home_assistant: args.ha_url.as_ref().map(|url| HomeAssistant {
            url: url.clone(),
            token_file: args.ha_token_file.clone(),
            production: args.production.clone(),
            consumption: args.consumption.clone(),
            grid: args.grid.clone(),
            battery_soc: args.battery_soc.clone(),
            battery_power: args.battery_power.clone(),
        }),
        miners,
        ocean_address: args.ocean.clone(),
        timezone: args.timezone.clone(),
    })
}

fn scanned(range: &str) -> Result<Vec<MinerAnswer>, Failure> {
    let addresses = crate::scan::targets(&[range.to_string()], false).map_err(usage)?;
    let found = crate::scan::scan(&addresses, 4028, 80, std::time::Duration::from_secs(1), 128);
    Ok(found
        .into_iter()
        .map(|f| MinerAnswer {
            kind: f.kind.to_string(),
            address: f.url.unwrap_or(f.address),
            ..MinerAnswer::default()
        })
        .collect())
}

/// Reads answers line by line; an empty answer takes the default shown in brackets.
struct Prompter<R: BufRead> {
    input: R,
}

impl<R: BufRead> Prompter<R> {
    fn ask(&mut self, question: &str, default: &str) -> String {
        let shown = if default.is_empty() { String::new() } else { format!(" [{default}]") };
        print!("{question}{shown}: ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        if self.input.read_line(&mut line).unwrap_or(0) == 0 {
            return default.to_string();
        }
        let answer = line.trim();
        if answer.is_empty() { default.to_string() } else { answer.to_string() }
    }

    fn optional(&mut self, question: &str, default: &str) -> Option<String> {
        Some(self.ask(question, default)).filter(|a| !a.is_empty() && a != "-")
    }
}

fn ask(args: &InitArgs) -> Result<Answers, Failure> {
    let stdin = std::io::stdin();
    let mut prompt = Prompter { input: stdin.lock() };
    let mut answers = Answers {
        timezone: prompt.optional("Time zone (IANA name)", args.timezone.as_deref().unwrap_or("UTC")),
        ..Answers::default()
    };
    if let Some(url) =
        prompt.optional("Home Assistant URL (empty: a simulated energy source)", args.ha_url.as_deref().unwrap_or(""))
    {
        answers.home_assistant = Some(HomeAssistant {
            url,
            token_file: prompt.ask("File with the long-lived token", &args.ha_token_file),
            production: prompt.ask("PV production sensor", &args.production),
            consumption: prompt.ask("House load sensor, without the miners", &args.consumption),
            grid: prompt.optional("Grid power sensor (empty to skip)", args.grid.as_deref().unwrap_or("")),
            battery_soc: prompt
                .optional("Battery charge sensor (empty to skip)", args.battery_soc.as_deref().unwrap_or("")),
            battery_power: prompt.optional(
                "Battery power sensor, positive when charging (empty to skip)",
                args.battery_power.as_deref().unwrap_or(""),
            ),
        });
    }
    if let Some(range) = prompt.optional("Scan for miners? A range such as 192.168.1.0/24 (empty to skip)", "") {
        let found = scanned(&range)?;
        println!("found {} miner(s)", found.len());
        answers.miners.extend(found);
    }
    let types = crate::init::miner_types().join(", ");
    while let Some(kind) = prompt.optional(&format!("Add a miner: type ({types}; empty when done)"), "") {
        let address = prompt.ask("  its address (host, or URL for a Bitaxe)", "");
        match check_miner(&kind, &address) {
            Ok(miner) => answers.miners.push(ask_miner(&mut prompt, miner, answers.miners.len() + 1)),
            Err(message) => println!("  {message}"),
        }
    }
    answers.location = loop {
        match prompt.optional("Where are the panels? LATITUDE,LONGITUDE (empty to skip)", "") {
            None => break None,
            Some(text) => match parse_location(&text) {
                Ok(location) => break Some(location),
                Err(message) => println!("  {message}"),
            },
        }
    };
    if answers.home_assistant.as_ref().is_some_and(|ha| ha.battery_soc.is_some()) {
        answers.min_battery_soc = prompt
            .optional("Stop the miners below this battery charge, % (empty: no limit)", "")
            .and_then(|t| t.parse().ok());
    }
    answers.ocean_address =
        prompt.optional("OCEAN payout address (empty to skip)", args.ocean.as_deref().unwrap_or(""));
    Ok(answers)
}
