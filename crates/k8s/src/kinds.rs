//! The one table of the kinds meshlens reads. Each row names a kind, the typed form it is decoded into (only the
//! fields meshlens reads), its API resource, its scope and the apiVersions it is accepted under (the first is the
//! one it is stored as). Everything that is the same for every kind — the [`Kind`] enum, recognising
//! `apiVersion`/`kind`, decoding, one typed list per kind in the inventory, typed lookups — is generated from the
//! table, so adding a kind is one row, and a kind cannot be forgotten in one place and handled in another.

use std::sync::Arc;

use serde_json::Value;

use super::meta::ObjectMeta;
use super::{apps, argo, batch, core, flagger, gateway, istio};

/// A typed kind of the table: its place in it and its metadata.
pub trait Resource: Sized {
    const KIND: Kind;
    fn metadata(&self) -> &ObjectMeta;
    /// The stored objects of this kind.
    fn list(lists: &Lists) -> &[Arc<Self>];
}

/// Whether objects of a kind live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

macro_rules! kinds {
    ($(
        $(#[doc = $doc:literal])*
        $kind:ident($ty:ty), $plural:literal, $scope:ident, [$($api_version:literal),+ $(,)?];
    )+) => {
        /// The kinds meshlens reads. Ordered by name, as listings sort kinds.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Kind {
            $($(#[doc = $doc])* $kind,)+
        }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$kind),+];

            /// The kind's name as `kind:` spells it.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$kind => stringify!($kind),)+ }
            }

            /// The apiVersions this kind is read under; objects are stored as the first (older served versions
            /// carry the fields meshlens reads unchanged).
            pub fn api_versions(self) -> &'static [&'static str] {
                match self { $(Kind::$kind => &[$($api_version),+],)+ }
            }

            /// The API resource (plural) RBAC rules and URLs name.
            pub fn resource(self) -> &'static str {
                match self { $(Kind::$kind => $plural,)+ }
            }

            pub fn scope(self) -> Scope {
                match self { $(Kind::$kind => Scope::$scope,)+ }
            }
        }

        /// A typed object of one of the kinds meshlens reads, shared: a live cluster's worlds hold the same
        /// objects, each new world a copy of pointers, not of objects.
        #[derive(Debug, Clone)]
        pub enum Object {
            $($kind(Arc<$ty>),)+
        }

        impl Object {
            pub fn kind(&self) -> Kind {
                match self { $(Object::$kind(_) => Kind::$kind,)+ }
            }

            pub fn metadata(&self) -> &ObjectMeta {
                match self { $(Object::$kind(o) => &o.metadata,)+ }
            }

            /// The metadata to change, copying the object first if it is shared.
            pub(super) fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self { $(Object::$kind(o) => &mut Arc::make_mut(o).metadata,)+ }
            }

            /// The object as a manifest of the apiVersion it is stored as, holding what meshlens keeps of it (the
            /// fields it reads) and nothing else: what a capture writes.
            pub fn to_manifest(&self) -> Result<Value, serde_json::Error> {
                let mut value = match self { $(Object::$kind(o) => serde_json::to_value(&**o)?,)+ };
                drop_nulls(&mut value);
                if let Value::Object(map) = &mut value {
                    map.insert("apiVersion".into(), Value::String(self.kind().api_version().into()));
                    map.insert("kind".into(), Value::String(self.kind().as_str().into()));
                }
                Ok(value)
            }

            /// Decodes `value` as a `kind`; the error names the offending field.
            pub(super) fn from_value(kind: Kind, value: &Value) -> Result<Object, String> {
                Ok(match kind { $(Kind::$kind => Object::$kind(Arc::new(typed(value)?)),)+ })
            }
        }

        /// One list of typed objects per kind.
        #[allow(non_snake_case)]
        #[derive(Debug, Clone, Default)]
        pub struct Lists {
            $($kind: Vec<Arc<$ty>>,)+
        }

        impl Lists {
            /// Stores `object` at the end of its kind's list and says where.
            pub fn push(&mut self, object: Object) -> usize {
                match object {
                    $(Object::$kind(o) => { self.$kind.push(o); self.$kind.len() - 1 })+
                }
            }

            /// Puts `object` in place of the one at `index` of its kind's list.
            pub fn replace(&mut self, index: usize, object: Object) {
                match object { $(Object::$kind(o) => if let Some(slot) = self.$kind.get_mut(index) { *slot = o },)+ }
            }

            pub fn len(&self, kind: Kind) -> usize {
                match kind { $(Kind::$kind => self.$kind.len(),)+ }
            }

            pub fn meta(&self, kind: Kind, index: usize) -> Option<&ObjectMeta> {
                match kind { $(Kind::$kind => self.$kind.get(index).map(|o| &o.metadata),)+ }
            }
        }

        $(impl Resource for $ty {
            const KIND: Kind = Kind::$kind;

            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }

            fn list(lists: &Lists) -> &[Arc<Self>] {
                &lists.$kind
            }
        })+
    };
}

