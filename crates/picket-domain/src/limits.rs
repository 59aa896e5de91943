//! Bounds on what clients and sensors may store, in one place (README lists them). Where the
//! real service's bound is known it is used; elsewhere the bound is Picket's own, generous for
//! real use and small enough that no page of a list is dominated by one value.

use crate::dns::{normalize_name, DnsNameError};

/// `settings/description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// `settings/domainControllerDnsNames`: names per sensor (each a DNS name of ≤ 253).
pub const MAX_DOMAIN_CONTROLLERS: usize = 100;
/// Version strings sent by sensors (`version`, `targetVersion`, `senseClientVersion`).
pub const MAX_VERSION_LEN: usize = 64;
/// Ids given in bodies (`serverIds` items, `$batch` request ids).
pub const MAX_ID_LEN: usize = 256;
/// A deployment access key as sent at enrolment (real keys are 88 characters).
pub const MAX_ACCESS_KEY_LEN: usize = 512;

/// Why a value is out of bounds: the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {why}")]
pub struct OutOfBounds {
    pub field: String,
    pub why: String,
}

fn out(field: &str, why: impl Into<String>) -> OutOfBounds {
    OutOfBounds {
        field: field.to_string(),
        why: why.into(),
    }
}

/// A description of at most [`MAX_DESCRIPTION_CHARS`] characters.
pub fn check_description(text: &str) -> Result<(), OutOfBounds> {
    let chars = text.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(out(
            "settings/description",
            format!("is {chars} characters long; at most {MAX_DESCRIPTION_CHARS} are allowed"),
        ));
    }
    Ok(())
}

/// Domain controllers' names: at most [`MAX_DOMAIN_CONTROLLERS`], each a fully qualified DNS
/// name. ASCII names are kept as written; internationalised ones become Punycode.
pub fn domain_controller_names(names: Vec<String>) -> Result<Vec<String>, OutOfBounds> {
    const FIELD: &str = "settings/domainControllerDnsNames";
    if names.len() > MAX_DOMAIN_CONTROLLERS {
        return Err(out(
            FIELD,
            format!(
                "has {} names; at most {MAX_DOMAIN_CONTROLLERS} are allowed",
                names.len()
            ),
        ));
    }
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| match normalize_name(&name, true) {
            Ok(_) if name.is_ascii() => Ok(name),
            Ok(ascii) => Ok(ascii),
            Err(e) => Err(out(&format!("{FIELD}[{i}]"), dns_why(&name, e))),
        })
        .collect()
}

/// A sensor's host name (enrolment, candidate reports): fully qualified, lower-cased ASCII.
pub fn host_name(field: &str, text: &str) -> Result<String, OutOfBounds> {
    normalize_name(text.trim(), true).map_err(|e| out(field, dns_why(text, e)))
}

fn dns_why(name: &str, e: DnsNameError) -> String {
    let shown: String = name.chars().take(64).collect();
    format!("'{shown}' is not a DNS host name: it {e}")
}

/// A version string: digits and dots, at most [`MAX_VERSION_LEN`] characters.
pub fn version(field: &str, text: &str) -> Result<(), OutOfBounds> {
    if text.len() > MAX_VERSION_LEN {
        return Err(out(
            field,
            format!("is longer than {MAX_VERSION_LEN} characters"),
        ));
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(out(
            field,
            "may hold only digits and dots, e.g. 2.239.18124.58593",
        ));
    }
    Ok(())
}

/// An id given in a body: non-empty after trimming, at most [`MAX_ID_LEN`] characters.
pub fn id(field: &str, text: &str) -> Result<(), OutOfBounds> {
    if text.trim().is_empty() {
        return Err(out(field, "must not be empty"));
    }
    if text.chars().count() > MAX_ID_LEN {
        return Err(out(
            field,
            format!("is longer than {MAX_ID_LEN} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_at_and_past_the_bound() {
        assert!(check_description(&"é".repeat(MAX_DESCRIPTION_CHARS)).is_ok());
        let e = check_description(&"x".repeat(MAX_DESCRIPTION_CHARS + 1)).unwrap_err();
        assert_eq!(e.field, "settings/description");
    }

    #[test]
    fn domain_controllers_at_and_past_the_bound() {
        let names = |n: usize| {
            (0..n)
                .map(|i| format!("dc{i}.contoso.com"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            domain_controller_names(names(MAX_DOMAIN_CONTROLLERS))
                .unwrap()
                .len(),
            100
        );
        assert!(domain_controller_names(names(MAX_DOMAIN_CONTROLLERS + 1)).is_err());
        let e = domain_controller_names(vec!["DC1.contoso.com".into(), "-.-".into()]).unwrap_err();
        assert_eq!(e.field, "settings/domainControllerDnsNames[1]");
        assert_eq!(
            domain_controller_names(vec!["DC1.Contoso.com".into(), "dc.bücher.de".into()]).unwrap(),
            vec![
                "DC1.Contoso.com".to_string(),
                "dc.xn--bcher-kva.de".to_string()
            ]
        );
    }

    #[test]
    fn versions_and_ids() {
        assert!(version("version", "2.239.18124.58593").is_ok());
        assert!(version("version", &"1.".repeat(32)).is_ok());
        assert!(version("version", &"1.".repeat(33)).is_err());
        assert!(version("version", "2.x").is_err());
        assert!(id("serverIds[0]", &"a".repeat(MAX_ID_LEN)).is_ok());
        assert!(id("serverIds[0]", &"a".repeat(MAX_ID_LEN + 1)).is_err());
        assert!(id("serverIds[0]", " ").is_err());
    }
}
