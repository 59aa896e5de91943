//! Graph's DateTimeOffset wire format: UTC with exactly seven fractional digits
//! (spec §3.9). Stored in the same form, so text order is time order.

use chrono::{DateTime, SecondsFormat, Utc};

pub type Timestamp = DateTime<Utc>;

/// `2023-11-16T09:41:24.2585071Z`.
pub fn format_timestamp(t: &Timestamp) -> String {
    let nanos = t.timestamp_subsec_nanos() % 1_000_000_000;
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), nanos / 100)
}

/// Accepts any RFC 3339 form (offsets are converted to UTC).
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Graph error envelopes carry `YYYY-MM-DDTHH:MM:SS` without fraction or zone (spec §3.2).
pub fn format_error_date(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
        .trim_end_matches('Z')
        .to_string()
}

/// Where "now" comes from. Production uses [`SystemClock`]; tests and a manual clock can
/// substitute their own, so time never enters the domain any other way.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_digits_round_trip() {
        let t = parse_timestamp("2023-11-16T09:41:24.2585071Z").expect("valid");
        assert_eq!(format_timestamp(&t), "2023-11-16T09:41:24.2585071Z");
        let t = parse_timestamp("2023-11-16T11:41:24+02:00").expect("valid");
        assert_eq!(format_timestamp(&t), "2023-11-16T09:41:24.0000000Z");
        assert_eq!(format_error_date(&t), "2023-11-16T09:41:24");
        assert!(parse_timestamp("yesterday").is_none());
    }
}
