//! Kubernetes Gateway API objects (gateway.networking.k8s.io) as meshlens reads them: Gateways, the four route
//! kinds and ReferenceGrants. Routes bound to a Gateway route ingress; routes bound to a Service (GAMMA) route
//! in-mesh calls to it, through sidecars or ambient waypoints. Only what decides where traffic goes is kept:
//! parents, matches, weighted backends, mirror filters, and the status conditions a controller wrote.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::kinds::Lists;
use super::meta::{ObjectMeta, Present};
use super::{Kind, KindName, Resource};

/// The Gateway API group.
pub const GROUP: &str = "gateway.networking.k8s.io";
/// The `gatewayClassName` of Istio's ambient waypoints.
pub const WAYPOINT_CLASS: &str = "istio-waypoint";
/// The pod label naming the Gateway a deployed gateway proxy serves.
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Gateway {
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "super::null_as_default")]
    pub spec: GatewaySpec,
    #[serde(deserialize_with = "super::null_as_default")]
    pub status: GatewayStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewaySpec {
    pub gateway_class_name: String,
    #[serde(deserialize_with = "super::null_as_default")]
    pub listeners: Vec<Listener>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Listener {
    pub name: String,
    pub hostname: Option<String>,
    pub port: i32,
    pub protocol: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayStatus {
    #[serde(deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
}

/// A `metav1.Condition`: what a controller says of an object (`Accepted`, `ResolvedRefs`, `Programmed`, ...).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(deserialize_with = "super::null_as_default")]
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

/// A route of any kind, as the model and the doctor look at it.
#[derive(Debug, Clone, Copy)]
pub struct RouteView<'c> {
    /// `HTTPRoute`, `GRPCRoute`, `TCPRoute` or `TLSRoute`.
    pub kind: Kind,
    pub metadata: &'c ObjectMeta,
    pub spec: &'c RouteSpec,
    pub status: &'c RouteStatus,
}

impl<'c> RouteView<'c> {
    pub fn namespace(&self) -> &'c str {
        self.metadata.namespace_str()
    }

    pub fn name(&self) -> &'c str {
        self.metadata.name_str()
    }

    /// Whether one of the route's parents is the Service `name` in `namespace`.
    pub fn attaches_to_service(&self, namespace: &str, name: &str) -> bool {
        self.service_parents().any(|p| p.namespace_or(self.namespace()) == namespace && p.name == name)
    }

    /// The route's parents that are Services (in-mesh routing).
    pub fn service_parents(&self) -> impl Iterator<Item = &'c ParentRef> + 'c {
        self.spec.parent_refs.iter().filter(|p| p.parent_kind() == ParentKind::Service)
    }

    /// Whether the controller said, for `parent`, that the route is not accepted.
    pub fn rejected_by(&self, parent: &ParentRef) -> bool {
        let namespace = self.namespace();
        self.status.parents.iter().any(|s| {
            s.parent_ref.name == parent.name
                && s.parent_ref.namespace_or(namespace) == parent.namespace_or(namespace)
                && s.conditions.iter().any(|c| c.type_ == "Accepted" && c.status == "False")
        })
    }
}

impl<K> Route<K>
where
    Route<K>: Resource,
{
    /// The route as a [`RouteView`], whatever its kind.
    pub fn view(&self) -> RouteView<'_> {
        RouteView { kind: Self::KIND, metadata: &self.metadata, spec: &self.spec, status: &self.status }
    }
}

/// A route of one of the four kinds; `K` only tells the kinds apart, their shape is shared.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default, bound = "")]
pub struct Route<K> {
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "super::null_as_default")]
    pub spec: RouteSpec,
    #[serde(deserialize_with = "super::null_as_default")]
    pub status: RouteStatus,
    #[serde(skip)]
    kind: PhantomData<K>,
}

impl<K> Default for Route<K> {
    fn default() -> Self {
        Route {
            metadata: ObjectMeta::default(),
            spec: RouteSpec::default(),
            status: RouteStatus::default(),
            kind: PhantomData,
        }
    }
}

