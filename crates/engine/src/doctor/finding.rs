//! What the doctor reports: one finding per problem, in a stable JSON shape (`code`, `severity`, `summary`,
//! `objects`, `evidence`, `advice`) that scripts can match on by `code`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Requests fail or go where no object explains: `doctor` exits 1.
    Error,
    /// Traffic does not do what the objects ask for, or cannot be measured.
    Warning,
    /// Worth knowing, nothing is wrong.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// An object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef { kind: kind.to_owned(), namespace: namespace.to_owned(), name: name.to_owned() }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable, kebab-case: what kind of problem (see the README's table).
    pub code: &'static str,
    pub severity: Severity,
    /// One sentence with the figures that matter.
    pub summary: String,
    pub objects: Vec<ObjectRef>,
    /// Named figures and facts the finding rests on.
    pub evidence: BTreeMap<&'static str, Value>,
    /// What to do about it.
    pub advice: String,
}

impl Finding {
    pub fn new(code: &'static str, severity: Severity, summary: String) -> Finding {
        Finding { code, severity, summary, objects: Vec::new(), evidence: BTreeMap::new(), advice: String::new() }
    }

    pub fn about(mut self, object: ObjectRef) -> Finding {
        if !self.objects.contains(&object) {
            self.objects.push(object);
        }
        self
    }

    pub fn evidence(mut self, name: &'static str, value: impl Into<Value>) -> Finding {
        self.evidence.insert(name, value.into());
        self
    }

    pub fn advice(mut self, advice: impl Into<String>) -> Finding {
        self.advice = advice.into();
        self
    }
}
