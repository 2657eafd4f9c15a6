//! The graph as a self-contained SVG, laid out on the server: workload boxes linking to their pages, a Rollout's
//! observed split drawn inside its box against the intended weight, edges labelled with rps, error % and share.
//! Idle, ghost and outside nodes are styled apart so they are never mistaken for live workloads.

use std::fmt::Write as _;

use crate::graph::layout::{Spacing, layout};
use crate::graph::{Edge, Graph, Node, NodeType, Protocol, TrafficRole};
use crate::terminal::{Newlines, escape};

use super::whole_percent;
use meshlens_k8s::KindName;

/// Edges drawn with their labels; more are labelled on hover only.
const MAX_LABELLED_EDGES: usize = 150;

/// How a kind of drawing sizes its boxes and places their text.
#[derive(Clone, Copy)]
struct Look {
    spacing: Spacing,
    /// Baselines of the name and of the line under it (none: in the tooltip only), from the box's top.
    name_y: f64,
    sub_y: Option<f64>,
    /// Longest name drawn whole; longer ones are clipped (the tooltip has them whole).
    name_chars: usize,
}

/// Workloads, apps and Services: room for the split bar and edge labels.
const DETAIL: Look = Look {
    spacing: Spacing { node_width: 210.0, node_height: 58.0, layer_gap: 150.0, node_gap: 34.0, margin: 24.0 },
    name_y: 20.0,
    sub_y: Some(36.0),
    name_chars: 26,
};

/// The namespace overview of a large mesh: hundreds of boxes on one screen, so small boxes holding only a large
/// name (`.namespace` text in the style), readable (about 11 px at 400 namespaces) when fitted to the page.
const OVERVIEW: Look = Look {
    spacing: Spacing { node_width: 230.0, node_height: 44.0, layer_gap: 60.0, node_gap: 14.0, margin: 24.0 },
    name_y: 32.0,
    sub_y: None,
    name_chars: 12,
};