/// The route kinds, one row each: the variant naming it, its marker type, its typed route and its row of the kind
/// table. A new route kind is a row here and a row there; everything that walks routes of every kind reads
/// [`RouteKind::ALL`].
macro_rules! route_kinds {
    ($($variant:ident: $marker:ident, $route:ident, $kind:ident;)+) => {
        /// A kind of Gateway API route.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RouteKind {
            $($variant,)+
        }

        impl RouteKind {
            /// Every route kind, in the order their routes are listed.
            pub const ALL: &'static [RouteKind] = &[$(RouteKind::$variant),+];

            pub fn kind(self) -> Kind {
                match self { $(RouteKind::$variant => Kind::$kind,)+ }
            }

            /// Every stored route of this kind, as views.
            pub fn views(self, lists: &Lists) -> Vec<RouteView<'_>> {
                match self { $(RouteKind::$variant => $route::list(lists).iter().map(|r| r.view()).collect(),)+ }
            }
        }

        $(
            #[doc = concat!("Marks a ", stringify!($kind), ".")]
            #[derive(Debug, Clone, Copy)]
            pub struct $marker;
            pub type $route = Route<$marker>;
        )+
    };
}

route_kinds! {
    Http: Http, HttpRoute, HTTPRoute;
    Grpc: Grpc, GrpcRoute, GRPCRoute;
    Tcp: Tcp, TcpRoute, TCPRoute;
    Tls: Tls, TlsRoute, TLSRoute;
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteSpec {
    #[serde(deserialize_with = "super::null_as_default")]
    pub parent_refs: Vec<ParentRef>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub hostnames: Vec<String>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub rules: Vec<RouteRule>,
}

/// What a route attaches to: a Gateway (the default kind) or, for in-mesh routing, a Service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ParentRef {
    pub group: Option<String>,
    pub kind: Option<KindName>,
    pub namespace: Option<String>,
    pub name: String,
    pub section_name: Option<String>,
    pub port: Option<i32>,
}

/// What a parent reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentKind {
    /// North-south: the Gateway's listeners.
    Gateway,
    /// East-west (GAMMA): calls to the Service, from sidecars or through its waypoint.
    Service,
    /// A parent meshlens does not model (a ServiceEntry, a vendor kind).
    Other,
}

impl ParentRef {
    pub fn parent_kind(&self) -> ParentKind {
        let group = self.group.as_deref().unwrap_or(GROUP);
        match (group, self.kind.as_ref().map_or(Some(Kind::Gateway), KindName::known)) {
            (GROUP, Some(Kind::Gateway)) => ParentKind::Gateway,
            ("" | "core", Some(Kind::Service)) => ParentKind::Service,
            _ => ParentKind::Other,
        }
    }

    /// The parent's namespace: its own, else the route's.
    pub fn namespace_or<'a>(&'a self, route_namespace: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(route_namespace)
    }
}

/// A rule of any route kind; L4 routes have no matches and no filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteRule {
    /// The plugin names the header rules it adds after the Rollout's managed routes.
    pub name: Option<String>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub matches: Vec<RouteMatch>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub filters: Vec<Filter>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub backend_refs: Vec<BackendRef>,
}

/// One way a request can match a rule (all its conditions together).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteMatch {
    pub path: Option<PathMatch>,
    #[serde(deserialize_with = "super::null_as_default")]
    /// Header conditions: only that there are some is read.
    pub headers: Vec<Present>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub query_params: Vec<Present>,
    /// HTTP: a method; gRPC: a service and method. Only its presence matters here.
    pub method: Option<Present>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PathMatch {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub value: Option<String>,
}

impl RouteMatch {
    /// Whether every request matches: no header, query or method condition, and no path or the path prefix `/`.
    pub fn matches_everything(&self) -> bool {
        let any_path = self.path.as_ref().is_none_or(|p| {
            p.type_.as_deref().unwrap_or("PathPrefix") == "PathPrefix" && p.value.as_deref().unwrap_or("/") == "/"
        });
        any_path && self.headers.is_empty() && self.query_params.is_empty() && self.method.is_none()
    }
}

