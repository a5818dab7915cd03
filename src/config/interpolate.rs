//! `${NAME}` environment interpolation and `<secret>_file` indirection, applied to the raw
//! YAML values before they are typed, so every string of every component gets them.

use std::path::{Path, PathBuf};

use crate::yaml::{Value, index_path, key_path};

/// The fields that hold secrets; each may be given as `<field>_file: PATH` instead.
pub const SECRET_FIELDS: [&str; 5] = ["token", "password", "api_token", "bot_token", "api_key"];

/// What interpolation needs from the outside world (injected so tests need no real environment).
pub struct Environment<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub config_dir: &'a Path,
    pub credentials_dir: Option<PathBuf>,
    pub secrets: Secrets,
}

/// Whether `<secret>_file` files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    Read,
    /// `validate --offline`: a CI checkout has no secret files; a placeholder stands in.
    Skip,
}

/// What stands in for a secret file's contents under `validate --offline`.
const OFFLINE_SECRET: &str = "offline-placeholder";

impl Environment<'_> {
    fn secret_path(&self, given: &str) -> PathBuf {
        let path = Path::new(given);
        if path.is_absolute() {
            return path.to_path_buf();
        }
        self.credentials_dir.as_deref().unwrap_or(self.config_dir).join(path)
    }
}

/// Interpolates every string below `value`; returns (path, message) for each problem.
pub fn interpolate(value: &mut Value, path: &str, env: &Environment) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    walk(value, &|| path.to_string(), env, &mut problems);
    problems
}

/// `path` spells the value's path; it is called only for a problem, so a clean config's
/// thousands of nodes cost no string each.
fn walk(value: &mut Value, path: &dyn Fn() -> String, env: &Environment, problems: &mut Vec<(String, String)>) {
    match value {
        Value::String(text) if text.contains('$') => match expand(text, env) {
            Ok(expanded) => *text = expanded,
            Err(message) => problems.push((path(), message)),
        },
        Value::Sequence(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                walk(item, &|| index_path(&path(), index), env, problems);
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let key = key.as_str().unwrap_or_default();
                walk(item, &|| key_path(&path(), key), env, problems);
            }
            let names_a_file = |key: &Value| key.as_str().is_some_and(|key| key.ends_with("_file"));
            if map.keys().any(names_a_file) {
                resolve_secret_files(map, &path(), env, problems);
            }
        }
        _ => {}
    }
}

/// Replaces `token_file: PATH` by `token: <contents>` (trailing newline removed).
fn resolve_secret_files(
    map: &mut serde_yaml::Mapping,
    path: &str,
    env: &Environment,
    problems: &mut Vec<(String, String)>,
) {
    for field in SECRET_FIELDS {
        let file_key = format!("{field}_file");
        let Some(file_value) = map.remove(file_key.as_str()) else { continue };
        let here = key_path(path, &file_key);
        if map.contains_key(field) {
            problems.push((here, format!("give either `{field}` or `{file_key}`, not both")));
            continue;
        }
        let Some(given) = file_value.as_str() else {
            problems.push((here, "expected a file path".to_string()));
            continue;
        };
        if env.secrets == Secrets::Skip {
            map.insert(Value::String(field.to_string()), Value::String(OFFLINE_SECRET.to_string()));
            continue;
        }
        let file = env.secret_path(given);
        match std::fs::read_to_string(&file) {
            Ok(contents) => {
                let secret = contents.trim_end_matches(['\n', '\r']).to_string();
                map.insert(Value::String(field.to_string()), Value::String(secret));
            }
            Err(err) => problems.push((here, format!("cannot read secret file {}: {err}", file.display()))),
        }
    }
}

/// Expands `${NAME}`; `$$` stands for a literal `$`.
fn expand(text: &str, env: &Environment) -> Result<String, String> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| "unterminated `${` in string".to_string())?;
            let name = &body[..end];
            let value = (env.var)(name).ok_or_else(|| format!("environment variable `{name}` is not set"))?;
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(dir: &Path) -> Environment<'_> {
        static VARS: fn(&str) -> Option<String> = |name| (name == "HA_TOKEN").then(|| "abc".to_string());
        Environment { var: &VARS, config_dir: dir, credentials_dir: None, secrets: Secrets::Read }
    }

    #[test]
    fn expands_variables_and_dollars() {
        let env = env_with(Path::new("."));
        assert_eq!(expand("Bearer ${HA_TOKEN}", &env).unwrap(), "Bearer abc");
        assert_eq!(expand("cost $$5", &env).unwrap(), "cost $5");
        assert_eq!(expand("a $ b", &env).unwrap(), "a $ b");
        assert!(expand("${MISSING}", &env).unwrap_err().contains("MISSING"));
        assert!(expand("${HA_TOKEN", &env).is_err());
    }

    #[test]
    fn reads_secret_files_relative_to_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tok"), "s3cret\n").unwrap();
        let env = env_with(dir.path());
        let mut value: Value = serde_yaml::from_str("services: [{id: h, token_file: tok}]").unwrap();
        assert!(interpolate(&mut value, "", &env).is_empty());
        assert_eq!(value["services"][0]["token"].as_str(), Some("s3cret"));
        assert!(value["services"][0].get("token_file").is_none());
    }

    #[test]
    fn secret_problems_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_with(dir.path());
        let mut value: Value = serde_yaml::from_str("a: {token: x, token_file: y}\nb: {password_file: nope}").unwrap();
        let problems = interpolate(&mut value, "", &env);
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["a.token_file", "b.password_file"]);
    }
}