kinds! {
    Namespace(core::Namespace), "namespaces", Cluster, ["v1"];
    Pod(core::Pod), "pods", Namespaced, ["v1"];
    ReplicaSet(apps::ReplicaSet), "replicasets", Namespaced, ["apps/v1", "apps/v1beta2", "extensions/v1beta1"];
    Deployment(apps::Deployment), "deployments", Namespaced,
        ["apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"];
    StatefulSet(apps::StatefulSet), "statefulsets", Namespaced, ["apps/v1", "apps/v1beta1", "apps/v1beta2"];
    DaemonSet(apps::DaemonSet), "daemonsets", Namespaced, ["apps/v1", "apps/v1beta2", "extensions/v1beta1"];
    Job(batch::Job), "jobs", Namespaced, ["batch/v1"];
    CronJob(batch::CronJob), "cronjobs", Namespaced, ["batch/v1", "batch/v1beta1"];
    ReplicationController(core::ReplicationController), "replicationcontrollers", Namespaced, ["v1"];
    Service(core::Service), "services", Namespaced, ["v1"];
    Rollout(argo::Rollout), "rollouts", Namespaced, ["argoproj.io/v1alpha1"];
    Experiment(argo::Experiment), "experiments", Namespaced, ["argoproj.io/v1alpha1"];
    AnalysisRun(argo::AnalysisRun), "analysisruns", Namespaced, ["argoproj.io/v1alpha1"];
    Canary(flagger::Canary), "canaries", Namespaced, ["flagger.app/v1beta1"];
    VirtualService(istio::VirtualService), "virtualservices", Namespaced,
        ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"];
    DestinationRule(istio::DestinationRule), "destinationrules", Namespaced,
        ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"];
    Gateway(gateway::Gateway), "gateways", Namespaced,
        ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"];
    HTTPRoute(gateway::HttpRoute), "httproutes", Namespaced,
        ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"];
    GRPCRoute(gateway::GrpcRoute), "grpcroutes", Namespaced,
        ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2"];
    TCPRoute(gateway::TcpRoute), "tcproutes", Namespaced, ["gateway.networking.k8s.io/v1alpha2"];
    TLSRoute(gateway::TlsRoute), "tlsroutes", Namespaced,
        ["gateway.networking.k8s.io/v1alpha2", "gateway.networking.k8s.io/v1alpha3", "gateway.networking.k8s.io/v1"];
    ReferenceGrant(gateway::ReferenceGrant), "referencegrants", Namespaced,
        ["gateway.networking.k8s.io/v1beta1", "gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2"];
}

impl Kind {
    /// The apiVersion meshlens stores objects of this kind under.
    pub fn api_version(self) -> &'static str {
        self.api_versions().first().copied().unwrap_or_default()
    }

    /// The API group (`""` for the core group).
    pub fn group(self) -> &'static str {
        self.api_version().rsplit_once('/').map_or("", |(group, _)| group)
    }

    pub fn is_namespaced(self) -> bool {
        self.scope() == Scope::Namespaced
    }

    /// Recognises `(apiVersion, kind)` pairs, including the older API versions clusters and manifests still use.
    pub fn recognise(api_version: &str, kind: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == kind && k.api_versions().contains(&api_version))
    }
}

