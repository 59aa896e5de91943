//! The device authorization grant (RFC 8628) as Entra serves it: a client asks
//! `/{tenant}/oauth2/v2.0/devicecode` for a code, shows the user code, and polls the token
//! endpoint until the sign-in is approved or denied. Picket keeps no passwords, so approving is
//! an administrator's act for a registered user (`picket device-codes approve CODE --user UPN`,
//! i.e. `POST /admin/v1/deviceCodes/approve` with a Global Administrator's delegated token), not
//! a sign-in page. Pending codes live in the memory of the server that issued them, for at most
//! [`LIFETIME_SECS`].

use picket_domain::identity::User;
use picket_domain::TenantId;
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a code waits for approval (Entra: 15 minutes).
pub const LIFETIME_SECS: u64 = 900;
/// How often clients are told to poll.
pub const INTERVAL_SECS: u64 = 5;
/// Codes waiting at once, across tenants; more are refused until some expire.
const MAX_PENDING: usize = 10_000;
/// Letters that cannot be mistaken for one another (no vowels: no words).
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Waiting,
    Approved(User),
    Denied,
}

struct Pending {
    tenant: TenantId,
    client_id: String,
    scopes: Vec<String>,
    user_code: String,
    expires_at: u64,
    decision: Decision,
}

/// What the token endpoint answers a poll with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    Pending,
    Denied,
    Expired,
    /// Not a code this server issued for this client (or already redeemed).
    Unknown,
    /// Redeemed: the code is gone, the caller issues the token.
    Approved {
        user: User,
        scopes: Vec<String>,
    },
}

/// Why an approval or denial did not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("no device code '{0}' is waiting in this tenant")]
    Unknown(String),
    #[error("device code '{0}' has expired")]
    Expired(String),
    #[error("device code '{0}' was decided before")]
    Decided(String),
}

/// What an administrator sees about a waiting code before deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub user_code: String,
    pub expires_at: u64,
}

#[derive(Default)]
pub struct DeviceCodes {
    /// By the SHA-256 of the device code (the polling secret is never kept as such).
    by_device: Mutex<HashMap<String, Pending>>,
}

