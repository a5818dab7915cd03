//! Diagnostics: a problem in an input file, with the place it was found.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn new(file: &Path, line: usize, column: usize) -> Location {
        Location { file: file.to_path_buf(), line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem: where, which key path (`controllers[2].adress`, may be empty), and what.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Location,
    pub path: String,
    pub message: String,
}

impl Diagnostic {
    pub fn error(location: Location, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, location, path: path.to_string(), message: message.into() }
    }

    pub fn warning(location: Location, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, location, path: path.to_string(), message: message.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {level}: ", self.location)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.message)
    }
}

/// True when any diagnostic is an error (warnings alone do not fail validation).
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}