impl Kind {
    /// The table's kind spelled `name`, whatever its apiVersion.
    pub fn named(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

/// A kind as owner references, references between objects, telemetry and findings name it: one of the table's,
/// OpenShift's DeploymentConfig (a controller Istio's naming knows, whose objects meshlens does not read), or any
/// other kind, kept by its name. Ordered by name, as a listing sorts kinds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KindName {
    Known(Kind),
    DeploymentConfig,
    Other(String),
}

impl KindName {
    pub fn from_name(name: &str) -> KindName {
        match Kind::named(name) {
            Some(kind) => KindName::Known(kind),
            None if name == KindName::DEPLOYMENT_CONFIG => KindName::DeploymentConfig,
            None => KindName::Other(name.to_owned()),
        }
    }

    const DEPLOYMENT_CONFIG: &str = "DeploymentConfig";

    pub fn as_str(&self) -> &str {
        match self {
            KindName::Known(kind) => kind.as_str(),
            KindName::DeploymentConfig => KindName::DEPLOYMENT_CONFIG,
            KindName::Other(name) => name,
        }
    }

    /// The table's kind, if it is one.
    pub fn known(&self) -> Option<Kind> {
        match self {
            KindName::Known(kind) => Some(*kind),
            _ => None,
        }
    }

    /// The apiVersion objects of this kind are written under, when meshlens knows it.
    pub fn api_version(&self) -> Option<&'static str> {
        match self {
            KindName::Known(kind) => Some(kind.api_version()),
            KindName::DeploymentConfig => Some("apps.openshift.io/v1"),
            KindName::Other(_) => None,
        }
    }
}

impl Default for KindName {
    fn default() -> KindName {
        KindName::Other(String::new())
    }
}

impl From<Kind> for KindName {
    fn from(kind: Kind) -> KindName {
        KindName::Known(kind)
    }
}

impl PartialEq<Kind> for KindName {
    fn eq(&self, kind: &Kind) -> bool {
        *self == KindName::Known(*kind)
    }
}

crate::written_as_text!(Kind, ordered);
crate::written_as_text!(KindName, ordered);

impl<'de> serde::Deserialize<'de> for KindName {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<KindName, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(de)?;
        Ok(KindName::from_name(&name))
    }
}

/// Leaves out unset fields (`null`) and empty lists at any depth, as manifests do.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Deserialises; on failure, again with path tracking, so the message names the offending field
/// (`spec.replicas: invalid type ...`) without slowing down the documents that are fine.
fn typed<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, String> {
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

    #[test]
    fn every_kind_is_recognised_under_each_of_its_api_versions_and_no_other() {
        for &kind in Kind::ALL {
            for version in kind.api_versions() {
                assert_eq!(Kind::recognise(version, kind.as_str()), Some(kind), "{version} {kind}");
            }
            assert_eq!(Kind::recognise("example.com/v1", kind.as_str()), None);
        }
        assert_eq!(Kind::recognise("v1", "ConfigMap"), None);
        assert_eq!(Kind::group(Kind::Pod), "");
        assert_eq!(Kind::group(Kind::Rollout), "argoproj.io");
    }

    #[test]
    fn kind_names_are_the_table_s_kinds_or_kept_by_name() {
        for &kind in Kind::ALL {
            assert_eq!(KindName::from_name(kind.as_str()), kind);
        }
        let config = KindName::from_name("DeploymentConfig");
        assert_eq!((config.as_str(), config.api_version()), ("DeploymentConfig", Some("apps.openshift.io/v1")));
        let custom = KindName::from_name("CloneSet");
        assert_eq!((custom.as_str(), custom.known(), custom.api_version()), ("CloneSet", None, None));
        let json: KindName = serde_json::from_str("\"Rollout\"").unwrap();
        assert_eq!(
            (json.clone(), serde_json::to_string(&json).unwrap()),
            (KindName::Known(Kind::Rollout), "\"Rollout\"".into())
        );
        assert!(KindName::from_name("Deployment") < KindName::from_name("Rollout"));
    }
}
