//! Times and durations as meshlens reads and writes them: `--at`/`at=` times, query windows (`10m`), the Argo
//! CLI's Go durations (`1h30m`) and ages as kubectl prints them (`3m20s`). The one place they are parsed and printed.

/// Parses a time given as RFC 3339 (`2026-11-25T10:00:00Z`) or unix seconds.
pub fn parse_time(text: &str) -> Result<jiff::Timestamp, TimeError> {
    if let Ok(seconds) = text.parse::<i64>() {
        return jiff::Timestamp::from_second(seconds).map_err(|e| TimeError(format!("time {text:?}: {e}")));
    }
    text.parse::<jiff::Timestamp>().map_err(|e| {
        TimeError(format!("time {text:?} is neither RFC 3339 (2026-11-25T10:00:00Z) nor unix seconds: {e}"))
    })
}

/// A time or duration that could not be read, saying what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(String);

/// The longest window a query may look back over, from the CLI or the API: past it, a rate says little and the
/// arithmetic on times would near the edge of what a timestamp holds.
pub const MAX_WINDOW_S: u64 = 30 * 86_400;

/// A query window (`--duration`, `duration=`): a duration from one second to [`MAX_WINDOW_S`].
pub fn parse_window(text: &str) -> Result<u64, TimeError> {
    parse_duration(text)
        .filter(|s| *s <= MAX_WINDOW_S)
        .ok_or_else(|| TimeError(format!("{text:?} is not a duration between 1s and 30d (like 30s, 10m, 1h)")))
}

/// Parses `30s`, `5m`, `1h`, `2d` (or plain seconds).
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().ok()?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(factor).filter(|s| *s > 0)
}

/// Parses a Go duration as the Argo CLI's `--timeout` takes one (`90s`, `2m`, `1h30m`, `1.5s`, `500ms`; `0`).
pub fn parse_go_duration(text: &str) -> Result<std::time::Duration, TimeError> {
    let bad = || TimeError(format!("{text:?} is not a duration like 30s, 2m or 1h30m"));
    if text == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    let (mut rest, mut seconds) = (text, 0.0);
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let (number, tail) = rest.split_at(number_end);
        let (unit, tail) = tail.split_at(tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len()));
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        seconds += number.parse::<f64>().map_err(|_| bad())? * scale;
        rest = tail;
    }
    std::time::Duration::try_from_secs_f64(seconds).ok().filter(|d| !d.is_zero()).ok_or_else(bad)
}

/// `600` → `10m`, `90` → `90s`, `7200` → `2h`.
pub fn format_duration(seconds: u64) -> String {
    match seconds {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// A duration the way Kubernetes prints ages (`45s`, `3m20s`, `5h`, `7d`, `2y30d`).
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let s = seconds.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    let with = |big: i64, unit: &str, small: i64, small_unit: &str| {
        if small == 0 { format!("{big}{unit}") } else { format!("{big}{unit}{small}{small_unit}") }
    };
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        with(m, "m", s % 60, "s")
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        with(h, "h", m % 60, "m")
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        with(d, "d", h % 24, "h")
    } else if h < 24 * 365 * 2 {
        format!("{d}d")
    } else if h < 24 * 365 * 8 {
        with(d / 365, "y", d % 365, "d")
    } else {
        format!("{}y", d / 365)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("10m"), Some(600));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("-5m"), None);
        assert_eq!(parse_duration("300000000000000d"), None, "overflows u64 seconds");
        assert!(parse_window("200000000000d").is_err());
        assert_eq!(parse_window("30d"), Ok(MAX_WINDOW_S));
        assert!(parse_window("31d").is_err());
        assert!(parse_window("2000000000d").is_err());
        assert!(parse_window("0").is_err());
        assert_eq!(format_duration(600), "10m");
        assert_eq!(format_duration(90), "90s");
        assert_eq!(format_duration(7200), "2h");
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(200), "3m20s");
        assert_eq!(human_duration(3600 * 5), "5h");
        assert_eq!(human_duration(86_400 * 7), "7d");
        assert_eq!(human_duration(86_400 * 3 + 3600), "3d1h");
        assert_eq!(human_duration(86_400 * 400), "400d");
        assert_eq!(human_duration(-30), "<invalid>");
    }

    #[test]
    fn go_durations_read_as_the_argo_cli_reads_them() {
        assert_eq!(parse_go_duration("1h30m"), Ok(std::time::Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("500ms"), Ok(std::time::Duration::from_millis(500)));
        assert_eq!(parse_go_duration("0"), Ok(std::time::Duration::ZERO));
        assert!(parse_go_duration("5x").is_err());
    }
}
