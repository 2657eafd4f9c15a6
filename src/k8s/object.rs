//! Turns one parsed document into a typed object of a kind meshlens reads, a list of further documents, or an
//! unknown kind to skip.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Namespace, Pod, ReplicationController, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::argo::{AnalysisRun, Experiment, Rollout};
use super::flagger::Canary;
use super::istio::{DestinationRule, VirtualService};

/// The kinds meshlens reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    Pod,
    ReplicaSet,
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    ReplicationController,
    Service,
    Rollout,
    Experiment,
    AnalysisRun,
    Canary,
    VirtualService,
    DestinationRule,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Namespace,
        Kind::Pod,
        Kind::ReplicaSet,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::Job,
        Kind::CronJob,
        Kind::ReplicationController,
        Kind::Service,
        Kind::Rollout,
        Kind::Experiment,
        Kind::AnalysisRun,
        Kind::Canary,
        Kind::VirtualService,
        Kind::DestinationRule,
    ];

    /// The kind's name as `kind:` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Pod => "Pod",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
            Kind::ReplicationController => "ReplicationController",
            Kind::Service => "Service",
            Kind::Rollout => "Rollout",
            Kind::Experiment => "Experiment",
            Kind::AnalysisRun => "AnalysisRun",
            Kind::Canary => "Canary",
            Kind::VirtualService => "VirtualService",
            Kind::DestinationRule => "DestinationRule",
        }
    }

    /// The apiVersion meshlens stores objects of this kind under (older served versions are read as this one).
    pub fn api_version(self) -> &'static str {
        match self {
            Kind::Namespace | Kind::Pod | Kind::ReplicationController | Kind::Service => "v1",
            Kind::ReplicaSet | Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => "apps/v1",
            Kind::Job | Kind::CronJob => "batch/v1",
            Kind::Rollout | Kind::Experiment | Kind::AnalysisRun => "argoproj.io/v1alpha1",
            Kind::Canary => "flagger.app/v1beta1",
            Kind::VirtualService | Kind::DestinationRule => "networking.istio.io/v1",
        }
    }

    /// Recognises `(apiVersion, kind)` pairs, including the older API versions clusters and manifests still use.
    pub fn recognise(api_version: &str, kind: &str) -> Option<Kind> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let known = |versions: &[&str]| versions.contains(&version);
        let k = match (group, kind) {
            ("", "Namespace") if known(&["v1"]) => Kind::Namespace,
            ("", "Pod") if known(&["v1"]) => Kind::Pod,
            ("", "ReplicationController") if known(&["v1"]) => Kind::ReplicationController,
            ("", "Service") if known(&["v1"]) => Kind::Service,
            ("apps" | "extensions", "ReplicaSet" | "Deployment" | "DaemonSet")
                if known(&["v1", "v1beta1", "v1beta2"]) =>
            {
                match kind {
                    "ReplicaSet" => Kind::ReplicaSet,
                    "Deployment" => Kind::Deployment,
                    _ => Kind::DaemonSet,
                }
            }
            ("apps", "StatefulSet") if known(&["v1", "v1beta1", "v1beta2"]) => Kind::StatefulSet,
            ("batch", "Job") if known(&["v1"]) => Kind::Job,
            ("batch", "CronJob") if known(&["v1", "v1beta1"]) => Kind::CronJob,
            ("argoproj.io", "Rollout") if known(&["v1alpha1"]) => Kind::Rollout,
            ("argoproj.io", "Experiment") if known(&["v1alpha1"]) => Kind::Experiment,
            ("argoproj.io", "AnalysisRun") if known(&["v1alpha1"]) => Kind::AnalysisRun,
            ("flagger.app", "Canary") if known(&["v1beta1"]) => Kind::Canary,
            ("networking.istio.io", "VirtualService") if known(&["v1", "v1beta1", "v1alpha3"]) => Kind::VirtualService,
            ("networking.istio.io", "DestinationRule") if known(&["v1", "v1beta1", "v1alpha3"]) => {
                Kind::DestinationRule
            }
            _ => return None,
        };
        Some(k)
    }

    /// The API group (`""` for the core group).
    pub fn group(self) -> &'static str {
        self.api_version().rsplit_once('/').map_or("", |(group, _)| group)
    }

    /// The API resource (plural) RBAC rules and URLs name.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Pod => "pods",
            Kind::ReplicaSet => "replicasets",
            Kind::Deployment => "deployments",
            Kind::StatefulSet => "statefulsets",
            Kind::DaemonSet => "daemonsets",
            Kind::Job => "jobs",
            Kind::CronJob => "cronjobs",
            Kind::ReplicationController => "replicationcontrollers",
            Kind::Service => "services",
            Kind::Rollout => "rollouts",
            Kind::Experiment => "experiments",
            Kind::AnalysisRun => "analysisruns",
            Kind::Canary => "canaries",
            Kind::VirtualService => "virtualservices",
            Kind::DestinationRule => "destinationrules",
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn is_namespaced(self) -> bool {
        self != Kind::Namespace
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed object of one of the kinds meshlens reads.
// Variants differ in size, but objects move straight into the inventory's typed lists; boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Object {
    Namespace(Namespace),
    Pod(Pod),
    ReplicaSet(ReplicaSet),
    Deployment(Deployment),
    StatefulSet(StatefulSet),
    DaemonSet(DaemonSet),
    Job(Job),
    CronJob(CronJob),
    ReplicationController(ReplicationController),
    Service(Service),
    Rollout(Rollout),
    Experiment(Experiment),
    AnalysisRun(AnalysisRun),
    Canary(Canary),
    VirtualService(VirtualService),
    DestinationRule(DestinationRule),
}

