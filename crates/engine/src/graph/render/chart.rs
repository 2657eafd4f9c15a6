//! A small SVG chart of a split over time: the observed share of each revision as a line, the weight each is meant
//! to get as a dashed line, so a canary drifting from its weight shows at a glance.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::graph::TrafficRole;
use crate::graph::history::{SplitPoint, WeightStep};

use super::svg::esc;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

/// The chart of `history`, with the `intended` weights (steps over time, oldest first) as dashed lines.
pub fn split_chart(history: &[SplitPoint], intended: &[WeightStep]) -> String {
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="observed share over time">"#
    );
    let (x0, x1) = (LEFT, WIDTH - 10.0);
    let (y0, y1) = (HEIGHT - BOTTOM, TOP);
    let y = |share: f64| y0 + (y1 - y0) * share.clamp(0.0, 1.0);
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            svg,
            r##"<line x1="{x0}" x2="{x1}" y1="{v:.1}" y2="{v:.1}" stroke="#e2e8f0"/><text x="{:.0}" y="{:.1}" font-size="11" text-anchor="end" fill="#4a5568">{:.0}%</text>"##,
            x0 - 6.0,
            y(tick) + 4.0,
            tick * 100.0,
            v = y(tick)
        );
    }
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        let _ = write!(
            svg,
            r##"<text x="{:.0}" y="{:.0}" fill="#718096" font-size="13">no traffic in the window</text>"##,
            x0 + 20.0,
            HEIGHT / 2.0
        );
        svg.push_str("</svg>");
        return svg;
    };
    let span = (last.time - first.time).max(1) as f64;
    let x = |time: i64| x0 + (x1 - x0) * (time - first.time) as f64 / span;
    for (time, anchor) in [(first.time, "start"), (last.time, "end")] {
        let label = jiff::Timestamp::from_second(time).map(|t| t.strftime("%H:%M:%S").to_string()).unwrap_or_default();
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.0}" font-size="11" text-anchor="{anchor}" fill="#4a5568">{label}</text>"##,
            x(time),
            HEIGHT - 6.0
        );
    }
    // Each step holds from its time to the next step (or the chart's end); the first was in force before it was
    // first seen, so it starts with the chart.
    for (i, step) in intended.iter().enumerate() {
        let from = if i == 0 { x0 } else { x(step.since.max(first.time)) };
        let to = intended.get(i + 1).map_or(x1, |next| x(next.since.min(last.time)));
        for r in &step.revisions {
            let _ = write!(
                svg,
                r#"<line class="intended {}" x1="{from:.1}" x2="{to:.1}" y1="{v:.1}" y2="{v:.1}" stroke="{}" stroke-width="1.5" stroke-dasharray="6 4"><title>{} intended {:.0}%</title></line>"#,
                r.role.as_str(),
                colour(r.role),
                esc(&r.replica_set),
                r.intended_weight * 100.0,
                v = y(r.intended_weight)
            );
        }
    }
    let mut lines: BTreeMap<(&str, TrafficRole), Vec<(i64, f64)>> = BTreeMap::new();
    for p in history {
        for r in &p.revisions {
            lines.entry((r.replica_set.as_str(), r.role)).or_default().push((p.time, r.observed_share));
        }
    }
    for ((replica_set, role), points) in lines {
        let path: Vec<String> = points.iter().map(|&(t, s)| format!("{:.1},{:.1}", x(t), y(s))).collect();
        let _ = write!(
            svg,
            r#"<polyline class="observed {}" points="{}" fill="none" stroke="{}" stroke-width="2.5"><title>{} observed</title></polyline>"#,
            role.as_str(),
            path.join(" "),
            colour(role),
            esc(replica_set)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn colour(role: TrafficRole) -> &'static str {
    match role {
        TrafficRole::Stable => "#38a169",
        TrafficRole::Canary => "#dd6b20",
        TrafficRole::Other => "#a0aec0",
    }
}
