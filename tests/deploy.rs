//! The in-cluster manifests: the ClusterRole grants get/list/watch on exactly the kinds meshlens reads and nothing
//! else; the container runs as non-root from a read-only root filesystem, serving HTTPS with a token; the
//! AnalysisTemplate example gates a canary on the measured split.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::BTreeSet;

use meshlens::k8s::Kind;
use meshlens::k8s::document::{Format, parse_documents};
use serde_json::Value;

fn manifests() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/meshlens.yaml")).unwrap();
    parse_documents(&text, Format::Yaml).map(|d| d.expect("a valid document").value).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect()).unwrap_or_default()
}

#[test]
fn the_cluster_role_grants_reads_of_exactly_the_kinds_meshlens_reads() {
    let docs = manifests();
    let role = one(&docs, "ClusterRole");
    let mut granted = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        let keys: BTreeSet<&str> = rule.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["apiGroups", "resources", "verbs"]), "no resourceNames or URLs: {rule}");
        assert_eq!(strings(&rule["verbs"]), ["get", "list", "watch"], "{rule}");
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                assert!(!group.contains('*') && !resource.contains('*'), "no wildcards: {rule}");
                granted.insert((group.clone(), resource));
            }
        }
    }
    let read: BTreeSet<(String, String)> =
        Kind::ALL.iter().map(|k| (k.group().to_owned(), k.resource().to_owned())).collect();
    assert_eq!(granted, read);
    assert!(!granted.iter().any(|(_, r)| r == "secrets" || r == "configmaps"));
    let binding = one(&docs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(binding["subjects"][0]["name"], one(&docs, "ServiceAccount")["metadata"]["name"]);
    assert!(!docs.iter().any(|d| d["kind"] == "Role" || d["kind"] == "RoleBinding"), "nothing else is granted");
}

#[test]
fn the_container_is_non_root_read_only_and_serves_https_with_a_token() {
    let docs = manifests();
    let pod = &one(&docs, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["serviceAccountName"], one(&docs, "ServiceAccount")["metadata"]["name"]);
    let container = &pod["containers"][0];
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(strings(&container["securityContext"]["capabilities"]["drop"]), ["ALL"]);
    let args = strings(&container["args"]);
    for flag in ["--kube", "--auth-token-file=", "--tls-cert-file=", "--tls-key-file=", "--prometheus="] {
        assert!(args.iter().any(|a| a.starts_with(flag)), "{flag} in {args:?}");
    }
    // Ready once the cluster is listed; alive while it waits for the API server.
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    // The arguments are ones meshlens accepts.
    let parsed =
        <meshlens::cli::Cli as clap::Parser>::try_parse_from(std::iter::once("meshlens".to_owned()).chain(args));
    assert!(parsed.is_ok(), "{:?}", parsed.err());
    assert_eq!(one(&docs, "Service")["spec"]["selector"], one(&docs, "Deployment")["spec"]["selector"]["matchLabels"]);
}

/// The AnalysisTemplate example as Argo's `web` provider runs it against `serve`: its URL with the args filled in
/// (the host replaced by the test's server), its headers with the token, its jsonPath, then its successCondition.
/// Argo evaluates that with its own expression language; the example keeps it a plain comparison, evaluated here.
#[test]
fn the_analysis_template_passes_a_healthy_canary_and_fails_a_drifting_one() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/analysis-template.yaml")).unwrap();
    let template = parse_documents(&text, Format::Yaml).next().unwrap().unwrap().value;
    assert_eq!(template["kind"], "AnalysisTemplate");
    let token_arg = &template["spec"]["args"][2];
    assert_eq!(token_arg["valueFrom"]["secretKeyRef"]["name"], "meshlens-token", "the token comes from a Secret");
    let metric = &template["spec"]["metrics"][0];
    let web = &metric["provider"]["web"];
    let condition: Vec<&str> = metric["successCondition"].as_str().unwrap().split_whitespace().collect();
    let [variable, operator, limit] = condition[..] else { panic!("not a plain comparison: {condition:?}") };
    assert_eq!(variable, "result");
    let limit: f64 = limit.parse().unwrap();
    let field = web["jsonPath"].as_str().unwrap().strip_prefix("{$.").unwrap().strip_suffix('}').unwrap().to_owned();
    let token = "a-token-for-the-analysis-test";
    for (extra, passes) in [(vec![], true), (vec!["--fault", "weights-disagree"], false)] {
        let work = tempfile::tempdir().unwrap();
        let snapshot = work.path().join("snap");
        common::simulate("bookinfo-canary", &snapshot, &extra);
        let token_file = work.path().join("token");
        std::fs::write(&token_file, token).unwrap();
        let (server, _) =
            common::serve_snapshot(&snapshot, work.path(), &["--auth-token-file", token_file.to_str().unwrap()]);
        let url = (web["url"].as_str().unwrap())
            .replace("https://meshlens.meshlens.svc", &server.url)
            .replace("{{args.namespace}}", "bookinfo")
            .replace("{{args.rollout}}", "reviews");
        let answer: Value = common::process::block_on(async {
            let client = reqwest::Client::new();
            let refused = client.get(&url).send().await.unwrap();
            assert_eq!(refused.status(), 401, "the endpoint needs the token");
            let mut request = client.get(&url);
            for header in web["headers"].as_array().unwrap() {
                let value = header["value"].as_str().unwrap().replace("{{args.meshlens-token}}", token);
                request = request.header(header["key"].as_str().unwrap(), value);
            }
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{url}: {}", response.status());
            serde_json::from_str(&response.text().await.unwrap()).unwrap()
        });
        server.stop();
        let result = answer[&field].as_f64().unwrap_or_else(|| panic!("no number at {field}: {answer}"));
        let success = match operator {
            "<=" => result <= limit,
            "<" => result < limit,
            ">=" => result >= limit,
            ">" => result > limit,
            other => panic!("operator {other}"),
        };
        assert_eq!(success, passes, "{extra:?}: {answer}");
        assert_eq!((answer["window"].as_str(), answer["doctorErrors"].is_u64()), (Some("2m"), true), "{answer}");
    }
}
