//! Istio's rules for the workload name and kind a sidecar reports (`source_workload` / `destination_workload`),
//! computed from the pod at injection time. The one place these rules live.

use std::collections::{BTreeMap, BTreeSet};

use meshlens_k8s::{Kind, KindName};

use meshlens_k8s::apps::POD_TEMPLATE_HASH_LABEL as DEPLOYMENT_HASH_LABEL;
use meshlens_telemetry::istio::pod_label::{CANONICAL_REVISION_LABELS, CANONICAL_SERVICE_LABELS, WORKLOAD_NAME};
const ROLLOUT_HASH_LABEL: &str = meshlens_k8s::argo::POD_TEMPLATE_HASH_LABEL;
const DEPLOYMENT_CONFIG_LABEL: &str = "deploymentconfig";

/// The Istio releases whose sidecar injection names workloads differently. Pods keep the name of the release
/// that injected them until they are recreated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NamingGeneration {
    /// Before 1.22: a Rollout's pods are named after their ReplicaSet.
    ReplicaSet,
    /// 1.22 to 1.24: a Rollout's pods are named after the Rollout.
    Rollout,
    /// 1.25 and later: as 1.22, and the `service.istio.io/workload-name` label overrides the name.
    WorkloadNameLabel,
}

impl NamingGeneration {
    pub const ALL: [NamingGeneration; 3] =
        [NamingGeneration::ReplicaSet, NamingGeneration::Rollout, NamingGeneration::WorkloadNameLabel];
    /// What current Istio releases do.
    pub const CURRENT: NamingGeneration = NamingGeneration::WorkloadNameLabel;
}

/// The pod facts Istio's naming reads.
#[derive(Debug, Clone, Copy)]
pub struct PodFacts<'a> {
    pub name: &'a str,
    pub generate_name: Option<&'a str>,
    pub labels: &'a BTreeMap<String, String>,
    /// Kind and name of the owner reference with `controller: true`.
    pub controller: Option<(&'a KindName, &'a str)>,
}

/// A workload name and kind as telemetry carries them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TelemetryIdentity {
    pub name: String,
    pub kind: KindName,
}

/// The name and kind a sidecar injected by `generation` reports for this pod.
pub fn telemetry_identity(pod: &PodFacts<'_>, generation: NamingGeneration) -> TelemetryIdentity {
    let mut id = controller_identity(pod, generation);
    if generation >= NamingGeneration::WorkloadNameLabel
        && let Some(name) = pod.labels.get(WORKLOAD_NAME).filter(|n| !n.is_empty())
    {
        id.name = name.clone();
    }
    id
}

/// The identity before the override label: the controller Istio derives from generateName and owner.
fn controller_identity(pod: &PodFacts<'_>, generation: NamingGeneration) -> TelemetryIdentity {
    let own = || TelemetryIdentity { name: pod.name.to_owned(), kind: Kind::Pod.into() };
    if pod.generate_name.is_none_or(str::is_empty) {
        return own();
    }
    let Some((kind, name)) = pod.controller else {
        return own();
    };
    let label = |key: &str| pod.labels.get(key).map(String::as_str).filter(|v| !v.is_empty());
    let named = |name: &str, kind: KindName| TelemetryIdentity { name: name.to_owned(), kind };
    match kind.known() {
        Some(Kind::ReplicaSet) => {
            if let Some(hash) = label(DEPLOYMENT_HASH_LABEL).filter(|h| name.ends_with(h)) {
                return named(trim_hash(name, hash), Kind::Deployment.into());
            }
            if generation >= NamingGeneration::Rollout
                && let Some(hash) = label(ROLLOUT_HASH_LABEL).filter(|h| name.ends_with(h))
            {
                return named(trim_hash(name, hash), Kind::Rollout.into());
            }
            named(name, kind.clone())
        }
        Some(Kind::ReplicationController) => match pod.labels.get(DEPLOYMENT_CONFIG_LABEL) {
            Some(config) => named(config, KindName::DeploymentConfig),
            None => named(name, kind.clone()),
        },
        Some(Kind::Job) => match cron_job_name(name) {
            Some(cron) => named(cron, Kind::CronJob.into()),
            None => named(name, kind.clone()),
        },
        _ => named(name, kind.clone()),
    }
}

