//! What a command's `-n`/`-A` and names select, checked against what the source holds, with suggestions for names
//! that are not there.

use std::collections::BTreeSet;

use anyhow::bail;

use super::ScopeArgs;
use crate::identity::IdentityIndex;
use crate::k8s::is_namespace_name;

/// `-n a,b` checked (Kubernetes namespace names only: no quotes, braces or regex reach a query) and known;
/// nothing or `-A` means every namespace.
pub fn selected_namespaces(scope: &ScopeArgs, index: &IdentityIndex) -> anyhow::Result<Option<BTreeSet<String>>> {
    if scope.namespaces.is_empty() {
        return Ok(None);
    }
    for ns in &scope.namespaces {
        if !is_namespace_name(ns) {
            bail!("-n {ns:?} is not a Kubernetes namespace name (lowercase letters, digits and '-', at most 63)");
        }
        if !index.namespaces().contains(ns) {
            bail!("namespace {ns:?} has no objects in this source{}", suggestion(ns, index.namespaces().iter()));
        }
    }
    Ok(Some(scope.namespaces.iter().cloned().collect()))
}

/// `; did you mean a, b?` with the closest candidates, or nothing.
pub fn suggestion<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> String {
    let mut scored: Vec<(f64, &String)> = candidates
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, c)| *score >= 0.8 || c.contains(name) || name.contains(c.as_str()))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    let names: Vec<&str> = scored.iter().take(3).map(|(_, c)| c.as_str()).collect();
    if names.is_empty() { String::new() } else { format!("; did you mean {}?", names.join(", ")) }
}
