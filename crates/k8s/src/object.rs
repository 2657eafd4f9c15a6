//! Turns one parsed document into a typed object of a kind meshlens reads, a list of further documents, or an
//! unknown kind to skip.

use serde_json::Value;

pub use super::kinds::{Kind, Object};

impl Object {
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
    map.insert("apiVersion".into(), Value::String(known.api_version().into()));
    let label = object_label(known, map);
    let mut object =
        Object::from_value(known, &value).map_err(|message| DecodeError::Invalid { object: label.clone(), message })?;
    let meta = object.metadata_mut();
    if meta.name.as_deref().unwrap_or_default().is_empty() {
        return Err(DecodeError::Unnamed { object: label });
    }
    if let Some(i) =
        meta.owner_references.iter().flatten().position(|r| r.kind.as_str().is_empty() || r.name.is_empty())
    {
        let message = format!("metadata.ownerReferences[{i}] needs a kind and a name");
        return Err(DecodeError::Invalid { object: label, message });
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
    for item in &mut items {
        give_item_type(item, list_kind, api_version);
    }
    items
}

/// Gives an item of a typed list (`PodList`) the `apiVersion` and `kind` the API server leaves out.
pub(crate) fn give_item_type(item: &mut Value, list_kind: &str, api_version: &str) {
    let item_kind = list_kind.strip_suffix("List").filter(|k| !k.is_empty());
    if let (Some(map), Some(item_kind)) = (item.as_object_mut(), item_kind) {
        map.entry("kind").or_insert_with(|| Value::String(item_kind.into()));
        map.entry("apiVersion").or_insert_with(|| Value::String(api_version.into()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn old_api_versions_are_read_as_the_current_one() {
        let rs = json!({"apiVersion": "extensions/v1beta1", "kind": "ReplicaSet",
            "metadata": {"name": "web-abc", "namespace": "shop"}, "spec": {"replicas": 2}});
        let Decoded::Object(Object::ReplicaSet(rs)) = decode(rs).unwrap() else { panic!("not a ReplicaSet") };
        assert_eq!(rs.spec.as_ref().unwrap().replicas, Some(2));
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
        let bad = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": "three"}});
        let err = decode(bad).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("ReplicaSet shop/web: spec.replicas: invalid type"), "{text}");
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
        let nameless_owner = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "uid": "1"}, {"kind": "Deployment", "uid": "2"}]}});
        let err = decode(nameless_owner).unwrap_err().to_string();
        assert!(err.contains("ownerReferences[1] needs a kind and a name"), "{err}");
    }
}