impl RouteRule {
    /// Whether this rule takes the requests no more specific rule claims.
    pub fn takes_all(&self) -> bool {
        self.matches.is_empty() || self.matches.iter().any(RouteMatch::matches_everything)
    }

    /// The `RequestMirror` filters of the rule.
    pub fn mirrors(&self) -> impl Iterator<Item = &RequestMirror> {
        self.filters.iter().filter_map(|f| f.request_mirror.as_ref())
    }
}

/// A rule filter; only mirrors are read, the other types (header modifiers, rewrites) are known by type alone.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Filter {
    #[serde(rename = "type")]
    pub type_: String,
    pub request_mirror: Option<RequestMirror>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestMirror {
    #[serde(deserialize_with = "super::null_as_default")]
    pub backend_ref: BackendRef,
    pub percent: Option<i32>,
    pub fraction: Option<Fraction>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Fraction {
    pub numerator: i32,
    pub denominator: Option<i32>,
}

impl RequestMirror {
    /// The mirrored part of the rule's requests, 0..1 (all of them when neither percent nor fraction is set).
    pub fn share(&self) -> f64 {
        let share = match (&self.percent, &self.fraction) {
            (Some(percent), _) => f64::from(*percent) / 100.0,
            (None, Some(f)) => f64::from(f.numerator) / f64::from(f.denominator.unwrap_or(100).max(1)),
            (None, None) => 1.0,
        };
        share.clamp(0.0, 1.0)
    }
}

/// A backend of a rule: a Service unless `group`/`kind` say otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BackendRef {
    pub group: Option<String>,
    pub kind: Option<KindName>,
    pub name: String,
    pub namespace: Option<String>,
    pub port: Option<i32>,
    /// Unset weighs 1; 0 sends nothing.
    pub weight: Option<i32>,
}

impl BackendRef {
    /// Whether the backend is a Kubernetes Service.
    pub fn is_service(&self) -> bool {
        matches!(self.group.as_deref(), None | Some("") | Some("core"))
            && self.kind.as_ref().is_none_or(|kind| *kind == Kind::Service)
    }

    /// The weight the Gateway API gives it: 1 when unset, never negative.
    pub fn effective_weight(&self) -> i32 {
        self.weight.unwrap_or(1).max(0)
    }

    /// The backend's namespace: its own, else the route's.
    pub fn namespace_or<'a>(&'a self, route_namespace: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(route_namespace)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteStatus {
    #[serde(deserialize_with = "super::null_as_default")]
    pub parents: Vec<RouteParentStatus>,
}

/// What one controller says of a route on one parent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteParentStatus {
    #[serde(deserialize_with = "super::null_as_default")]
    pub parent_ref: ParentRef,
    pub controller_name: String,
    #[serde(deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
}

/// Allows routes in other namespaces to refer to objects in this one.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReferenceGrant {
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "super::null_as_default")]
    pub spec: ReferenceGrantSpec,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReferenceGrantSpec {
    #[serde(deserialize_with = "super::null_as_default")]
    pub from: Vec<GrantFrom>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub to: Vec<GrantTo>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GrantFrom {
    pub group: String,
    pub kind: KindName,
    pub namespace: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GrantTo {
    pub group: String,
    pub kind: KindName,
    pub name: Option<String>,
}

impl ReferenceGrant {
    /// Whether this grant lets a `route_kind` in `from_namespace` refer to the Service `service` of its namespace.
    pub fn permits(&self, route_kind: Kind, from_namespace: &str, service: &str) -> bool {
        let from =
            self.spec.from.iter().any(|f| f.group == GROUP && f.kind == route_kind && f.namespace == from_namespace);
        let to = self.spec.to.iter().any(|t| {
            matches!(t.group.as_str(), "" | "core")
                && t.kind == Kind::Service
                && t.name.as_deref().is_none_or(|n| n == service)
        });
        from && to
    }
}
