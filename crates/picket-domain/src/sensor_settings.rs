//! A sensor's settings, declared once: each field with its Graph name, its OData type and the
//! bound a client's value must keep. From the one list come the struct (and its JSON, which the
//! wire shape and fixtures use), the `settings/…` properties of the sensor's schema, and
//! [`SettingsPatch`], which a PATCH fills by Graph name. Adding a setting is adding a line here
//! (and its column in the store). A setting of Picket's own, which Graph's metadata does not
//! declare, is sent only when set (`#[serde(skip_serializing_if = "Option::is_none")]`), so an
//! answer keeps Graph's shape for a client that never uses it.

use crate::limits::{self, OutOfBounds};
use picket_odata::PropType;
use serde::{Deserialize, Deserializer, Serialize};

macro_rules! sensor_settings {
    ($(
        $(#[$meta:meta])*
        $field:ident: $ty:ty = $wire:literal $(| $alias:literal)*, $prop:expr, $check:expr;
    )+) => {
        #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct SensorSettings {
            $(
                $(#[$meta])*
                #[serde(rename = $wire, default $(, alias = $alias)*)]
                pub $field: $ty,
            )+
        }

        impl SensorSettings {
            /// The `settings/…` properties of the sensor's OData schema.
            pub const PROPERTIES: &[(&str, PropType)] =
                &[$((concat!("settings/", $wire), $prop)),+];
        }

        /// A PATCH of `settings`: absent fields keep their value (merge semantics, spec §5 D24).
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct SettingsPatch {
            $(pub $field: Option<$ty>,)+
        }

        impl SettingsPatch {
            /// Reads the field a PATCH names (Graph's name or an alias), within its bound.
            pub fn set<'de, D: Deserializer<'de>>(
                &mut self,
                name: &str,
                value: D,
            ) -> Result<(), SettingError> {
                match name {
                    $($wire $(| $alias)* => {
                        let value = <$ty>::deserialize(value).map_err(|_| {
                            SettingError::WrongType(<$ty as Expected>::EXPECTED)
                        })?;
                        self.$field = Some($check(value)?);
                    })+
                    _ => return Err(SettingError::Unknown),
                }
                Ok(())
            }

            /// `settings` with this patch's fields over them.
            pub fn merged_over(&self, settings: &SensorSettings) -> SensorSettings {
                let mut next = settings.clone();
                $(
                    if let Some(value) = &self.$field {
                        next.$field = value.clone();
                    }
                )+
                next
            }
        }
    };
}

sensor_settings! {
    description: Option<String> = "description", PropType::String, bounded_description;
    domain_controller_dns_names: Vec<String> = "domainControllerDnsNames",
        PropType::StringCollection, limits::domain_controller_names;
    /// `isDelayedUpdateEnabled` is the docs' and PowerShell's name (spec §5 D4).
    is_delayed_deployment_enabled: bool = "isDelayedDeploymentEnabled" | "isDelayedUpdateEnabled",
        PropType::Bool, unbounded;
}

/// Why a PATCH's setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("no such setting")]
    Unknown,
    /// The JSON kind the setting takes, as a phrase ("a boolean").
    #[error("must be {0}")]
    WrongType(&'static str),
    #[error(transparent)]
    OutOfBounds(#[from] OutOfBounds),
}

/// What a setting's JSON value must be, said to a client that sent something else.
pub trait Expected {
    const EXPECTED: &'static str;
}
impl Expected for bool {
    const EXPECTED: &'static str = "a boolean";
}
impl Expected for String {
    const EXPECTED: &'static str = "a string";
}
impl Expected for Option<String> {
    const EXPECTED: &'static str = "a string or null";
}
impl Expected for Vec<String> {
    const EXPECTED: &'static str = "an array of strings";
}
impl Expected for i64 {
    const EXPECTED: &'static str = "an integer";
}

fn bounded_description(text: Option<String>) -> Result<Option<String>, OutOfBounds> {
    if let Some(text) = &text {
        limits::check_description(text)?;
    }
    Ok(text)
}

/// A setting whose every value of its type is allowed (a boolean).
fn unbounded<T>(value: T) -> Result<T, OutOfBounds> {
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{BoolDeserializer, Error, StrDeserializer};

    #[test]
    fn a_patch_reads_settings_by_graph_name_or_alias_and_merges_over() {
        let mut patch = SettingsPatch::default();
        patch
            .set(
                "isDelayedUpdateEnabled",
                BoolDeserializer::<Error>::new(true),
            )
            .expect("alias");
        assert_eq!(
            patch.set("colour", BoolDeserializer::<Error>::new(true)),
            Err(SettingError::Unknown)
        );
        assert_eq!(
            patch.set(
                "isDelayedDeploymentEnabled",
                StrDeserializer::<Error>::new("yes")
            ),
            Err(SettingError::WrongType("a boolean"))
        );
        let before = SensorSettings {
            description: Some("kept".into()),
            ..SensorSettings::default()
        };
        let after = patch.merged_over(&before);
        assert!(after.is_delayed_deployment_enabled);
        assert_eq!(after.description.as_deref(), Some("kept"));
    }
}
