//! Kubernetes objects as meshlens reads them: the typed kinds, and turning manifest files into them.

pub mod argo;
pub mod document;
pub mod flagger;
pub mod istio;
pub mod live;
pub mod load;
pub mod object;
pub mod status;

pub use object::{Kind, Object};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::BTreeMap;

/// RFC 1123 label: what Kubernetes accepts as a namespace name.
pub fn is_namespace_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

static EMPTY_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// Label and owner accessors shared by every kind.
pub trait MetaExt {
    fn labels(&self) -> &BTreeMap<String, String>;
    fn annotation(&self, key: &str) -> Option<&str>;
    /// The owner reference with `controller: true`, the one Kubernetes (and Istio) treat as the owner.
    fn controller(&self) -> Option<&OwnerReference>;
    fn name_str(&self) -> &str;
    fn namespace_str(&self) -> &str;
}

impl MetaExt for ObjectMeta {
    fn labels(&self) -> &BTreeMap<String, String> {
        self.labels.as_ref().unwrap_or(&EMPTY_LABELS)
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }

    fn controller(&self) -> Option<&OwnerReference> {
        self.owner_references.as_ref()?.iter().find(|r| r.controller == Some(true))
    }

    fn name_str(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    fn namespace_str(&self) -> &str {
        self.namespace.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kubernetes_namespace_names_pass() {
        for ok in ["bookinfo", "a", "team-1", "x9"] {
            assert!(is_namespace_name(ok), "{ok}");
        }
        for bad in ["", "Book", "a\"b", "a}b", "a.*", "a|b", "-a", "a-", "a b", &"x".repeat(64)] {
            assert!(!is_namespace_name(bad), "{bad}");
        }
    }
}
