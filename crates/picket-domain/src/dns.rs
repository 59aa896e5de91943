//! Host and domain names as RFC 1123 allows them: letters, digits and hyphens, labels of 1–63
//! characters that neither start nor end with a hyphen, at most 253 characters in all.
//! Internationalised names are accepted and kept as Punycode (`xn--…`), as DNS stores them.

/// Longest name, without a trailing dot (RFC 1035 §2.3.4 less the root label's length byte).
pub const MAX_NAME_LEN: usize = 253;
/// Longest label.
pub const MAX_LABEL_LEN: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsNameError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_NAME_LEN} characters")]
    TooLong,
    #[error("has an empty label (two dots in a row, or a dot at the start)")]
    EmptyLabel,
    #[error("has a label longer than {MAX_LABEL_LEN} characters")]
    LabelTooLong,
    #[error("has a label that starts or ends with a hyphen")]
    HyphenAtEdge,
    #[error("may hold only letters, digits, hyphens and dots")]
    BadCharacter,
    #[error("is not a valid internationalised name")]
    BadIdn,
    #[error("must be fully qualified (at least two labels, e.g. dc1.contoso.com)")]
    NotQualified,
    #[error("is an IP address, not a name")]
    IpAddress,
}

/// Checks a name and returns it lower-cased, in ASCII (Punycode for non-ASCII labels), without
/// a trailing dot. `qualified` asks for at least two labels.
pub fn normalize_name(text: &str, qualified: bool) -> Result<String, DnsNameError> {
    let text = text.strip_suffix('.').unwrap_or(text);
    if text.is_empty() {
        return Err(DnsNameError::Empty);
    }
    // Cheap refusal before any IDN work on hostile lengths (a label grows at most 4x in UTF-8).
    if text.len() > MAX_NAME_LEN * 4 {
        return Err(DnsNameError::TooLong);
    }
    let ascii = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii_strict(text).map_err(|_| DnsNameError::BadIdn)?
    };
    if ascii.len() > MAX_NAME_LEN {
        return Err(DnsNameError::TooLong);
    }
    if ascii.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(DnsNameError::IpAddress);
    }
    let mut labels = 0;
    for label in ascii.split('.') {
        labels += 1;
        if label.is_empty() {
            return Err(DnsNameError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(DnsNameError::LabelTooLong);
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(DnsNameError::BadCharacter);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DnsNameError::HyphenAtEdge);
        }
    }
    if qualified && labels < 2 {
        return Err(DnsNameError::NotQualified);
    }
    Ok(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_host_names_lower_cased() {
        for (input, expected) in [
            ("dc1.contoso.com", "dc1.contoso.com"),
            ("DC1.Contoso.COM", "dc1.contoso.com"),
            ("dc1.contoso.com.", "dc1.contoso.com"),
            ("a-b.c0", "a-b.c0"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("bücher.example", "xn--bcher-kva.example"),
            ("1.2.3.com", "1.2.3.com"),
        ] {
            assert_eq!(
                normalize_name(input, true).as_deref(),
                Ok(expected),
                "{input}"
            );
        }
        assert_eq!(
            normalize_name("localhost", false).as_deref(),
            Ok("localhost")
        );
    }

    #[test]
    fn refuses_what_is_not_a_host_name() {
        use DnsNameError::*;
        let label63 = "a".repeat(63);
        let long = [label63.as_str(); 4].join(".");
        for (input, why) in [
            ("", Empty),
            (".", Empty),
            (" .", BadCharacter),
            ("...", EmptyLabel),
            ("-.-", HyphenAtEdge),
            ("a..b", EmptyLabel),
            (".a.b", EmptyLabel),
            ("-dc.contoso.com", HyphenAtEdge),
            ("dc-.contoso.com", HyphenAtEdge),
            ("dc_1.contoso.com", BadCharacter),
            ("dc 1.contoso.com", BadCharacter),
            ("dc1", NotQualified),
            ("10.0.0.1", IpAddress),
            (long.as_str(), TooLong),
        ] {
            assert_eq!(normalize_name(input, true), Err(why), "{input:?}");
        }
        let label64 = format!("{}.com", "a".repeat(64));
        assert_eq!(normalize_name(&label64, true), Err(LabelTooLong));
        // At the limit: 253 characters.
        let at_limit = format!("{}.{}.{}.{}", label63, label63, label63, "a".repeat(61));
        assert_eq!(at_limit.len(), 253);
        assert!(normalize_name(&at_limit, true).is_ok());
    }
}
