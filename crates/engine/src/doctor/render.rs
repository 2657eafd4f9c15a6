//! Findings for a terminal: the worst first, each with its objects, evidence and advice.

use std::fmt::Write;

use crate::terminal::{Newlines, escape};

use super::{Finding, Report, Severity};

pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let scope = if report.namespaces.is_empty() { "all namespaces".to_owned() } else { report.namespaces.join(", ") };
    let _ = writeln!(out, "doctor: {scope}, {} ending {}", report.duration, report.time);
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        out,
        "{} errors, {} warnings, {} notes\n",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    for f in &report.findings {
        out.push_str(&finding_text(f));
        out.push('\n');
    }
    for w in &report.warnings {
        let _ = writeln!(out, "warning: {}", escape(w, Newlines::Escape));
    }
    out
}

/// One finding in a few lines.
pub fn finding_text(f: &Finding) -> String {
    // Each part is one line: a line break in a name quoted in it is shown, not sent.
    let line = |text: &str| escape(text, Newlines::Escape).into_owned();
    let mut out = format!("{:<7} {}  {}\n", f.severity.as_str().to_uppercase(), f.code, line(&f.summary));
    if !f.objects.is_empty() {
        let objects: Vec<String> = f.objects.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "        objects: {}", line(&objects.join(", ")));
    }
    if !f.evidence.is_empty() {
        let evidence: Vec<String> = f.evidence.iter().map(|(k, v)| format!("{k}={}", figure(v))).collect();
        let _ = writeln!(out, "        evidence: {}", line(&evidence.join(" ")));
    }
    if !f.advice.is_empty() {
        let _ = writeln!(out, "        fix: {}", line(&f.advice));
    }
    out
}

/// A figure without JSON noise: numbers to 3 decimals, strings bare.
fn figure(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) => {
            n.as_f64().map_or_else(|| n.to_string(), |x| format!("{}", (x * 1000.0).round() / 1000.0))
        }
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
