//! Classic (v2.x) sensor releases: version order and how far behind a sensor is.

use std::cmp::Ordering;

/// `2.239.18124.58593` as numbers; anything that is not a number counts as 0, so a malformed
/// version sorts first rather than failing.
pub fn version_parts(version: &str) -> Vec<u64> {
    version
        .trim()
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (a, b) = (version_parts(a), version_parts(b));
    let len = a.len().max(b.len());
    (0..len)
        .map(|i| {
            a.get(i)
                .copied()
                .unwrap_or(0)
                .cmp(&b.get(i).copied().unwrap_or(0))
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

pub fn major(version: &str) -> u64 {
    version_parts(version).first().copied().unwrap_or(0)
}

/// A valid release version: two to four dot-separated numbers, major 2 (classic sensors).
pub fn is_classic_version(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    (2..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
        && major(version) == 2
}

/// Published classic releases, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseCatalogue {
    versions: Vec<String>,
}

impl ReleaseCatalogue {
    pub fn new(mut versions: Vec<String>) -> Self {
        versions.sort_by(|a, b| compare_versions(a, b));
        versions.dedup_by(|a, b| compare_versions(a, b).is_eq());
        Self { versions }
    }

    pub fn latest(&self) -> Option<&str> {
        self.versions.last().map(String::as_str)
    }

    /// How many published releases are newer than `version`.
    pub fn releases_newer_than(&self, version: &str) -> usize {
        self.versions
            .iter()
            .filter(|v| compare_versions(v, version).is_gt())
            .count()
    }

    pub fn versions(&self) -> &[String] {
        &self.versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_numerically_and_counts_newer_releases() {
        assert!(compare_versions("2.10.0", "2.9.9").is_gt());
        assert!(compare_versions("2.239.18124.58593", "2.239.18124.58593").is_eq());
        assert!(compare_versions("2.239", "2.239.0.0").is_eq());
        assert!(compare_versions("x.y", "2.0").is_lt());
        let c = ReleaseCatalogue::new(vec![
            "2.250.1".into(),
            "2.248.0".into(),
            "2.249.0".into(),
            "2.248.0.0".into(),
        ]);
        assert_eq!(c.versions(), ["2.248.0", "2.249.0", "2.250.1"]);
        assert_eq!(c.latest(), Some("2.250.1"));
        assert_eq!(c.releases_newer_than("2.248.0"), 2);
        assert_eq!(c.releases_newer_than("2.100.0"), 3);
        assert_eq!(c.releases_newer_than("2.250.1"), 0);
        assert!(is_classic_version("2.239.18124.58593"));
        for bad in ["3.1.0.0", "2", "2..1", "2.a.1", "", "2.1.2.3.4"] {
            assert!(!is_classic_version(bad), "{bad}");
        }
    }
}
