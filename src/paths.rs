//! Paths in config files: relative to the config file's folder, with simple globs.

use std::path::{Path, PathBuf};

/// Resolves `path` against `base` unless it is absolute.
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { base.join(path) }
}

/// Expands a pattern whose components may hold `*` and `?` (no `**`), sorted by name.
/// A pattern without wildcards names one file, which must exist.
pub fn expand_glob(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = resolve(base, Path::new(pattern));
    if !pattern.contains(['*', '?']) {
        return if full.is_file() {
            Ok(vec![full])
        } else {
            Err(format!("rule file {} does not exist", full.display()))
        };
    }
    let mut found = vec![PathBuf::new()];
    for component in full.components() {
        let text = component.as_os_str().to_string_lossy();
        if !text.contains(['*', '?']) {
            found.iter_mut().for_each(|path| path.push(component));
            continue;
        }
        let mut next = Vec::new();
        for dir in &found {
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            let mut names: Vec<String> =
                entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            next.extend(names.into_iter().filter(|name| wildcard_match(&text, name)).map(|name| dir.join(name)));
        }
        found = next;
    }
    found.retain(|path| path.is_file());
    if found.is_empty() {
        return Err(format!("`{pattern}` matches no file in {}", base.display()));
    }
    Ok(found)
}

/// `*` matches any run of characters, `?` one character.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n, mut star, mut mark) = (0, 0, None, 0);
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = n;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            n = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.yaml", "solar.yaml"));
        assert!(wildcard_match("s?lar*", "solar-start.yml"));
        assert!(!wildcard_match("*.yaml", "solar.yml"));
        assert!(wildcard_match("*", ""));
    }

    #[test]
    fn expands_sorted_and_reports_no_match() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("start")).unwrap();
        for name in ["b.yaml", "a.yaml", "c.txt"] {
            std::fs::write(dir.path().join("start").join(name), "rules: []").unwrap();
        }
        let files = expand_glob(dir.path(), "start/*.yaml").unwrap();
        let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap().to_str().unwrap()).collect();
        assert_eq!(names, ["a.yaml", "b.yaml"]);
        assert!(expand_glob(dir.path(), "stop/*.yaml").is_err());
        assert!(expand_glob(dir.path(), "start/z.yaml").is_err());
    }
}