fn trim_hash<'a>(name: &'a str, hash: &str) -> &'a str {
    name.strip_suffix(hash).and_then(|n| n.strip_suffix('-')).unwrap_or(name)
}

/// The CronJob a Job was scheduled by, from the Job name `<cronjob>-<8 to 10 digits>`.
pub fn cron_job_name(job: &str) -> Option<&str> {
    let (prefix, suffix) = job.rsplit_once('-')?;
    let scheduled = (8..=10).contains(&suffix.len()) && suffix.bytes().all(|b| b.is_ascii_digit());
    (scheduled && !prefix.is_empty()).then_some(prefix)
}

/// Istio's canonical service of a workload: the first of the canonical-name, `app.kubernetes.io/name` and `app`
/// labels, else the workload name.
pub fn canonical_service(labels: &BTreeMap<String, String>, workload: &str) -> String {
    CANONICAL_SERVICE_LABELS
        .iter()
        .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()))
        .cloned()
        .unwrap_or_else(|| workload.to_owned())
}

/// Istio's canonical revision: the canonical-revision, `app.kubernetes.io/version` or `version` label, else
/// `latest` (Argo Rollouts sets none, so a Rollout's revisions share `latest`).
pub fn canonical_revision(labels: &BTreeMap<String, String>) -> String {
    CANONICAL_REVISION_LABELS
        .iter()
        .find_map(|k| labels.get(*k).filter(|v| !v.is_empty()))
        .cloned()
        .unwrap_or_else(|| "latest".to_owned())
}

