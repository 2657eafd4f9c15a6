//! The `batch/v1` kinds meshlens reads: Jobs and CronJobs, workloads of their own (Istio names a CronJob's pods
//! after the CronJob) whose pod templates carry the canonical labels.

use serde::{Deserialize, Serialize};

use super::apps::TemplateSpec;
use super::meta::ObjectMeta;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Job {
    pub metadata: ObjectMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<TemplateSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CronJob {
    pub metadata: ObjectMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<CronJobSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CronJobSpec {
    pub job_template: JobTemplate,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JobTemplate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<TemplateSpec>,
}