impl Object {
    pub fn kind(&self) -> Kind {
        match self {
            Object::Namespace(_) => Kind::Namespace,
            Object::Pod(_) => Kind::Pod,
            Object::ReplicaSet(_) => Kind::ReplicaSet,
            Object::Deployment(_) => Kind::Deployment,
            Object::StatefulSet(_) => Kind::StatefulSet,
            Object::DaemonSet(_) => Kind::DaemonSet,
            Object::Job(_) => Kind::Job,
            Object::CronJob(_) => Kind::CronJob,
            Object::ReplicationController(_) => Kind::ReplicationController,
            Object::Service(_) => Kind::Service,
            Object::Rollout(_) => Kind::Rollout,
            Object::Experiment(_) => Kind::Experiment,
            Object::AnalysisRun(_) => Kind::AnalysisRun,
            Object::Canary(_) => Kind::Canary,
            Object::VirtualService(_) => Kind::VirtualService,
            Object::DestinationRule(_) => Kind::DestinationRule,
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Object::Namespace(o) => &o.metadata,
            Object::Pod(o) => &o.metadata,
            Object::ReplicaSet(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::StatefulSet(o) => &o.metadata,
            Object::DaemonSet(o) => &o.metadata,
            Object::Job(o) => &o.metadata,
            Object::CronJob(o) => &o.metadata,
            Object::ReplicationController(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Rollout(o) => &o.metadata,
            Object::Experiment(o) => &o.metadata,
            Object::AnalysisRun(o) => &o.metadata,
            Object::Canary(o) => &o.metadata,
            Object::VirtualService(o) => &o.metadata,
            Object::DestinationRule(o) => &o.metadata,
        }
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::Namespace(o) => &mut o.metadata,
            Object::Pod(o) => &mut o.metadata,
            Object::ReplicaSet(o) => &mut o.metadata,
            Object::Deployment(o) => &mut o.metadata,
            Object::StatefulSet(o) => &mut o.metadata,
            Object::DaemonSet(o) => &mut o.metadata,
            Object::Job(o) => &mut o.metadata,
            Object::CronJob(o) => &mut o.metadata,
            Object::ReplicationController(o) => &mut o.metadata,
            Object::Service(o) => &mut o.metadata,
            Object::Rollout(o) => &mut o.metadata,
            Object::Experiment(o) => &mut o.metadata,
            Object::AnalysisRun(o) => &mut o.metadata,
            Object::Canary(o) => &mut o.metadata,
            Object::VirtualService(o) => &mut o.metadata,
            Object::DestinationRule(o) => &mut o.metadata,
        }
    }

    /// `Kind namespace/name`, the way messages name an object.
    pub fn describe(&self) -> String {
        let meta = self.metadata();
        let name = meta.name.as_deref().unwrap_or("<unnamed>");
        match &meta.namespace {
            Some(ns) => format!("{} {ns}/{name}", self.kind()),
            None => format!("{} {name}", self.kind()),
        }
    }
}

/// What one document holds.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Decoded {
    Object(Object),
    /// A `kind: List` (or `PodList`, ...): its items are documents of their own.
    List(Vec<Value>),
    /// A kind meshlens does not read, named `apiVersion/kind`.
    Unknown(String),
}

