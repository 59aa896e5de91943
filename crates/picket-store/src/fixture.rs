//! A set of entities to load into a tenant: the demo tenant, `picket seed`, and benchmarks.

use picket_domain::*;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fixture {
    pub activation_mode: Option<ActivationMode>,
    pub sensors: Vec<Sensor>,
    pub candidates: Vec<SensorCandidate>,
    pub health_issues: Vec<HealthIssue>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub sensors: usize,
    pub candidates: usize,
    pub health_issues: usize,
}
