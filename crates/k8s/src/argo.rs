//! The Argo Rollouts objects meshlens reads (argoproj.io/v1alpha1): only the fields the identity, roles and the
//! Argo CLI view need. Unknown fields are ignored; fields of the wrong type are errors.

use serde::{Deserialize, Deserializer, Serialize};

use super::core::PodTemplateSpec;
use super::gateway_plugin::GatewayApiPlugin;
use super::meta::{ObjectMeta, Present};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Rollout {
    pub metadata: ObjectMeta,
    pub spec: RolloutSpec,
    pub status: RolloutStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RolloutSpec {
    pub replicas: Option<i32>,
    pub paused: bool,
    /// A restart requested at this time (RFC 3339); pods older than it are replaced.
    pub restart_at: Option<String>,
    pub template: Option<PodTemplateSpec>,
    pub workload_ref: Option<WorkloadRef>,
    pub strategy: Strategy,
}

/// `spec.workloadRef`: the Deployment whose pod template the Rollout runs.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkloadRef {
    pub api_version: String,
    pub kind: crate::KindName,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Strategy {
    pub canary: Option<CanaryStrategy>,
    pub blue_green: Option<BlueGreenStrategy>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CanaryStrategy {
    #[serde(deserialize_with = "super::null_as_default")]
    pub steps: Vec<CanaryStep>,
    pub canary_service: Option<String>,
    pub stable_service: Option<String>,
    pub traffic_routing: Option<TrafficRouting>,
    pub ping_pong: Option<PingPong>,
}

/// One step of a canary: the weight it sets, or the mirror route it adds (other kinds only count as steps).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CanaryStep {
    pub set_weight: Option<i32>,
    pub set_mirror_route: Option<MirrorRouteStep>,
}

/// `setMirrorRoute`: a named route copying matching requests to the canary; without `match` it removes the route.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MirrorRouteStep {
    pub name: String,
    pub percentage: Option<i32>,
    #[serde(rename = "match")]
    pub matches: Option<Vec<Present>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PingPong {
    pub ping_service: String,
    pub pong_service: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrafficRouting {
    pub istio: Option<IstioTrafficRouting>,
    /// Traffic router plugins by name; meshlens reads only the Gateway API plugin's.
    pub plugins: Plugins,
    /// Header and mirror routes the controller adds and removes, by name (the plugin names its rules after them).
    #[serde(deserialize_with = "super::null_as_default")]
    pub managed_routes: Vec<ManagedRoute>,
    /// The scale weights are expressed on; 100 when absent.
    pub max_traffic_weight: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ManagedRoute {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Plugins {
    #[serde(rename = "argoproj-labs/gatewayAPI")]
    pub gateway_api: Option<GatewayApiPlugin>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IstioTrafficRouting {
    pub virtual_service: Option<VirtualServiceRef>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub virtual_services: Vec<VirtualServiceRef>,
    pub destination_rule: Option<DestinationRuleRef>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VirtualServiceRef {
    pub name: String,
    #[serde(deserialize_with = "super::null_as_default")]
    pub routes: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DestinationRuleRef {
    pub name: String,
    pub canary_subset_name: String,
    pub stable_subset_name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BlueGreenStrategy {
    pub active_service: Option<String>,
    pub preview_service: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RolloutStatus {
    pub abort: bool,
    pub phase: Option<String>,
    pub message: Option<String>,
    #[serde(rename = "stableRS")]
    pub stable_rs: Option<String>,
    pub current_pod_hash: Option<String>,
    pub current_step_index: Option<i32>,
    pub replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub controller_pause: bool,
    pub restarted_at: Option<String>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub pause_conditions: Vec<PauseCondition>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub conditions: Vec<Condition>,
    pub blue_green: BlueGreenStatus,
    pub canary: CanaryStatus,
    /// A number written as a string since v0.10, a hash before it.
    #[serde(deserialize_with = "string_or_number")]
    pub observed_generation: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PauseCondition {
    pub reason: String,
    pub start_time: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: Option<String>,
    pub last_update_time: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BlueGreenStatus {
    pub active_selector: Option<String>,
    pub preview_selector: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CanaryStatus {
    pub stable_ping_pong: Option<String>,
    pub weights: Option<TrafficWeights>,
}

/// `status.canary.weights`: what the controller last wrote into the traffic router.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrafficWeights {
    pub canary: WeightDestination,
    pub stable: WeightDestination,
    #[serde(deserialize_with = "super::null_as_default")]
    pub additional: Vec<WeightDestination>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WeightDestination {
    pub weight: i32,
    pub service_name: Option<String>,
    pub pod_template_hash: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Experiment {
    pub metadata: ObjectMeta,
    pub spec: ExperimentSpec,
    pub status: ExperimentStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExperimentSpec {
    #[serde(deserialize_with = "super::null_as_default")]
    pub templates: Vec<ExperimentTemplate>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExperimentTemplate {
    pub name: String,
    pub replicas: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExperimentStatus {
    pub phase: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AnalysisRun {
    pub metadata: ObjectMeta,
    pub status: AnalysisRunStatus,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AnalysisRunStatus {
    pub phase: Option<String>,
    pub message: Option<String>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub metric_results: Vec<MetricResult>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MetricResult {
    pub name: String,
    pub successful: i32,
    pub failed: i32,
    pub inconclusive: i32,
    pub error: i32,
    #[serde(deserialize_with = "super::null_as_default")]
    pub measurements: Vec<Measurement>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Measurement {
    pub phase: Option<String>,
    pub started_at: Option<String>,
    /// Only the Job a job-provider measurement ran; web and other providers keep responses here.
    #[serde(deserialize_with = "job_name_only")]
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// Label the Rollout controller puts on its ReplicaSets and pods (and Service selectors for host-level splits).
pub const POD_TEMPLATE_HASH_LABEL: &str = "rollouts-pod-template-hash";
/// Metadata key of a job-based AnalysisRun measurement naming its Job.
pub const MEASUREMENT_JOB_NAME: &str = "job-name";

fn job_name_only<'de, D: Deserializer<'de>>(de: D) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    let all = Option::<std::collections::BTreeMap<String, String>>::deserialize(de)?.unwrap_or_default();
    Ok(all.into_iter().filter(|(k, _)| k == MEASUREMENT_JOB_NAME).collect())
}

fn string_or_number<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(i64),
    }
    Ok(Option::<Raw>::deserialize(de)?.map(|raw| match raw {
        Raw::Text(t) => t,
        Raw::Number(n) => n.to_string(),
    }))
}

impl Rollout {
    /// Weights are on this scale (`trafficRouting.maxTrafficWeight`, default 100).
    pub fn max_traffic_weight(&self) -> i32 {
        self.spec
            .strategy
            .canary
            .as_ref()
            .and_then(|c| c.traffic_routing.as_ref())
            .and_then(|t| t.max_traffic_weight)
            .unwrap_or(100)
    }
}

impl AnalysisRun {
    /// The Jobs a job-provider AnalysisRun ran, in measurement order, with each measurement's phase.
    pub fn jobs(&self) -> impl Iterator<Item = (&str, Option<&str>, Option<&str>)> {
        self.status.metric_results.iter().flat_map(|mr| {
            mr.measurements.iter().filter_map(|m| {
                let job = m.metadata.get(MEASUREMENT_JOB_NAME)?;
                Some((job.as_str(), m.phase.as_deref(), m.started_at.as_deref()))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_null_list_reads_as_none() {
        let text = r#"{"spec": {"strategy": {"canary": {"steps": null}}},
                       "status": {"pauseConditions": null, "conditions": null}}"#;
        let rollout: Rollout = serde_json::from_str(text).expect("a null list is an empty one");
        assert!(rollout.status.pause_conditions.is_empty() && rollout.status.conditions.is_empty());
        assert!(rollout.spec.strategy.canary.is_some_and(|c| c.steps.is_empty()));
    }
}
