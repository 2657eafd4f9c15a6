//! How a Rollout configures Argo Rollouts' Gateway API traffic router plugin
//! (`trafficRouting.plugins["argoproj-labs/gatewayAPI"]`), as the plugin reads it (its `GatewayAPITrafficRouting`
//! in `pkg/plugin/types.go`): routes by name, one or many per route kind, or found by label selector, in
//! `namespace` or the Rollout's own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::gateway::RouteKind;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayApiPlugin {
    pub http_route: Option<String>,
    pub http_routes: Vec<PluginRoute>,
    pub grpc_route: Option<String>,
    pub grpc_routes: Vec<PluginRoute>,
    pub tcp_route: Option<String>,
    pub tcp_routes: Vec<PluginRoute>,
    pub tls_route: Option<String>,
    pub tls_routes: Vec<PluginRoute>,
    pub http_route_selector: Option<LabelSelector>,
    pub grpc_route_selector: Option<LabelSelector>,
    pub tcp_route_selector: Option<LabelSelector>,
    pub tls_route_selector: Option<LabelSelector>,
    /// Where the routes live; the Rollout's namespace when unset.
    pub namespace: Option<String>,
}

/// A route the plugin manages: `{name, useHeaderRoutes}`, or just its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginRoute {
    pub name: String,
    /// Whether `setHeaderRoute` steps add their rules to this route.
    pub use_header_routes: bool,
}

impl<'de> Deserialize<'de> for PluginRoute {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            #[serde(rename_all = "camelCase")]
            Full {
                name: String,
                #[serde(default)]
                use_header_routes: bool,
            },
        }
        Ok(match Raw::deserialize(de)? {
            Raw::Name(name) => PluginRoute { name, use_header_routes: false },
            Raw::Full { name, use_header_routes } => PluginRoute { name, use_header_routes },
        })
    }
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<LabelRequirement>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelRequirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether `labels` satisfy the selector, as Kubernetes decides it; an unknown operator selects nothing.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let by_labels = self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v));
        by_labels
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator.as_str() {
                    "In" => value.is_some_and(|v| r.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

impl GatewayApiPlugin {
    /// The routes of `kind` named in the configuration: `xRoute` (which takes header routes, as the plugin decides)
    /// and every entry of `xRoutes`.
    pub fn named_routes(&self, kind: RouteKind) -> Vec<PluginRoute> {
        let (single, many) = match kind {
            RouteKind::Http => (&self.http_route, &self.http_routes),
            RouteKind::Grpc => (&self.grpc_route, &self.grpc_routes),
            RouteKind::Tcp => (&self.tcp_route, &self.tcp_routes),
            RouteKind::Tls => (&self.tls_route, &self.tls_routes),
        };
        let mut routes = many.clone();
        if let Some(name) = single.as_ref().filter(|n| !n.is_empty()) {
            routes.push(PluginRoute { name: name.clone(), use_header_routes: true });
        }
        routes
    }

    /// The label selector that finds routes of `kind`, when one is set.
    pub fn selector(&self, kind: RouteKind) -> Option<&LabelSelector> {
        match kind {
            RouteKind::Http => self.http_route_selector.as_ref(),
            RouteKind::Grpc => self.grpc_route_selector.as_ref(),
            RouteKind::Tcp => self.tcp_route_selector.as_ref(),
            RouteKind::Tls => self.tls_route_selector.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn routes_are_read_in_every_form_the_plugin_takes() {
        let plugin: GatewayApiPlugin = serde_json::from_value(json!({
            "httpRoute": "main", "httpRoutes": ["plain", {"name": "headers", "useHeaderRoutes": true}],
            "grpcRoute": "rpc", "namespace": "shop"}))
        .unwrap();
        let http = plugin.named_routes(RouteKind::Http);
        let names: Vec<(&str, bool)> = http.iter().map(|r| (r.name.as_str(), r.use_header_routes)).collect();
        assert_eq!(names, [("plain", false), ("headers", true), ("main", true)]);
        assert_eq!(plugin.named_routes(RouteKind::Grpc)[0].name, "rpc");
        assert!(plugin.named_routes(RouteKind::Tcp).is_empty());
    }

    #[test]
    fn selectors_follow_kubernetes_semantics() {
        let selector: LabelSelector = serde_json::from_value(json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["edge", "mesh"]},
                                 {"key": "legacy", "operator": "DoesNotExist"}]}))
        .unwrap();
        let labels = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert!(selector.matches(&labels(&[("app", "web"), ("tier", "mesh")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "db")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "mesh"), ("legacy", "1")])));
        assert!(!selector.matches(&labels(&[("tier", "mesh")])));
    }
}
