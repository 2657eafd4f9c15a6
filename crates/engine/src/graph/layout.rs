//! A layered (dot-like) layout of a graph, left to right: callers before the workloads they call. Cycles are broken
//! by reversing the edges a depth-first search finds going back, nodes are put in the layer of their longest path
//! from a root, and each layer is ordered by the barycentre of its neighbours to keep edges from crossing.
#![expect(
    clippy::indexing_slicing,
    reason = "every table here is sized by the node count, and edges are checked against it on entry"
)]

use rustc_hash::FxHashMap;

/// Where each node goes, in the same units as the sizes asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Top-left corner of each node, by node index.
    pub positions: Vec<(f64, f64)>,
    pub width: f64,
    pub height: f64,
}

/// Spacing of a layout.
#[derive(Debug, Clone, Copy)]
pub struct Spacing {
    pub node_width: f64,
    pub node_height: f64,
    /// Between layers (horizontal) and between nodes of a layer (vertical).
    pub layer_gap: f64,
    pub node_gap: f64,
    pub margin: f64,
}

/// Lays out `count` nodes joined by `edges` (indices, source → target). `order_key` breaks ties (stable output).
pub fn layout(count: usize, edges: &[(usize, usize)], order_key: &dyn Fn(usize) -> String, spacing: Spacing) -> Layout {
    let edges: Vec<(usize, usize)> = edges.iter().copied().filter(|&(s, t)| s < count && t < count).collect();
    let forward = acyclic(count, &edges);
    let layers = longest_path_layers(count, &forward);
    let mut rows = order_layers(count, &forward, &layers, order_key);
    rows.retain(|row| !row.is_empty());
    // A layer far taller than the drawing is wide (the namespace overview of a large mesh, where most namespaces
    // call nothing drawn and sit in the first layer) is wrapped into several columns of at most `cap` nodes.
    let cap = column_cap(&rows, spacing);
    let rows: Vec<&[usize]> = rows.iter().flat_map(|row| row.chunks(cap)).collect();
    // A long chain of layers is folded into bands, left to right then the next band down, so a deep graph stays
    // near the shape of a screen instead of one endless line.
    let tallest = rows.iter().map(|r| r.len()).max().unwrap_or(0) as f64;
    let row_pitch = spacing.node_height + spacing.node_gap;
    let band_height = tallest * row_pitch + spacing.node_gap;
    let column_width = spacing.node_width + spacing.layer_gap;
    let layers = rows.len().max(1);
    // Fold only what is far wider than tall, into bands about twice as wide as they are stacked high.
    let per_band = if layers > 8 && layers as f64 * column_width > 3.0 * band_height {
        ((2.0 * layers as f64 * band_height / column_width).sqrt().ceil() as usize).clamp(1, layers)
    } else {
        layers
    };
    let bands = rows.len().div_ceil(per_band).max(1);
    let height = 2.0 * spacing.margin + (bands as f64 * band_height - 2.0 * spacing.node_gap).max(0.0);
    let mut positions = vec![(0.0, 0.0); count];
    for (layer, row) in rows.iter().enumerate() {
        let (band, column) = (layer / per_band, layer % per_band);
        let x = spacing.margin + column as f64 * (spacing.node_width + spacing.layer_gap);
        // Centre each layer vertically in its band so short layers sit beside the middle of tall ones.
        let top = spacing.margin + band as f64 * band_height + (tallest - row.len() as f64) * row_pitch / 2.0;
        for (i, &node) in row.iter().enumerate() {
            positions[node] = (x, top + i as f64 * row_pitch);
        }
    }
    let columns = rows.len().min(per_band) as f64;
    let width =
        2.0 * spacing.margin + (columns * (spacing.node_width + spacing.layer_gap) - spacing.layer_gap).max(0.0);
    Layout { positions, width, height }
}

/// Width over height a drawing should approach: a wide screen's.
const SCREEN_SHAPE: f64 = 2.0;
/// Layers up to this many nodes are never wrapped.
const WRAP_FROM: usize = 8;

