//! PromQL's `rate` and `histogram_quantile` with Prometheus 2.x semantics, so the in-memory backend gives the
//! answers a Prometheus server gives for the same samples.
#![deny(clippy::arithmetic_side_effects)]

/// `rate()` over the samples of one series inside `[start_ms, end_ms]` (closed at both ends, as in Prometheus
/// 2.x): the increase, corrected for counter resets, extrapolated towards the window edges (at most half a sample
/// interval beyond the first and last sample, never below zero), per second of the range. `None` with fewer than
/// two samples.
pub fn extrapolated_rate(samples: &[(i64, f64)], start_ms: i64, end_ms: i64) -> Option<f64> {
    let (&(first_t, first_v), &(last_t, last_v)) = (samples.first()?, samples.last()?);
    if samples.len() < 2 {
        return None;
    }
    let mut correction = 0.0;
    let mut previous = 0.0;
    for &(_, v) in samples {
        if v < previous {
            correction += previous;
        }
        previous = v;
    }
    let mut result = last_v - first_v + correction;
    let mut to_start = seconds_between(start_ms, first_t);
    let to_end = seconds_between(last_t, end_ms);
    let sampled = seconds_between(first_t, last_t);
    let average_step = sampled / samples.len().saturating_sub(1) as f64;
    if result > 0.0 && first_v >= 0.0 {
        // A counter starts at zero: do not extrapolate to before it was zero.
        let to_zero = sampled * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = average_step * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold { to_start } else { average_step / 2.0 };
    interval += if to_end < threshold { to_end } else { average_step / 2.0 };
    result *= interval / sampled;
    Some(result / seconds_between(start_ms, end_ms))
}

/// Seconds from `from_ms` to `to_ms`, in floating point: timestamps read from a file may be anywhere in `i64`,
/// where their difference would overflow.
fn seconds_between(from_ms: i64, to_ms: i64) -> f64 {
    (to_ms as f64 - from_ms as f64) / 1000.0
}

/// `histogram_quantile(q, ...)` of one group's cumulative buckets `(upper bound, count)`: linear interpolation
/// inside the bucket the rank falls in, 0 as the lower bound of the first bucket, the second-highest bound when
/// the rank falls in `+Inf`. NaN without a `+Inf` bucket or without observations.
pub fn bucket_quantile(q: f64, buckets: &mut Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if !buckets.last().is_some_and(|b| b.0 == f64::INFINITY) {
        return f64::NAN;
    }
    buckets.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1 += later.1;
        }
        same
    });
    let mut max = f64::NEG_INFINITY;
    for b in buckets.iter_mut() {
        if b.1 < max {
            b.1 = max;
        } else {
            max = b.1;
        }
    }
    // The `+Inf` bucket holds every observation; the finite buckets below it locate the rank.
    let Some((&(_, observations), finite)) = buckets.split_last() else { return f64::NAN };
    if finite.is_empty() || observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = finite.partition_point(|b| b.1 < rank);
    let Some(&(end, mut count)) = finite.get(b) else {
        // The rank falls in `+Inf`: the highest finite bound is the best answer there is.
        return finite.last().map_or(f64::NAN, |highest| highest.0);
    };
    if b == 0 && end <= 0.0 {
        return end;
    }
    let mut start = 0.0;
    if let Some(&(below, below_count)) = b.checked_sub(1).and_then(|below| finite.get(below)) {
        start = below;
        count -= below_count;
        rank -= below_count;
    }
    start + (end - start) * (rank / count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_of_a_steady_counter_sampled_across_the_window() {
        // 1/s, scraped every 30 s, window of 600 s ending on a sample.
        let samples: Vec<(i64, f64)> = (0..=20).map(|i| (i * 30_000, 1000.0 + 30.0 * i as f64)).collect();
        let rate = extrapolated_rate(&samples, 0, 600_000).unwrap();
        assert!((rate - 1.0).abs() < 1e-12, "{rate}");
    }

    #[test]
    fn rate_extrapolates_at_most_half_a_step_and_not_below_zero() {
        // Series starts inside the window: extrapolate half a step to the start, none to the end.
        let samples = [(300_000, 100.0), (330_000, 130.0), (360_000, 160.0)];
        let rate = extrapolated_rate(&samples, 0, 360_000).unwrap();
        assert!((rate - 75.0 / 360.0).abs() < 1e-12, "{rate}");
        // A young counter (first value small) extrapolates only to its zero point.
        let samples = [(300_000, 3.0), (330_000, 33.0)];
        let rate = extrapolated_rate(&samples, 0, 330_000).unwrap();
        assert!((rate - 33.0 / 330.0).abs() < 1e-12, "{rate}");
        assert!(extrapolated_rate(&samples[..1], 0, 330_000).is_none());
    }

    #[test]
    fn rate_corrects_counter_resets() {
        let samples = [(0, 10.0), (30_000, 40.0), (60_000, 5.0), (90_000, 35.0)];
        let rate = extrapolated_rate(&samples, 0, 90_000).unwrap();
        assert!((rate - 65.0 / 90.0).abs() < 1e-12, "{rate}");
    }

    #[test]
    fn quantiles_interpolate_inside_buckets() {
        let mut b = vec![(10.0, 50.0), (f64::INFINITY, 100.0), (5.0, 10.0), (25.0, 90.0)];
        assert_eq!(bucket_quantile(0.5, &mut b.clone()), 10.0);
        assert!((bucket_quantile(0.7, &mut b.clone()) - 17.5).abs() < 1e-12);
        assert_eq!(bucket_quantile(0.05, &mut b.clone()), 2.5, "from 0 inside the first bucket");
        assert_eq!(bucket_quantile(0.99, &mut b), 25.0, "the +Inf bucket answers with the highest finite bound");
        assert!(bucket_quantile(0.5, &mut vec![(10.0, 5.0)]).is_nan(), "no +Inf bucket");
        assert!(bucket_quantile(0.5, &mut vec![(10.0, 0.0), (f64::INFINITY, 0.0)]).is_nan());
    }

    #[test]
    fn non_monotonic_and_duplicate_buckets_are_repaired() {
        let mut b = vec![(5.0, 10.0), (10.0, 8.0), (10.0, 0.0), (f64::INFINITY, 20.0)];
        assert!((bucket_quantile(0.5, &mut b) - 5.0).abs() < 1e-12);
    }
}
