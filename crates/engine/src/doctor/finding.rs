//! What the doctor reports: one finding per problem, in a stable JSON shape (`code`, `severity`, `summary`,
//! `objects`, `evidence`, `advice`) that scripts can match on by `code`.

use std::collections::BTreeMap;

use meshlens_k8s::{Kind, KindName};
use serde::Serialize;
use serde_json::Value;

use super::code::{FindingCode, Severity};
use crate::graph::Node;

/// An object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub kind: RefKind,
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: impl Into<RefKind>, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef { kind: kind.into(), namespace: namespace.to_owned(), name: name.to_owned() }
    }

    /// A workload node of the graph: its controller's kind, or `Workload` when no object is known for it.
    pub fn workload_node(node: &Node) -> ObjectRef {
        let kind = node.workload_kind.clone().map_or(RefKind::Workload, RefKind::Object);
        ObjectRef::new(kind, &node.namespace, &node.name)
    }
}

/// What a finding's object is: an object of a kind, a workload known only from telemetry, or a name telemetry
/// carries that no object answers to. Ordered by name, as findings list their objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefKind {
    Object(KindName),
    Workload,
    TelemetryName,
}

impl RefKind {
    pub fn as_str(&self) -> &str {
        match self {
            RefKind::Object(kind) => kind.as_str(),
            RefKind::Workload => "Workload",
            RefKind::TelemetryName => "TelemetryName",
        }
    }
}

meshlens_k8s::written_as_text!(RefKind, ordered);

impl From<Kind> for RefKind {
    fn from(kind: Kind) -> RefKind {
        RefKind::Object(kind.into())
    }
}

impl From<KindName> for RefKind {
    fn from(kind: KindName) -> RefKind {
        RefKind::Object(kind)
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: FindingCode,
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
    /// A finding of `code`, with the code's severity and, where it has one, its advice.
    pub fn new(code: FindingCode, summary: String) -> Finding {
        let advice = code.advice().unwrap_or_default().to_owned();
        Finding { code, severity: code.severity(), summary, objects: Vec::new(), evidence: BTreeMap::new(), advice }
    }

    /// The severity of this case, where the code's own does not fit it.
    pub fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
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
