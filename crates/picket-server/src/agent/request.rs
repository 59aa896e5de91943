//! What every agent request shares: the strict body decoder, the bounds' refusals, the
//! credential digest, and the refusal of an unavailable store.

use crate::error::ApiError;
use crate::state::AppState;
use picket_domain::limits;
use sha2::{Digest, Sha256};

/// A store failure: logged, counted in `/metrics`, answered 503 with `Retry-After`.
pub(crate) fn unavailable(state: &AppState, e: picket_store::StoreError) -> ApiError {
    tracing::error!(error = %e, "agent request failed");
    state.metrics.store_error(&e);
    ApiError::ServiceUnavailable(e.to_string())
}

/// Parses a JSON body into `T`, answering 400 with the path of the bad field.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ApiError::BadRequest(format!("invalid body at '{}': {}", e.path(), e.inner())))
}

/// 400 with what is wrong.
pub(crate) fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

/// 400 naming the bound a field is past.
pub(crate) fn out_of_bounds(e: limits::OutOfBounds) -> ApiError {
    bad(e.to_string())
}

/// How a sensor credential is stored and looked up: its SHA-256, in hex.
pub(crate) fn credential_hash(credential: &str) -> String {
    Sha256::digest(credential.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
