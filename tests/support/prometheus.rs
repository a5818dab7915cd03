//! A strict parser of the Prometheus text exposition format, for checking metrics files:
//! every sample belongs to a family announced by HELP and TYPE, names and labels are valid,
//! label values are properly escaped, values are numbers.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Default)]
pub struct Exposition {
    pub types: BTreeMap<String, String>,
    pub helps: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// The value of `name` whose labels include all of `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
            .map(|s| s.value)
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut exposition = Exposition::default();
    for (number, line) in text.lines().enumerate() {
        let at = |m: String| format!("line {}: {m}: {line:?}", number + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (keyword, name, tail) = (parts.next(), parts.next(), parts.next());
            match (keyword, name) {
                (Some("HELP"), Some(name)) if valid_name(name) => {
                    drop(exposition.helps.insert(name.into(), tail.unwrap_or("").into()))
                }
                (Some("TYPE"), Some(name)) if valid_name(name) => {
                    let kind = tail.ok_or_else(|| at("TYPE without a type".into()))?;
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(at(format!("unknown type {kind}")));
                    }
                    if exposition.types.insert(name.into(), kind.into()).is_some() {
                        return Err(at("a second TYPE for the family".into()));
                    }
                }
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        if !exposition.types.contains_key(&sample.name) || !exposition.helps.contains_key(&sample.name) {
            return Err(at(format!("{} has no HELP and TYPE before it", sample.name)));
        }
        exposition.samples.push(sample);
    }
    Ok(exposition)
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !valid_name(name) {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        let mut key = String::new();
        loop {
            let (i, c) = chars.next().ok_or("unterminated labels")?;
            match c {
                '}' if key.is_empty() => {
                    rest = &inner[i + 1..];
                    break;
                }
                '=' => {
                    if !valid_name(&key) {
                        return Err(format!("invalid label name {key:?}"));
                    }
                    if chars.next().map(|(_, c)| c) != Some('"') {
                        return Err("label value not quoted".into());
                    }
                    let mut value = String::new();
                    loop {
                        let (_, c) = chars.next().ok_or("unterminated label value")?;
                        match c {
                            '\\' => match chars.next().map(|(_, c)| c) {
                                Some('n') => value.push('\n'),
                                Some('\\') => value.push('\\'),
                                Some('"') => value.push('"'),
                                other => return Err(format!("bad escape {other:?}")),
                            },
                            '"' => break,
                            c => value.push(c),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                    match chars.peek().map(|(_, c)| *c) {
                        Some(',') => drop(chars.next()),
                        Some('}') => {}
                        other => return Err(format!("expected , or }} after a label, found {other:?}")),
                    }
                }
                c => key.push(c),
            }
        }
    }
    let value_text = rest.trim().split(' ').next().ok_or("no value")?;
    let value = match value_text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        text => text.parse().map_err(|_| format!("invalid value {text:?}"))?,
    };
    Ok(Sample { name: name.into(), labels, value })
}
