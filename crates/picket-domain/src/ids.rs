//! Newtype ids, so a sensor id can never be passed where a tenant id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            /// A fresh random id in Graph's GUID form.
            pub fn generate() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// An Entra tenant (the `tid` claim); every stored row belongs to one.
    TenantId
);
string_id!(SensorId);
string_id!(HealthIssueId);
string_id!(
    /// A sensor candidate's id: the "server id" that `activate` takes.
    CandidateId
);

impl TenantId {
    /// Tenant ids are GUIDs; anything else is refused before it reaches the store.
    pub fn parse(value: &str) -> Option<Self> {
        uuid::Uuid::parse_str(value)
            .ok()
            .map(|u| Self(u.hyphenated().to_string()))
    }
}