/// Styles shared by the CLI's SVG file and the web page.
const STYLE: &str = "
.node rect.box{fill:#fff;stroke:#4a5568;stroke-width:1.2}
.node text{font:13px system-ui,sans-serif;fill:#1a202c}
.node text.sub{font-size:11px;fill:#4a5568}
.node.rollout rect.box{stroke:#2b6cb0;stroke-width:2}
.node.idle rect.box{stroke-dasharray:4 3;fill:#f7fafc}
.node.idle text{fill:#718096}
.node.ghost rect.box{fill:#fff5f5;stroke:#c53030;stroke-dasharray:2 2}
.node.outside rect.box{fill:#edf2f7;stroke:#a0aec0}
.node.waypoint rect.box{fill:#faf5ff;stroke:#6b46c1;stroke-width:1.6}
.node.unknown rect.box{fill:#fefcbf;stroke:#b7791f}
.node.service rect.box{rx:29}
.node.namespace text{font-size:30px;font-weight:600}
.node a:hover rect.box,.node:hover rect.box{stroke-width:2.5}
.split .stable{fill:#38a169}.split .canary{fill:#dd6b20}.split .other{fill:#a0aec0}
.split .want{stroke:#1a202c;stroke-width:2}
.edge path{fill:none;stroke:#718096;stroke-width:1.4}
.edge.warn path{stroke:#dd6b20}.edge.bad path{stroke:#c53030;stroke-width:2}
.edge.tcp path{stroke-dasharray:6 3}
.edge text{font:11px system-ui,sans-serif;fill:#2d3748;paint-order:stroke;stroke:#fff;stroke-width:3px}
";

/// Renders `graph` as SVG.
pub fn render_svg(graph: &Graph) -> String {
    let index: rustc_hash::FxHashMap<&str, usize> =
        graph.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    // Each edge with the node numbers of its ends (an edge to a node the graph lacks is not drawn).
    let ends: Vec<(&Edge, usize, usize)> = graph
        .edges
        .iter()
        .filter_map(|e| Some((e, *index.get(e.source.as_str())?, *index.get(e.target.as_str())?)))
        .collect();
    let pairs: Vec<(usize, usize)> = ends.iter().map(|&(_, s, t)| (s, t)).collect();
    let key = |i: usize| graph.nodes.get(i).map_or_else(String::new, |n| format!("{}/{}", n.namespace, n.name));
    let overview = graph.nodes.iter().any(|n| n.node_type == NodeType::Namespace);
    let look = if overview { OVERVIEW } else { DETAIL };
    let at = layout(graph.nodes.len(), &pairs, &key, look.spacing);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" role="img" aria-label="traffic graph">"#,
        w = at.width.max(200.0),
        h = at.height.max(100.0)
    );
    let _ = write!(
        svg,
        r##"<style>{STYLE}</style><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#718096"/></marker></defs>"##
    );
    svg.push_str(r#"<g class="edges">"#);
    // Past a few hundred edges, or between namespace boxes drawn small, labels only pile up; each edge still says
    // its figures when hovered.
    let labelled = !overview && graph.edges.len() <= MAX_LABELLED_EDGES;
    // Edges between the same two nodes (one per protocol) run side by side, LANE_GAP apart.
    let mut parallel: rustc_hash::FxHashMap<(usize, usize), (usize, usize)> = Default::default();
    for &pair in &pairs {
        parallel.entry(pair).or_default().0 += 1;
    }
    for &(e, s, t) in &ends {
        let (count, drawn) = parallel.entry((s, t)).or_default();
        let lane = (*drawn as f64 - (*count as f64 - 1.0) / 2.0) * LANE_GAP;
        *drawn += 1;
        if let (Some(&from), Some(&to)) = (at.positions.get(s), at.positions.get(t)) {
            let ends = Ends { from, to, self_loop: s == t, lane };
            edge(&mut svg, e, look.spacing, ends, labelled);
        }
    }
    svg.push_str(r#"</g><g class="nodes">"#);
    for (n, &(x, y)) in graph.nodes.iter().zip(&at.positions) {
        node(&mut svg, n, look, x, y);
    }
    svg.push_str("</g></svg>\n");
    svg
}

fn node(svg: &mut String, n: &Node, look: Look, x: f64, y: f64) {
    let (w, h) = (look.spacing.node_width, look.spacing.node_height);
    let mut classes = vec!["node", node_type_class(n.node_type)];
    for (flag, class) in [
        (n.is_idle, "idle"),
        (n.is_ghost, "ghost"),
        (n.is_outside, "outside"),
        (!n.revisions.is_empty(), "rollout"),
        (n.is_waypoint, "waypoint"),
    ] {
        if flag {
            classes.push(class);
        }
    }
    let _ = write!(svg, r#"<g class="{}" data-id="{}" data-name="{}">"#, classes.join(" "), esc(&n.id), esc(&n.name));
    if let Some(url) = &n.url {
        let _ = write!(svg, r#"<a href="{}">"#, esc(url));
    }
    let _ = write!(svg, r#"<title>{}</title>"#, esc(&tooltip(n)));
    let _ = write!(svg, r#"<rect class="box" x="{x:.1}" y="{y:.1}" width="{w:.0}" height="{h:.0}" rx="6"/>"#);
    let name = esc(&clip(&n.name, look.name_chars));
    let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}">{name}</text>"#, x + 10.0, y + look.name_y);
    if let Some(sub_y) = look.sub_y {
        let sub = esc(&clip(&subtitle(n), 32));
        let _ = write!(svg, r#"<text class="sub" x="{:.1}" y="{:.1}">{sub}</text>"#, x + 10.0, y + sub_y);
    }
    if !n.revisions.is_empty() {
        split_bar(svg, n, x + 10.0, y + 44.0, w - 20.0);
    }
    if n.url.is_some() {
        svg.push_str("</a>");
    }
    svg.push_str("</g>");
}

fn node_type_class(t: NodeType) -> &'static str {
    match t {
        NodeType::Workload => "workload",
        NodeType::App => "app",
        NodeType::Service => "service",
        NodeType::Unknown => "unknown",
        NodeType::Namespace => "namespace",
    }
}

/// Under the name: what the node is, and what is special about it.
fn subtitle(n: &Node) -> String {
    let what = match n.node_type {
        NodeType::Workload if n.is_waypoint => "waypoint".into(),
        NodeType::Workload => n.workload_kind.as_ref().map_or_else(|| "workload".into(), KindName::to_string),
        NodeType::App => n.version.clone().map_or_else(|| "app".into(), |v| format!("app {v}")),
        NodeType::Service => "service".into(),
        NodeType::Unknown => "no sidecar".into(),
        NodeType::Namespace => return format!("namespace · {} workloads", n.workloads.len()),
    };
    let state = if n.is_ghost {
        " · ghost"
    } else if n.is_outside {
        " · outside"
    } else if n.is_idle {
        " · idle"
    } else {
        ""
    };
    match n.node_type {
        NodeType::Unknown => what,
        _ => format!("{what} · {}{state}", n.namespace),
    }
}

fn tooltip(n: &Node) -> String {
    let mut t = format!("{} ({})", n.name, subtitle(n));
    if let Some(reason) = &n.ghost_reason {
        let _ = write!(t, "\n{reason}");
    }
    let _ = write!(t, "\nin {:.2} rps, out {:.2} rps", n.traffic.rps_in, n.traffic.rps_out);
    for r in &n.revisions {
        let _ = write!(
            t,
            "\n{} {}: observed {}, intended {}, routed {}",
            r.role.as_str(),
            r.replica_set,
            whole_percent(r.observed_share),
            whole_percent(r.intended_weight),
            whole_percent(r.routed_weight)
        );
    }
    let routes: Vec<String> = n.split.iter().flat_map(|s| &s.routes).map(ToString::to_string).collect();
    if !routes.is_empty() {
        let _ = write!(t, "\nrouted by {}", routes.join(", "));
    }
    t
}

/// A bar of the observed shares per revision, with a tick where the canary's intended weight ends.
fn split_bar(svg: &mut String, n: &Node, x: f64, y: f64, width: f64) {
    let _ = write!(svg, r#"<g class="split">"#);
    let mut offset = 0.0;
    let mut ordered: Vec<_> = n.revisions.iter().collect();
    ordered.sort_by_key(|r| match r.role {
        TrafficRole::Stable => 0,
        TrafficRole::Canary => 1,
        TrafficRole::Other => 2,
    });
    for r in &ordered {
        let share = r.observed_share.unwrap_or(0.0).clamp(0.0, 1.0);
        if share <= 0.0 {
            continue;
        }
        let _ = write!(
            svg,
            r#"<rect class="{}" x="{:.1}" y="{y:.1}" width="{:.1}" height="7"><title>{} {}: observed {}</title></rect>"#,
            r.role.as_str(),
            x + offset * width,
            share * width,
            r.role.as_str(),
            esc(&r.replica_set),
            whole_percent(r.observed_share)
        );
        offset += share;
    }
    let stable_want: f64 =
        ordered.iter().filter(|r| r.role == TrafficRole::Stable).filter_map(|r| r.intended_weight).sum();
    if ordered.iter().any(|r| r.intended_weight.is_some()) {
        let tick = x + stable_want.clamp(0.0, 1.0) * width;
        let _ = write!(
            svg,
            r#"<line class="want" x1="{tick:.1}" x2="{tick:.1}" y1="{:.1}" y2="{:.1}"/>"#,
            y - 2.0,
            y + 9.0
        );
    }
    svg.push_str("</g>");
}

/// Vertical distance between edges that join the same two nodes.
const LANE_GAP: f64 = 14.0;

/// Where an edge runs: the top-left corners of its nodes, and how far (pixels) off the middle of their sides.
struct Ends {
    from: (f64, f64),
    to: (f64, f64),
    self_loop: bool,
    lane: f64,
}

fn edge(svg: &mut String, e: &Edge, spacing: Spacing, ends: Ends, labelled: bool) {
    let Ends { from, to, self_loop, lane } = ends;
    let (w, h) = (spacing.node_width, spacing.node_height);
    // Edges warn from 1% errors and are bad from 5%: the levels a canary decision looks at.
    let severity = match e.error_ratio {
        r if r >= 0.05 => " bad",
        r if r >= 0.01 => " warn",
        _ => "",
    };
    let tcp = if e.protocol == Protocol::Tcp { " tcp" } else { "" };
    let _ = write!(
        svg,
        r#"<g class="edge{severity}{tcp}" data-source="{}" data-target="{}">"#,
        esc(&e.source),
        esc(&e.target)
    );
    let (sx, sy) = (from.0 + w, from.1 + h / 2.0 + lane);
    let (tx, ty) = (to.0, to.1 + h / 2.0 + lane);
    let (path, lx, ly) = if self_loop {
        let (x, y) = (from.0 + w * 0.7, from.1);
        (format!("M{x:.1},{y:.1} c 30,-40 60,-10 30,10"), x + 20.0, y - 24.0)
    } else if tx > sx {
        let bend = (tx - sx) / 2.0;
        (
            format!("M{sx:.1},{sy:.1} C{:.1},{sy:.1} {:.1},{ty:.1} {tx:.1},{ty:.1}", sx + bend, tx - bend),
            (sx + tx) / 2.0,
            (sy + ty) / 2.0 - 4.0,
        )
    } else {
        // A call back to an earlier layer: leave from the bottom, arrive at the bottom.
        let (bx, by) = (from.0 + w / 2.0 + lane, from.1 + h);
        let (ex, ey) = (to.0 + w / 2.0 + lane, to.1 + h);
        let dip = by.max(ey) + 40.0;
        (format!("M{bx:.1},{by:.1} C{bx:.1},{dip:.1} {ex:.1},{dip:.1} {ex:.1},{ey:.1}"), (bx + ex) / 2.0, dip - 6.0)
    };
    let label = esc(&edge_label(e));
    let _ = write!(svg, r#"<path d="{path}" marker-end="url(#arrow)"><title>{label}</title></path>"#);
    if labelled {
        let _ = write!(svg, r#"<text x="{lx:.1}" y="{ly:.1}" text-anchor="middle">{label}</text>"#);
    }
    svg.push_str("</g>");
}

/// `12.0 rps · 1.1% err · 50%` (HTTP, gRPC) or `3.2 kB/s` (TCP).
pub fn edge_label(e: &Edge) -> String {
    if let Some(bytes) = e.tcp_bytes_per_s() {
        let mut label = human_bytes(bytes);
        if let Some(share) = e.share {
            let _ = write!(label, " · {:.0}%", share * 100.0);
        }
        return label;
    }
    let mut label = format!("{:.1} rps", e.rps);
    if e.error_ratio > 0.0 {
        let _ = write!(label, " · {:.1}% err", e.error_ratio * 100.0);
    }
    if let Some(share) = e.share {
        let _ = write!(label, " · {:.0}%", share * 100.0);
    }
    label
}

fn human_bytes(per_s: f64) -> String {
    match per_s {
        b if b >= 1e6 => format!("{:.1} MB/s", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB/s", b / 1e3),
        b => format!("{b:.0} B/s"),
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut t: String = text.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// Escapes text for XML content and attribute values. XML forbids most control characters, and bidirectional
/// controls would reorder what is drawn: both are shown escaped, as in text outputs.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape(text, Newlines::Keep).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphType, QueryStats};

    /// The namespace overview of `count` namespaces none of which calls another: all in one layer, the tallest case.
    fn overview(count: usize) -> Graph {
        let nodes: Vec<Node> = (0..count)
            .map(|i| {
                let ns = format!("team-{i:04}");
                Node::new(&format!("ns:{ns}"), NodeType::Namespace, "Kubernetes", &ns, &ns)
            })
            .collect();
        Graph {
            graph_type: GraphType::Workload,
            time: String::new(),
            duration: "10m".into(),
            namespaces: Vec::new(),
            nodes,
            edges: Vec::new(),
            edge_latency: false,
            warnings: Vec::new(),
            telemetry: QueryStats::default(),
        }
    }

    #[test]
    fn the_overview_of_400_namespaces_fits_a_page_with_readable_boxes() {
        for count in [200, 400] {
            let svg = render_svg(&overview(count));
            let view_box = svg.split("viewBox=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default();
            let size: Vec<f64> = view_box.split(' ').filter_map(|v| v.parse().ok()).collect();
            let [_, _, width, height] = size[..] else { panic!("a viewBox: {view_box}") };
            // The graph page's canvas in a 1440 × 1000 window: about 1390 × 740 px.
            let scale = (1390.0 / width).min(740.0 / height);
            let (box_px, name_px) = (scale * OVERVIEW.spacing.node_width, scale * 30.0);
            assert!(box_px >= 40.0 && name_px >= 10.0, "{count}: boxes {box_px:.0} px, names {name_px:.1} px");
            assert_eq!(svg.matches("<g class=\"node namespace").count(), count);
        }
    }
}