/// Every name the pod can appear under in telemetry, whichever Istio release injected it.
pub fn candidate_names(pod: &PodFacts<'_>) -> BTreeSet<String> {
    NamingGeneration::ALL.iter().map(|g| telemetry_identity(pod, *g).name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(generate_name: &str, owner: (&str, &str), labels: &[(&str, &str)]) -> TelemetryIdentity {
        let labels: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let kind = KindName::from_name(owner.0);
        let pod = PodFacts {
            name: "",
            generate_name: Some(generate_name),
            labels: &labels,
            controller: Some((&kind, owner.1)),
        };
        telemetry_identity(&pod, NamingGeneration::CURRENT)
    }

    fn expect(id: TelemetryIdentity, name: &str, kind: &str) {
        assert_eq!((id.name.as_str(), id.kind.as_str()), (name, kind));
    }

    // The rows of Istio's own unit table (FACTS.md §1).
    #[test]
    fn job_with_ten_digit_suffix_is_a_cron_job() {
        expect(identity("sec-1234567890-pod", ("Job", "sec-1234567890"), &[]), "sec", "CronJob");
    }

    #[test]
    fn job_with_eight_digit_suffix_is_a_cron_job() {
        expect(identity("min-12345678-pod", ("Job", "min-12345678"), &[]), "min", "CronJob");
    }

    #[test]
    fn job_with_short_suffix_stays_a_job() {
        expect(identity("job-123-pod", ("Job", "job-123"), &[]), "job-123", "Job");
    }

    #[test]
    fn replication_controller_with_deploymentconfig_label_is_a_deployment_config() {
        let id = identity("deploy-rc-pod", ("ReplicationController", "deploy-rc"), &[("deploymentconfig", "deploy")]);
        expect(id, "deploy", "DeploymentConfig");
    }

    #[test]
    fn replication_controller_without_label_stays_itself() {
        expect(identity("dep-rc-pod", ("ReplicationController", "dep-rc"), &[]), "dep-rc", "ReplicationController");
    }

    #[test]
    fn rollout_replica_set_is_named_after_the_rollout() {
        let id = identity("name-6dc78b855c-", ("ReplicaSet", "name-6dc78b855c"), &[(ROLLOUT_HASH_LABEL, "6dc78b855c")]);
        expect(id, "name", "Rollout");
    }

    // Beyond Istio's table: the other controller kinds and both naming generations.
    #[test]
    fn deployment_replica_set_is_named_after_the_deployment() {
        let id = identity("web-7c9f8-", ("ReplicaSet", "web-7c9f8"), &[(DEPLOYMENT_HASH_LABEL, "7c9f8")]);
        expect(id, "web", "Deployment");
    }

    #[test]
    fn deployment_rule_is_checked_before_the_rollout_rule() {
        let labels = [(DEPLOYMENT_HASH_LABEL, "abc12"), (ROLLOUT_HASH_LABEL, "abc12")];
        expect(identity("x-abc12-", ("ReplicaSet", "x-abc12"), &labels), "x", "Deployment");
    }

    #[test]
    fn rollout_pods_injected_before_istio_1_22_keep_the_replica_set_name() {
        let labels: BTreeMap<String, String> = [(ROLLOUT_HASH_LABEL.to_string(), "6dc78b855c".to_string())].into();
        let pod = PodFacts {
            name: "reviews-6dc78b855c-x2k9p",
            generate_name: Some("reviews-6dc78b855c-"),
            labels: &labels,
            controller: Some((&KindName::Known(Kind::ReplicaSet), "reviews-6dc78b855c")),
        };
        let old = telemetry_identity(&pod, NamingGeneration::ReplicaSet);
        expect(old, "reviews-6dc78b855c", "ReplicaSet");
        let names: Vec<_> = candidate_names(&pod).into_iter().collect();
        assert_eq!(names, ["reviews", "reviews-6dc78b855c"]);
    }

    #[test]
    fn experiment_replica_sets_do_not_end_with_the_hash_and_keep_their_name() {
        let rs = "ro-6f646bf7b7-1-vcv27-baseline-7d768b8b5f";
        let id = identity(
            "ro-6f646bf7b7-1-vcv27-baseline-7d768b8b5f-",
            ("ReplicaSet", rs),
            &[(ROLLOUT_HASH_LABEL, "f6db98dff")],
        );
        expect(id, rs, "ReplicaSet");
    }

    #[test]
    fn stateful_set_daemon_set_bare_replica_set_and_custom_controllers_keep_owner_name_and_kind() {
        expect(identity("db-", ("StatefulSet", "db"), &[]), "db", "StatefulSet");
        expect(identity("agent-", ("DaemonSet", "agent"), &[]), "agent", "DaemonSet");
        expect(identity("bare-", ("ReplicaSet", "bare"), &[]), "bare", "ReplicaSet");
        expect(identity("clone-", ("CloneSet", "clone"), &[]), "clone", "CloneSet");
    }

    #[test]
    fn pods_without_generate_name_or_controller_are_themselves() {
        let labels = BTreeMap::new();
        let replica_set = KindName::Known(Kind::ReplicaSet);
        let bare =
            PodFacts { name: "debug", generate_name: None, labels: &labels, controller: Some((&replica_set, "x")) };
        expect(telemetry_identity(&bare, NamingGeneration::CURRENT), "debug", "Pod");
        let orphan = PodFacts { name: "orphan-abc", generate_name: Some("orphan-"), labels: &labels, controller: None };
        expect(telemetry_identity(&orphan, NamingGeneration::CURRENT), "orphan-abc", "Pod");
    }

    #[test]
    fn workload_name_label_replaces_the_name_but_not_the_kind_from_istio_1_25() {
        let labels: BTreeMap<String, String> = [
            (DEPLOYMENT_HASH_LABEL.to_string(), "7c9f8".to_string()),
            (WORKLOAD_NAME.to_string(), "checkout".to_string()),
        ]
        .into();
        let pod = PodFacts {
            name: "web-7c9f8-abcde",
            generate_name: Some("web-7c9f8-"),
            labels: &labels,
            controller: Some((&KindName::Known(Kind::ReplicaSet), "web-7c9f8")),
        };
        expect(telemetry_identity(&pod, NamingGeneration::CURRENT), "checkout", "Deployment");
        expect(telemetry_identity(&pod, NamingGeneration::Rollout), "web", "Deployment");
        assert_eq!(candidate_names(&pod).into_iter().collect::<Vec<_>>(), ["checkout", "web"]);
    }

    #[test]
    fn cron_job_suffix_must_be_all_digits() {
        assert_eq!(cron_job_name("backup-28391520"), Some("backup"));
        assert_eq!(cron_job_name("backup-2839152a"), None);
        assert_eq!(cron_job_name("-12345678"), None);
        assert_eq!(cron_job_name("a-b-1234567890"), Some("a-b"));
        assert_eq!(cron_job_name("a-12345678901"), None);
    }
}
