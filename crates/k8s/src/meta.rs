//! Object metadata as meshlens keeps it: the identity, labels, annotations and owners every kind shares, and
//! nothing of what the API server adds for its own bookkeeping (`managedFields`, resource versions).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::KindName;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Istio names a workload from its pods' `generateName` (FACTS.md §1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Only the annotations meshlens reads ([`super::annotations`]); the others are dropped as they are read.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "read_annotations")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_references: Option<Vec<OwnerReference>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OwnerReference {
    pub api_version: String,
    pub kind: KindName,
    pub name: String,
    pub uid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
}

/// A field whose content meshlens does not read, only whether it is there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Present;

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(de).map(|_| Present)
    }
}

/// Written as an empty mapping: there was something, its content is not kept.
impl Serialize for Present {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::ser::SerializeMap::end(s.serialize_map(Some(0))?)
    }
}

fn read_annotations<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let all = Option::<BTreeMap<String, String>>::deserialize(de)?;
    Ok(all.map(|all| all.into_iter().filter(|(k, _)| super::annotations::is_read(k)).collect()))
}

static EMPTY_LABELS: BTreeMap<String, String> = BTreeMap::new();

impl ObjectMeta {
    pub fn labels(&self) -> &BTreeMap<String, String> {
        self.labels.as_ref().unwrap_or(&EMPTY_LABELS)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }

    /// The owner reference with `controller: true`, the one Kubernetes (and Istio) treat as the owner.
    pub fn controller(&self) -> Option<&OwnerReference> {
        self.owner_references.as_ref()?.iter().find(|r| r.controller == Some(true))
    }

    pub fn name_str(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    pub fn namespace_str(&self) -> &str {
        self.namespace.as_deref().unwrap_or_default()
    }
}