/// Why a document could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a Kubernetes object (expected a mapping with apiVersion and kind)")]
    NotAnObject,
    #[error("{field} is missing or not a string")]
    MissingField { field: &'static str },
    #[error("{object}: metadata.name is missing")]
    Unnamed { object: String },
    #[error("{object}: {message}")]
    Invalid { object: String, message: String },
}

/// Decodes one document. Namespaced objects without a namespace land in `default`, as `kubectl apply` would put them.
pub fn decode(mut value: Value) -> Result<Decoded, DecodeError> {
    let map = value.as_object_mut().ok_or(DecodeError::NotAnObject)?;
    let kind = string_field(map, "kind")?;
    let api_version = string_field(map, "apiVersion")?;
    if let Some(items) = list_items(map, &kind) {
        return Ok(Decoded::List(with_item_type(items, &kind, &api_version)));
    }
    let Some(known) = Kind::recognise(&api_version, &kind) else {
        return Ok(Decoded::Unknown(format!("{api_version}/{kind}")));
    };
    // Older API versions (extensions/v1beta1, batch/v1beta1, ...) carry the fields meshlens reads unchanged.
    map.insert("apiVersion".into(), Value::String(known.api_version().into()));
    let label = object_label(known, map);
    let mut object = typed(known, &value).map_err(|message| DecodeError::Invalid { object: label.clone(), message })?;
    let meta = object.metadata_mut();
    if meta.name.as_deref().unwrap_or_default().is_empty() {
        return Err(DecodeError::Unnamed { object: label });
    }
    if known.is_namespaced() && meta.namespace.as_deref().unwrap_or_default().is_empty() {
        meta.namespace = Some("default".into());
    }
    Ok(Decoded::Object(object))
}

fn string_field(map: &serde_json::Map<String, Value>, field: &'static str) -> Result<String, DecodeError> {
    match map.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(DecodeError::MissingField { field }),
    }
}

fn list_items(map: &mut serde_json::Map<String, Value>, kind: &str) -> Option<Vec<Value>> {
    if !kind.ends_with("List") {
        return None;
    }
    match map.remove("items") {
        Some(Value::Array(items)) => Some(items),
        Some(Value::Null) | None => Some(Vec::new()),
        Some(other) => {
            map.insert("items".into(), other);
            None
        }
    }
}

/// The API server leaves `apiVersion` and `kind` out of the items of typed lists (`PodList`); restore them.
fn with_item_type(mut items: Vec<Value>, list_kind: &str, api_version: &str) -> Vec<Value> {
    let item_kind = list_kind.strip_suffix("List").filter(|k| !k.is_empty());
    for item in &mut items {
        if let (Some(map), Some(item_kind)) = (item.as_object_mut(), item_kind) {
            map.entry("kind").or_insert_with(|| Value::String(item_kind.into()));
            map.entry("apiVersion").or_insert_with(|| Value::String(api_version.into()));
        }
    }
    items
}

