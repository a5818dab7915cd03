//! YAML front end: the one place that parses YAML.
//!
//! A document is parsed twice over the same text: `serde_yaml` gives the values the
//! typed config is built from, and `saphyr-parser` gives the position of every key and
//! list item, so that any problem found later can be reported as `file:line:column`. A
//! clean config is walked only once; the first few problems each walk the events until
//! their path, and only a document with more problems has every position indexed.
//! Keeping both behind this module lets a maintained fork replace either in one place.

use std::collections::HashMap;
use std::fmt::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use saphyr_parser::{Event, Parser, Span};

use crate::diag::{Diagnostic, Location};

pub use serde_yaml::{Mapping, Value};

/// A parsed YAML file: its values and where each node starts.
#[derive(Debug)]
pub struct Document {
    pub file: PathBuf,
    pub value: Value,
    text: Arc<str>,
    positions: OnceLock<HashMap<String, (usize, usize)>>,
    /// How many positions were looked for by a walk of their own.
    searched: AtomicUsize,
}

/// Problems located by a walk each, before the whole document is indexed: a walk costs no
/// more than the index, which costs a string and a map entry for every node.
const SEARCHED_BEFORE_INDEXING: usize = 4;

impl Document {
    /// Parses `text`, read from `file`. A syntax error becomes a diagnostic with its position.
    pub fn parse(file: &Path, text: &str) -> Result<Document, Diagnostic> {
        let value: Value = serde_yaml::from_str(text).map_err(|err| {
            let (line, column) = err.location().map_or((1, 1), |l| (l.line(), l.column()));
            Diagnostic::error(
                Location::new(file, line, column),
                "",
                format!("invalid YAML: {}", strip_location(&err.to_string())),
            )
        })?;
        let value = if value.is_null() { Value::Mapping(Mapping::new()) } else { value };
        Ok(Document {
            file: file.to_path_buf(),
            value,
            text: text.into(),
            positions: OnceLock::new(),
            searched: AtomicUsize::new(0),
        })
    }

    /// The position of `path` (`controllers[2].adress`), or of its nearest ancestor that has one.
    pub fn locate(&self, path: &str) -> Location {
        let (line, column) = match self.positions.get() {
            Some(positions) => nearest(positions, path),
            None if self.searched.fetch_add(1, Ordering::Relaxed) < SEARCHED_BEFORE_INDEXING => {
                search(&self.text, path)
            }
            None => nearest(self.positions.get_or_init(|| index_positions(&self.text)), path),
        };
        Location::new(&self.file, line, column)
    }
}

/// The indexed position of `path` or of its nearest ancestor; the document's start if none.
fn nearest(positions: &HashMap<String, (usize, usize)>, path: &str) -> (usize, usize) {
    let mut candidate = path;
    loop {
        if let Some(&position) = positions.get(candidate) {
            return position;
        }
        match parent_path(candidate) {
            Some(parent) => candidate = parent,
            None => return (1, 1),
        }
    }
}

/// `nearest` by one walk that stops at `path`: the deepest ancestor met is kept meanwhile.
fn search(text: &str, path: &str) -> (usize, usize) {
    // (length of its path, position) of the deepest ancestor met so far.
    let mut best: Option<(usize, (usize, usize))> = None;
    let found = walk_positions(text, |at, position| {
        if at == path {
            return ControlFlow::Break(position);
        }
        let ancestor = at.is_empty() || (path.starts_with(at) && path[at.len()..].starts_with(['.', '[']));
        if ancestor && best.is_none_or(|(deepest, _)| at.len() > deepest) {
            best = Some((at.len(), position));
        }
        ControlFlow::Continue(())
    });
    found.or(best.map(|(_, position)| position)).unwrap_or((1, 1))
}

