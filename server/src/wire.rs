//! Server values as the shared API types carry them (`bmms_shared::api`): that crate
//! has no chrono, so times and dates cross as strings, written here exactly as chrono's
//! serde wrote them when the server built its bodies with `json!`.

use bmms_shared::api::{Date, Timestamp};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// `2026-12-04T09:00:00.123456Z`.
pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub fn maybe_timestamp(at: Option<DateTime<Utc>>) -> Option<Timestamp> {
    at.map(timestamp)
}

/// `2026-12-04`.
pub fn date(day: NaiveDate) -> Date {
    day.to_string()
}

pub fn maybe_date(day: Option<NaiveDate>) -> Option<Date> {
    day.map(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strings must be the bytes `serde_json` wrote for the chrono values, or the
    /// dashboard's ETag changes and the app's parsing may fail.
    #[test]
    fn times_and_dates_are_written_as_chrono_serde_wrote_them() {
        for at in [
            DateTime::from_timestamp(1_796_374_800, 0).unwrap(),
            DateTime::from_timestamp(1_796_374_800, 123_000_000).unwrap(),
            DateTime::from_timestamp(1_796_374_800, 123_456_000).unwrap(),
            DateTime::from_timestamp(1_796_374_800, 123_456_789).unwrap(),
        ] {
            assert_eq!(serde_json::to_value(at).unwrap(), serde_json::Value::String(timestamp(at)));
        }
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(serde_json::to_value(day).unwrap(), serde_json::Value::String(date(day)));
    }
}
