//! Flagger's Canary (flagger.app/v1beta1): it names the target Deployment and owns the `-primary` copy, which is
//! how the two Deployments are grouped into one logical rollout.

use super::gateway::ParentRef;
use super::meta::ObjectMeta;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Canary {
    pub metadata: ObjectMeta,
    pub spec: CanarySpec,
    pub status: CanaryStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CanarySpec {
    pub target_ref: TargetRef,
    pub service: CanaryService,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetRef {
    pub api_version: String,
    pub kind: crate::KindName,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CanaryService {
    pub name: Option<String>,
    pub port: Option<i32>,
    pub gateways: Vec<String>,
    pub hosts: Vec<String>,
    /// With Flagger's Gateway API router: the parents (Gateways, or Services for mesh routing) of the HTTPRoute it
    /// generates.
    pub gateway_refs: Vec<ParentRef>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CanaryStatus {
    pub phase: Option<String>,
    /// The weight (0..100) Flagger routes to the canary now.
    pub canary_weight: Option<i32>,
    pub failed_checks: Option<i32>,
    pub iterations: Option<i32>,
    pub last_transition_time: Option<String>,
}

impl Canary {
    /// Name of the primary (stable) copy Flagger creates for the target.
    pub fn primary_name(&self) -> String {
        format!("{}-primary", self.spec.target_ref.name)
    }

    /// The apex Service (`spec.service.name`, else the target's name): Flagger names the routing objects after
    /// it, and the Services `<apex>-primary` and `<apex>-canary`.
    pub fn apex_name(&self) -> &str {
        self.spec.service.name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&self.spec.target_ref.name)
    }
}