/// The most nodes a column holds: the tallest layer, unless the drawing would be far taller than a screen's shape
/// (under a quarter of its width over height); then the height that brings it closest to that shape.
fn column_cap(rows: &[Vec<usize>], spacing: Spacing) -> usize {
    let tallest = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let shape = |cap: usize| {
        let columns: usize = rows.iter().map(|r| r.len().div_ceil(cap)).sum();
        columns as f64 * (spacing.node_width + spacing.layer_gap)
            / (cap as f64 * (spacing.node_height + spacing.node_gap))
    };
    if tallest <= WRAP_FROM || shape(tallest) >= SCREEN_SHAPE / 4.0 {
        return tallest;
    }
    let distance = |cap: usize| (shape(cap) / SCREEN_SHAPE).ln().abs();
    (WRAP_FROM..=tallest).min_by(|&a, &b| distance(a).total_cmp(&distance(b))).unwrap_or(tallest)
}

/// The edges with those closing a cycle reversed, and self-loops dropped.
fn acyclic(count: usize, edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(s, t) in edges.iter().filter(|(s, t)| s != t) {
        out[s].push(t);
    }
    // 0: unvisited, 1: on the current path, 2: done. Iterative, so deep graphs cannot overflow the stack.
    let mut state = vec![0u8; count];
    let mut back: FxHashMap<(usize, usize), ()> = FxHashMap::default();
    for root in 0..count {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some((node, next)) = stack.pop() {
            if let Some(&target) = out[node].get(next) {
                stack.push((node, next + 1));
                match state[target] {
                    0 => {
                        state[target] = 1;
                        stack.push((target, 0));
                    }
                    1 => {
                        back.insert((node, target), ());
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
            }
        }
    }
    edges
        .iter()
        .filter(|(s, t)| s != t)
        .map(|&(s, t)| if back.contains_key(&(s, t)) { (t, s) } else { (s, t) })
        .collect()
}

/// Layer of each node: the length of the longest path reaching it (roots are 0).
fn longest_path_layers(count: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut indegree = vec![0usize; count];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(s, t) in edges {
        out[s].push(t);
        indegree[t] += 1;
    }
    let mut layer = vec![0usize; count];
    let mut ready: Vec<usize> = (0..count).filter(|&n| indegree[n] == 0).collect();
    while let Some(node) = ready.pop() {
        for &t in &out[node] {
            layer[t] = layer[t].max(layer[node] + 1);
            indegree[t] -= 1;
            if indegree[t] == 0 {
                ready.push(t);
            }
        }
    }
    layer
}

/// Nodes per layer, ordered by a few sweeps of the barycentre heuristic.
fn order_layers(
    count: usize,
    edges: &[(usize, usize)],
    layers: &[usize],
    order_key: &dyn Fn(usize) -> String,
) -> Vec<Vec<usize>> {
    let depth = layers.iter().copied().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); depth];
    let mut keyed: Vec<(String, usize)> = (0..count).map(|n| (order_key(n), n)).collect();
    keyed.sort();
    for (_, n) in keyed {
        rows[layers[n]].push(n);
    }
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(s, t) in edges {
        neighbours[s].push(t);
        neighbours[t].push(s);
    }
    let mut position = vec![0.0; count];
    let place = |rows: &Vec<Vec<usize>>, position: &mut Vec<f64>| {
        for row in rows {
            for (i, &n) in row.iter().enumerate() {
                position[n] = i as f64 / row.len().max(1) as f64;
            }
        }
    };
    place(&rows, &mut position);
    for sweep in 0..6 {
        let order: Vec<usize> =
            if sweep % 2 == 0 { (1..depth).collect() } else { (0..depth.saturating_sub(1)).rev().collect() };
        for l in order {
            let row = &mut rows[l];
            let centre = |n: usize| {
                let ns = &neighbours[n];
                if ns.is_empty() { position[n] } else { ns.iter().map(|&m| position[m]).sum::<f64>() / ns.len() as f64 }
            };
            let mut scored: Vec<(f64, usize)> = row.iter().map(|&n| (centre(n), n)).collect();
            scored.sort_by(|a, b| a.0.total_cmp(&b.0));
            *row = scored.into_iter().map(|(_, n)| n).collect();
            for (i, &n) in row.iter().enumerate() {
                position[n] = i as f64 / row.len().max(1) as f64;
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPACING: Spacing =
        Spacing { node_width: 100.0, node_height: 40.0, layer_gap: 50.0, node_gap: 10.0, margin: 5.0 };

    fn key(n: usize) -> String {
        format!("{n:03}")
    }

    #[test]
    fn callers_sit_left_of_what_they_call() {
        // 0 → 1 → 2, 0 → 2: 2 is two layers right of 0 (longest path), 1 between.
        let l = layout(3, &[(0, 1), (1, 2), (0, 2)], &key, SPACING);
        let x = |n: usize| l.positions[n].0;
        assert!(x(0) < x(1) && x(1) < x(2), "{l:?}");
        assert_eq!(l.width, 2.0 * 5.0 + 3.0 * 100.0 + 2.0 * 50.0);
    }

    #[test]
    fn cycles_and_self_loops_still_lay_out() {
        let l = layout(3, &[(0, 1), (1, 2), (2, 0), (1, 1)], &key, SPACING);
        let xs: std::collections::BTreeSet<i64> = l.positions.iter().map(|p| p.0 as i64).collect();
        assert_eq!(xs.len(), 3, "a 3-cycle is three layers once one edge is reversed: {l:?}");
    }

    #[test]
    fn nodes_of_a_layer_do_not_overlap() {
        let edges: Vec<(usize, usize)> = (1..6).map(|t| (0, t)).collect();
        let l = layout(6, &edges, &key, SPACING);
        let mut ys: Vec<f64> = (1..6).map(|n| l.positions[n].1).collect();
        ys.sort_by(f64::total_cmp);
        assert!(ys.windows(2).all(|w| w[1] - w[0] >= 40.0 + 10.0 - 1e-9), "{ys:?}");
        assert!(l.height >= 5.0 * 50.0);
    }

    #[test]
    fn long_chains_fold_into_bands() {
        let edges: Vec<(usize, usize)> = (0..49).map(|i| (i, i + 1)).collect();
        let l = layout(50, &edges, &key, SPACING);
        assert!(l.width < 16.0 * 150.0 && l.height > 3.0 * 50.0, "about screen-shaped: {} × {}", l.width, l.height);
        let distinct: std::collections::BTreeSet<(i64, i64)> =
            l.positions.iter().map(|&(x, y)| (x as i64, y as i64)).collect();
        assert_eq!(distinct.len(), 50, "no two nodes in one place");
    }

    #[test]
    fn a_layer_far_taller_than_wide_wraps_into_columns_of_a_screens_shape() {
        // 200 nodes, a few edges: nearly all are roots in one layer.
        let edges = [(0, 1), (2, 3), (4, 5)];
        let l = layout(200, &edges, &key, SPACING);
        let shape = l.width / l.height;
        assert!((1.0..4.0).contains(&shape), "about a screen's shape: {} × {}", l.width, l.height);
        let distinct: std::collections::BTreeSet<(i64, i64)> =
            l.positions.iter().map(|&(x, y)| (x as i64, y as i64)).collect();
        assert_eq!(distinct.len(), 200, "no two nodes in one place");
        // A small graph keeps its one column per layer.
        let small = layout(6, &[(0, 1), (0, 2), (0, 3), (0, 4), (0, 5)], &key, SPACING);
        let xs: std::collections::BTreeSet<i64> = small.positions.iter().map(|p| p.0 as i64).collect();
        assert_eq!(xs.len(), 2, "{small:?}");
    }

    #[test]
    fn barycentres_uncross_edges() {
        // Layer 0: a(0), b(1); layer 1: c(2), d(3). a → d and b → c cross in key order; the sweep uncrosses them.
        let l = layout(4, &[(0, 3), (1, 2)], &key, SPACING);
        let y = |n: usize| l.positions[n].1;
        assert_eq!(y(0) < y(1), y(3) < y(2), "{l:?}");
    }
}
