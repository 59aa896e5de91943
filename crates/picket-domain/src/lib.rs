//! Picket's domain: tenants, sensors, sensor candidates, health issues and activation
//! configuration, with the rules of the Defender for Identity API that govern them.
//! Pure: no HTTP, no SQL, no runtime; time comes in as an argument.

pub mod dns;
pub mod entities;
pub mod enums;
pub mod fleet;
pub mod identity;
pub mod identity_accounts;
pub mod ids;
pub mod limits;
pub mod rules;
pub mod schema;
pub mod sensor_settings;
pub mod time;

pub use entities::*;
pub use enums::*;
pub use ids::*;
