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

/// Published classic releases, oldest first, with when each was published (the delayed
/// ring updates 72 hours after that).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseCatalogue {
    versions: Vec<String>,
    published: Vec<(String, crate::time::Timestamp)>,
}

/// How long the delayed-deployment ring waits after a release (spec §4.7).
pub fn delayed_ring_wait() -> chrono::Duration {
    chrono::Duration::hours(72)
}

impl ReleaseCatalogue {
    pub fn new(mut versions: Vec<String>) -> Self {
        versions.sort_by(|a, b| compare_versions(a, b));
        versions.dedup_by(|a, b| compare_versions(a, b).is_eq());
        Self {
            versions,
            published: Vec::new(),
        }
    }

    /// A catalogue whose releases carry their publication times.
    pub fn with_dates(releases: Vec<(String, crate::time::Timestamp)>) -> Self {
        let mut c = Self::new(releases.iter().map(|(v, _)| v.clone()).collect());
        c.published = releases;
        c
    }

    /// When `version` was published; `None` for releases known without a date (always due).
    pub fn published_at(&self, version: &str) -> Option<crate::time::Timestamp> {
        self.published
            .iter()
            .find(|(v, _)| compare_versions(v, version).is_eq())
            .map(|(_, t)| *t)
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
