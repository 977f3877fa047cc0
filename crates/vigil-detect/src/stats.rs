//! Small statistics shared by the compatibility modes.

/// R's default quantile (type 7) of already sorted values: linear
/// interpolation between order statistics at h = (n − 1)·p.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let (a, b) = (sorted[lo], sorted[hi]);
    Some(a + (h - lo as f64) * (b - a))
}

/// Type-7 quantile of unsorted values.
pub fn quantile(values: &[f64], p: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    quantile_sorted(&sorted, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_follow_r_type_7() {
        // R: quantile(c(1, 2, 3, 4), 0.9) == 3.7; quantile(c(5), 0.5) == 5.
        assert!((quantile(&[4.0, 1.0, 3.0, 2.0], 0.9).unwrap() - 3.7).abs() < 1e-12);
        assert_eq!(quantile(&[5.0], 0.5), Some(5.0));
        assert_eq!(quantile(&[1.0, 1.0, 1.0, 10.0], 0.5), Some(1.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
