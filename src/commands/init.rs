//! `init`: a starter config from questions on a terminal, or from flags.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::InitArgs;
use crate::exit::{self, Failure};
use crate::init::{Answers, HomeAssistant, MinerAnswer, POLICY, check_miner, parse_miner, render};

pub fn init(args: &InitArgs) -> Result<i32, Failure> {
    if args.file.exists() && !args.force {
        return Err(Failure::new(exit::USAGE, format!("{} exists; pass --force to overwrite it", args.file.display())));
    }
    let answers = if args.interactive || std::io::stdin().is_terminal() { ask(args)? } else { from_flags(args)? };
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
    println!("wrote {} (and, when missing, {} and {})", args.file.display(), policy.display(), schema.display());
    if let Some(ha) = &answers.home_assistant
        && !dir.join(&ha.token_file).exists()
    {
        println!("next: put your Home Assistant long-lived token in {}", dir.join(&ha.token_file).display());
    }
    println!("then: edge-mining validate -c {0} && edge-mining run --dry-run -c {0}", args.file.display());
    Ok(exit::OK)
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
        home_assistant: args.ha_url.as_ref().map(|url| HomeAssistant {
            url: url.clone(),
            token_file: args.ha_token_file.clone(),
            production: args.production.clone(),
            consumption: args.consumption.clone(),
            grid: args.grid.clone(),
            battery_soc: args.battery_soc.clone(),
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
        .map(|f| MinerAnswer { kind: f.kind.to_string(), address: f.url.unwrap_or(f.address) })
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
            Ok(miner) => answers.miners.push(miner),
            Err(message) => println!("  {message}"),
        }
    }
    answers.ocean_address =
        prompt.optional("OCEAN payout address (empty to skip)", args.ocean.as_deref().unwrap_or(""));
    Ok(answers)
}