fn digest(device_code: &str) -> String {
    Sha256::digest(device_code.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `BCDFGHJK` as users read it: `BCDF-GHJK`.
fn display_code(code: &str) -> String {
    format!("{}-{}", &code[..4], &code[4..])
}

fn normalize_user_code(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl DeviceCodes {
    /// A new code pair `(device_code, user_code)`, or `None` when too many are waiting.
    pub fn start(
        &self,
        tenant: &TenantId,
        client_id: &str,
        scopes: Vec<String>,
        now: u64,
    ) -> Option<(String, String)> {
        let mut map = self.by_device.lock().ok()?;
        map.retain(|_, p| p.expires_at > now);
        if map.len() >= MAX_PENDING {
            return None;
        }
        let mut rng = rand::thread_rng();
        let device_code: String = {
            use base64::Engine;
            let bytes: [u8; 32] = rng.gen();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        let user_code = loop {
            let letters: String = (0..8)
                .map(|_| USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())] as char)
                .collect();
            if !map.values().any(|p| p.user_code == letters) {
                break letters;
            }
        };
        map.insert(
            digest(&device_code),
            Pending {
                tenant: tenant.clone(),
                client_id: client_id.to_string(),
                scopes,
                user_code: user_code.clone(),
                expires_at: now + LIFETIME_SECS,
                decision: Decision::Waiting,
            },
        );
        Some((device_code, display_code(&user_code)))
    }

    /// The token endpoint's poll; an approved code is redeemed once.
    pub fn poll(&self, tenant: &TenantId, client_id: &str, device_code: &str, now: u64) -> Poll {
        let Ok(mut map) = self.by_device.lock() else {
            return Poll::Unknown;
        };
        let key = digest(device_code);
        let Some(p) = map.get(&key) else {
            return Poll::Unknown;
        };
        if &p.tenant != tenant || p.client_id != client_id {
            return Poll::Unknown;
        }
        if p.expires_at <= now {
            map.remove(&key);
            return Poll::Expired;
        }
        match &p.decision {
            Decision::Waiting => Poll::Pending,
            Decision::Denied => {
                map.remove(&key);
                Poll::Denied
            }
            Decision::Approved(_) => match map.remove(&key) {
                Some(Pending {
                    decision: Decision::Approved(user),
                    scopes,
                    ..
                }) => Poll::Approved { user, scopes },
                _ => Poll::Unknown,
            },
        }
    }

    /// Approves (`Some(user)`) or denies (`None`) a waiting code of this tenant, once.
    pub fn decide(
        &self,
        tenant: &TenantId,
        user_code: &str,
        approve_for: Option<User>,
        now: u64,
    ) -> Result<Request, DecideError> {
        let wanted = normalize_user_code(user_code);
        let mut map = self
            .by_device
            .lock()
            .map_err(|_| DecideError::Unknown(wanted.clone()))?;
        let p = map
            .values_mut()
            .find(|p| &p.tenant == tenant && p.user_code == wanted)
            .ok_or_else(|| DecideError::Unknown(user_code.to_string()))?;
        if p.expires_at <= now {
            return Err(DecideError::Expired(user_code.to_string()));
        }
        if p.decision != Decision::Waiting {
            return Err(DecideError::Decided(user_code.to_string()));
        }
        p.decision = match approve_for {
            Some(user) => Decision::Approved(user),
            None => Decision::Denied,
        };
        Ok(Request {
            client_id: p.client_id.clone(),
            scopes: p.scopes.clone(),
            user_code: display_code(&p.user_code),
            expires_at: p.expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(n: u8) -> TenantId {
        TenantId::parse(&format!("6babcaad-604b-40ac-a9d7-9fd97c0b77{n:02}")).expect("tenant")
    }

    fn ana() -> User {
        User {
            tenant: tenant(1),
            object_id: "0b1c".into(),
            user_principal_name: "ana@contoso.test".into(),
            display_name: "Ana".into(),
            roles: vec![],
            created_at: picket_domain::time::parse_timestamp("2026-05-01T12:00:00Z").expect("time"),
        }
    }

    #[test]
    fn a_code_waits_then_is_redeemed_once() {
        let codes = DeviceCodes::default();
        let (device, user) = codes
            .start(&tenant(1), "app", vec!["S".into()], 1000)
            .expect("start");
        assert_eq!(user.len(), 9);
        assert_eq!(codes.poll(&tenant(1), "app", &device, 1001), Poll::Pending);
        // Another client, another tenant or a wrong code learn nothing.
        assert_eq!(
            codes.poll(&tenant(1), "other", &device, 1001),
            Poll::Unknown
        );
        assert_eq!(codes.poll(&tenant(2), "app", &device, 1001), Poll::Unknown);
        assert_eq!(codes.poll(&tenant(1), "app", "guess", 1001), Poll::Unknown);
        assert_eq!(
            codes.decide(&tenant(2), &user, Some(ana()), 1002),
            Err(DecideError::Unknown(user.clone()))
        );
        // The user code is accepted in any case and without the dash.
        let lower = user.replace('-', "").to_lowercase();
        codes
            .decide(&tenant(1), &lower, Some(ana()), 1002)
            .expect("approve");
        assert_eq!(
            codes.decide(&tenant(1), &user, None, 1003),
            Err(DecideError::Decided(user.clone()))
        );
        assert_eq!(
            codes.poll(&tenant(1), "app", &device, 1004),
            Poll::Approved {
                user: ana(),
                scopes: vec!["S".into()]
            }
        );
        assert_eq!(codes.poll(&tenant(1), "app", &device, 1005), Poll::Unknown);
    }

    #[test]
    fn denied_and_expired_codes_end() {
        let codes = DeviceCodes::default();
        let (denied, user) = codes.start(&tenant(1), "app", vec![], 0).expect("start");
        codes.decide(&tenant(1), &user, None, 1).expect("deny");
        assert_eq!(codes.poll(&tenant(1), "app", &denied, 2), Poll::Denied);
        assert_eq!(codes.poll(&tenant(1), "app", &denied, 3), Poll::Unknown);

        let (late, user) = codes.start(&tenant(1), "app", vec![], 0).expect("start");
        assert_eq!(
            codes.decide(&tenant(1), &user, Some(ana()), LIFETIME_SECS),
            Err(DecideError::Expired(user.clone()))
        );
        assert_eq!(
            codes.poll(&tenant(1), "app", &late, LIFETIME_SECS),
            Poll::Expired
        );
    }

    #[test]
    fn pending_codes_are_bounded() {
        let codes = DeviceCodes::default();
        for _ in 0..MAX_PENDING {
            assert!(codes.start(&tenant(1), "app", vec![], 0).is_some());
        }
        assert!(codes.start(&tenant(1), "app", vec![], 1).is_none());
        // Once they expire there is room again.
        assert!(codes
            .start(&tenant(1), "app", vec![], LIFETIME_SECS + 1)
            .is_some());
    }
}
