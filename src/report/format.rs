//! The one way numbers are written for people: dollars, percentages, skills, durations and significant
//! digits, shared by the summary, report.md, the plots, `predict` and the progress line. Undefined
//! values (NaN, infinities) read `n/a` everywhere.

/// `$12.34`, negative as `−$1.20`.
pub fn dollars(x: f64) -> String {
    if !x.is_finite() {
        "n/a".to_string()
    } else if x < 0.0 {
        format!("−${:.2}", -x)
    } else {
        format!("${x:.2}")
    }
}

/// A share as a percentage with one decimal: `57.0%`.
pub fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "n/a".to_string()
    }
}

/// A skill (or any signed score) with its sign and three decimals: `+0.012`, `-0.601`.
pub fn signed(x: f64) -> String {
    if x.is_finite() {
        format!("{x:+.3}")
    } else {
        "n/a".to_string()
    }
}

/// The plural ending of a count: "" for 1, "s" otherwise.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A duration: `8.4 s` below a minute, `3m05s` below an hour, `1h02m` beyond.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "n/a".to_string();
    }
    if secs < 60.0 {
        return format!("{secs:.1} s");
    }
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// `x` with `digits` significant digits, plain decimal for ordinary magnitudes and scientific notation
/// for very small or large ones (a scaled MSE is often around 1e-4).
pub fn sig(x: f64, digits: usize) -> String {
    significant(x, digits, -3..6)
}

/// `x` with `digits` significant digits: plain decimals while its decimal exponent lies in `plain`,
/// scientific notation outside.
pub fn significant(x: f64, digits: usize, plain: std::ops::Range<i32>) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !plain.contains(&magnitude) {
        return format!("{:.*e}", digits.saturating_sub(1), x);
    }
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_says_n_a_for_undefined_values() {
        for f in [dollars, percent, signed, duration] {
            assert_eq!(f(f64::NAN), "n/a");
        }
        assert_eq!(sig(f64::INFINITY, 3), "n/a");
    }

    #[test]
    fn formats_read_as_documented() {
        assert_eq!(dollars(226.594), "$226.59");
        assert_eq!(dollars(-1.2), "−$1.20");
        assert_eq!(percent(0.5704), "57.0%");
        assert_eq!(signed(-0.6012), "-0.601");
        assert_eq!(duration(8.44), "8.4 s");
        assert_eq!(duration(185.0), "3m05s");
        assert_eq!(duration(3720.0), "1h02m");
        assert_eq!(sig(0.000123456, 3), "1.23e-4");
        assert_eq!(sig(4.3812, 3), "4.38");
    }
}
