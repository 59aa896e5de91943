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
/// Reads a timestamp from ISO 8601 text (serde's `deserialize_with`).
pub fn deserialize_timestamp<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Timestamp, D::Error> {
    let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    parse_timestamp(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("'{text}' is not an ISO 8601 date-time")))
}

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

/// A clock that moves only when told to: `picket serve --clock manual`, so tests (and users
/// testing their own tools) see "ten minutes of silence" in milliseconds.
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<Timestamp>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: std::sync::Mutex::new(start),
        }
    }

    /// Moves time forward (never back) and returns the new time.
    pub fn advance(&self, by: chrono::Duration) -> Timestamp {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        if by > chrono::Duration::zero() {
            *now += by;
        }
        *now
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
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