fn object_label(kind: Kind, map: &serde_json::Map<String, Value>) -> String {
    let meta = map.get("metadata");
    let field = |f: &str| meta.and_then(|m| m.get(f)).and_then(Value::as_str);
    match (field("namespace"), field("name")) {
        (Some(ns), Some(name)) => format!("{kind} {ns}/{name}"),
        (None, Some(name)) => format!("{kind} {name}"),
        _ => kind.to_string(),
    }
}

fn typed(kind: Kind, value: &Value) -> Result<Object, String> {
    Ok(match kind {
        Kind::Namespace => Object::Namespace(from_value(value)?),
        Kind::Pod => Object::Pod(from_value(value)?),
        Kind::ReplicaSet => Object::ReplicaSet(from_value(value)?),
        Kind::Deployment => Object::Deployment(from_value(value)?),
        Kind::StatefulSet => Object::StatefulSet(from_value(value)?),
        Kind::DaemonSet => Object::DaemonSet(from_value(value)?),
        Kind::Job => Object::Job(from_value(value)?),
        Kind::CronJob => Object::CronJob(from_value(value)?),
        Kind::ReplicationController => Object::ReplicationController(from_value(value)?),
        Kind::Service => Object::Service(from_value(value)?),
        Kind::Rollout => Object::Rollout(from_value(value)?),
        Kind::Experiment => Object::Experiment(from_value(value)?),
        Kind::AnalysisRun => Object::AnalysisRun(from_value(value)?),
        Kind::Canary => Object::Canary(from_value(value)?),
        Kind::VirtualService => Object::VirtualService(from_value(value)?),
        Kind::DestinationRule => Object::DestinationRule(from_value(value)?),
    })
}

/// Deserialises; on failure, again with path tracking, so the message names the offending field
/// (`spec.replicas: invalid type ...`) without slowing down the documents that are fine.
fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    T::deserialize(value).or_else(|_| {
        serde_path_to_error::deserialize(value).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if path == "." { inner.to_string() } else { format!("{path}: {inner}") }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn old_api_versions_are_read_as_the_current_one() {
        let rs = json!({"apiVersion": "extensions/v1beta1", "kind": "ReplicaSet",
            "metadata": {"name": "web-abc", "namespace": "shop"}, "spec": {"replicas": 2}});
        let Decoded::Object(Object::ReplicaSet(rs)) = decode(rs).unwrap() else { panic!("not a ReplicaSet") };
        assert_eq!(rs.spec.unwrap().replicas, Some(2));
    }

    #[test]
    fn namespaced_objects_without_namespace_land_in_default() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}});
        let Decoded::Object(obj) = decode(svc).unwrap() else { panic!() };
        assert_eq!(obj.metadata().namespace.as_deref(), Some("default"));
        assert_eq!(obj.describe(), "Service default/web");
    }

    #[test]
    fn wrong_field_types_name_the_object_and_the_field() {
        let bad = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": "three"}});
        let err = decode(bad).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("Deployment shop/web: spec.replicas: invalid type"), "{text}");
    }

    #[test]
    fn unknown_kinds_and_lists_are_told_apart() {
        let gw = json!({"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "gw"}});
        assert!(matches!(decode(gw).unwrap(), Decoded::Unknown(k) if k == "networking.istio.io/v1/Gateway"));
        let list = json!({"apiVersion": "v1", "kind": "PodList", "items": [{"metadata": {"name": "p"}}]});
        let Decoded::List(items) = decode(list).unwrap() else { panic!() };
        assert_eq!(items[0]["kind"], "Pod");
        assert_eq!(items[0]["apiVersion"], "v1");
    }

    #[test]
    fn documents_without_kind_or_name_are_errors() {
        assert_eq!(decode(json!({"apiVersion": "v1"})).unwrap_err(), DecodeError::MissingField { field: "kind" });
        assert_eq!(decode(json!([1, 2])).unwrap_err(), DecodeError::NotAnObject);
        let unnamed = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}});
        assert!(matches!(decode(unnamed).unwrap_err(), DecodeError::Unnamed { .. }));
    }
}