/// Drops serde_yaml's own " at line L column C" suffix: the caller reports the position.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → none.
pub fn parent_path(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

/// Joins a mapping key onto a path.
pub fn key_path(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

/// Joins a sequence index onto a path.
pub fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// An open mapping or sequence: where its own path ends in the walk's path buffer (`None`
/// for a node with no path, such as a complex key), and what comes next in it.
enum Frame {
    /// `key`: where the path of the key being read ends, until its value is done.
    Mapping {
        end: Option<usize>,
        key: Option<usize>,
    },
    Sequence {
        end: Option<usize>,
        next: usize,
    },
}

/// Every position by path, the first where a path repeats.
fn index_positions(text: &str) -> HashMap<String, (usize, usize)> {
    let mut positions = HashMap::new();
    walk_positions(text, |path, position| {
        if !positions.contains_key(path) {
            positions.insert(path.to_string(), position);
        }
        ControlFlow::<()>::Continue(())
    });
    positions
}

/// Walks the event stream and hands `visit` the path and start (line, column) of every key
/// and list item, in document order, until it breaks. The path lives in one buffer that
/// grows and shrinks with the walk.
fn walk_positions<B>(text: &str, mut visit: impl FnMut(&str, (usize, usize)) -> ControlFlow<B>) -> Option<B> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut path = String::new();
    let mut parser = Parser::new_from_str(text);
    let start = |span: Span| (span.start.line(), span.start.col() + 1);
    while let Some(Ok((event, span))) = parser.next_event() {
        let is_start = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
        let mut visited = ControlFlow::Continue(());
        match event {
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                finish_value(&mut stack);
            }
            Event::Scalar(ref key, ..) if expects_key(&stack) => {
                if let Some(Frame::Mapping { end, key: pending }) = stack.last_mut() {
                    if let Some(end) = *end {
                        path.truncate(end);
                        if end > 0 {
                            path.push('.');
                        }
                        path.push_str(key);
                        visited = visit(&path, start(span));
                    }
                    // A key under a node with no path has none either, but is still a key.
                    *pending = Some(end.map_or(usize::MAX, |_| path.len()));
                }
            }
            Event::Scalar(..) | Event::Alias(..) | Event::MappingStart(..) | Event::SequenceStart(..) => {
                let end = value_path(&mut stack, &mut path);
                if end.is_some() {
                    visited = visit(&path, start(span));
                }
                if is_start {
                    stack.push(match event {
                        Event::MappingStart(..) => Frame::Mapping { end, key: None },
                        _ => Frame::Sequence { end, next: 0 },
                    });
                } else {
                    finish_value(&mut stack);
                }
            }
            _ => {}
        }
        if let ControlFlow::Break(found) = visited {
            return Some(found);
        }
    }
    None
}

fn expects_key(stack: &[Frame]) -> bool {
    matches!(stack.last(), Some(Frame::Mapping { key: None, .. }))
}

/// Sets `path` to the path of the value about to start, advancing a sequence's index; where
/// that path ends, or `None` when the value has no path.
fn value_path(stack: &mut [Frame], path: &mut String) -> Option<usize> {
    match stack.last_mut() {
        None => {
            path.clear();
            Some(0)
        }
        Some(Frame::Mapping { key, .. }) => {
            let end = (*key).filter(|end| *end != usize::MAX)?;
            path.truncate(end);
            Some(end)
        }
        Some(Frame::Sequence { end, next }) => {
            *next += 1;
            let end = (*end)?;
            path.truncate(end);
            // Writing into a String cannot fail.
            let _ = write!(path, "[{}]", *next - 1);
            Some(path.len())
        }
    }
}

/// After a value completes, its mapping waits for the next key.
fn finish_value(stack: &mut [Frame]) {
    if let Some(Frame::Mapping { key, .. }) = stack.last_mut() {
        *key = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_keys_and_items() {
        let text = "version: 1\ncontrollers:\n  - id: a\n    type: simulated\n  - id: b\n    adress: x\n";
        let doc = Document::parse(Path::new("c.yaml"), text).unwrap();
        let at = |p: &str| {
            let l = doc.locate(p);
            (l.line, l.column)
        };
        assert_eq!(at("version"), (1, 1));
        assert_eq!(at("controllers[1]"), (5, 5));
        assert_eq!(at("controllers[1].adress"), (6, 5));
        assert_eq!(at("controllers[1].missing"), (6, 5).min(at("controllers[1]")));
        assert_eq!(at("nothing.here"), (1, 1));
    }

    #[test]
    fn a_walk_to_one_path_finds_what_the_index_finds() {
        let text = "version: 1\ncontrollers:\n  - id: a\n    type: simulated\n  - {id: b, adress: x, list: [1, {c: 2}]}\nunits:\n  - id: u\n    miners: [m0, m1]\n    safety:\n      max_chip_temperature: 85\n";
        let index = index_positions(text);
        let mut paths: Vec<String> = index.keys().cloned().collect();
        for missing in
            ["controllers[1].nope", "controllers[9]", "units[0].safety.x.y", "nothing", "controllers[1].list[10]"]
        {
            paths.push(missing.to_string());
        }
        for path in &paths {
            assert_eq!(search(text, path), nearest(&index, path), "{path}");
        }
        // Past the first few problems the document is indexed, with the same answers.
        let doc = Document::parse(Path::new("c.yaml"), text).unwrap();
        for path in paths.iter().chain(&paths) {
            let location = doc.locate(path);
            assert_eq!((location.line, location.column), nearest(&index, path), "{path}");
        }
        assert!(doc.positions.get().is_some(), "indexed after {SEARCHED_BEFORE_INDEXING} searches");
    }

    #[test]
    fn flow_style_is_indexed() {
        let doc = Document::parse(Path::new("c.yaml"), "a: {b: [1, {c: 2}]}\n").unwrap();
        let l = doc.locate("a.b[1].c");
        assert_eq!((l.line, l.column), (1, 13));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = Document::parse(Path::new("c.yaml"), "a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.location.line >= 1);
        assert!(err.message.contains("invalid YAML"));
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent_path("a.b[2].c"), Some("a.b[2]"));
        assert_eq!(parent_path("a.b[2]"), Some("a.b"));
        assert_eq!(parent_path("a"), Some(""));
        assert_eq!(parent_path(""), None);
    }
}
