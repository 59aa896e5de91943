//! Fleet rows: enrolment, check-ins, and evaluation of one sensor by the domain's status engine
//! and health rules, applied in the caller's transaction.
//!
//! Where the engines differ: names are compared case-insensitively by PostgreSQL's `lower()`
//! indexes and SQLite's `COLLATE NOCASE` columns; PostgreSQL runs a tenant's check-ins side by
//! side (SQLite's writer runs them one at a time), so its rollout takes a lock per domain.

use super::health::refresh_health;
use super::rows::{json_list, ts};
use super::{candidates, health_issues, sensors, tenants};
use crate::fleet::*;
use crate::sql::{Db, Engine, RowRef};
use crate::{args, sql, sql_per_dialect, IssueScope, StoreError};
use picket_domain::fleet::issues::{self, IssueChange, GLOBAL_OWNER, GLOBAL_RULES};
use picket_domain::fleet::{agent, derive, rollout, AgentFacts, UpdateState};
use picket_domain::time::{parse_timestamp, Timestamp};
use picket_domain::*;
use std::collections::HashMap;

async fn access_key_matches(
    db: &impl Db,
    tenant: &TenantId,
    access_key: &str,
) -> Result<bool, StoreError> {
    let known = db
        .value::<String>(
            sql!("SELECT access_key FROM tenants WHERE tenant_id = $1"),
            args![tenant.as_str()],
        )
        .await?;
    // Compared in constant time; an unknown tenant looks the same as a wrong key.
    Ok(known.is_some_and(|k| constant_time_eq(&k, access_key)))
}

/// The enrolled (not deleted) agent of a computer.
async fn agent_of_computer(
    db: &impl Db,
    tenant: &TenantId,
    computer: &str,
) -> Result<Option<String>, StoreError> {
    db.value(
        sql_per_dialect!(
            postgres: "SELECT sensor_id FROM sensor_agents \
                       WHERE tenant_id = $1 AND lower(computer_dns_name) = lower($2) AND deleted_at IS NULL",
            sqlite: "SELECT sensor_id FROM sensor_agents \
                     WHERE tenant_id = $1 AND computer_dns_name = $2 AND deleted_at IS NULL",
        ),
        args![tenant.as_str(), computer],
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn report_candidate(
    db: &impl Db,
    tenant: &TenantId,
    access_key: &str,
    computer: &str,
    sense_version: &str,
    credential_hash: &str,
    unified_version: &str,
    now: Timestamp,
) -> Result<Result<CandidateOutcome, AgentRefusal>, StoreError> {
    if !access_key_matches(db, tenant, access_key).await? {
        return Ok(Err(AgentRefusal::BadAccessKey));
    }
    let computer = computer.trim().trim_end_matches('.').to_ascii_lowercase();
    // Already a sensor with an agent: activated before, credential handed out before.
    if let Some(id) = agent_of_computer(db, tenant, &computer).await? {
        return Ok(Ok(CandidateOutcome::Activated {
            sensor: SensorId::new(id),
            credential_issued: false,
        }));
    }
    let waiting = db
        .value::<String>(
            sql_per_dialect!(
                postgres: "SELECT id FROM sensor_candidates \
                           WHERE tenant_id = $1 AND lower(computer_dns_name) = lower($2)",
                sqlite: "SELECT id FROM sensor_candidates \
                         WHERE tenant_id = $1 AND computer_dns_name = $2 COLLATE NOCASE",
            ),
            args![tenant.as_str(), &computer],
        )
        .await?;
    let activated_sensor = db
        .value::<String>(
            sql!("SELECT id FROM sensors WHERE tenant_id = $1 AND fqdn = $2"),
            args![tenant.as_str(), &computer],
        )
        .await?;
    let candidate_id = match (waiting, &activated_sensor) {
        (Some(id), _) => {
            db.execute(
                sql!(
                    "UPDATE sensor_candidates SET last_seen_date_time = $3, sense_client_version = $4 \
                     WHERE tenant_id = $1 AND id = $2"
                ),
                args![tenant.as_str(), &id, &ts(&now), sense_version],
            )
            .await?;
            Some(CandidateId::new(id))
        }
        (None, Some(_)) => None,
        (None, None) => {
            let candidate = SensorCandidate {
                id: CandidateId::generate(),
                computer_dns_name: computer.clone(),
                last_seen_date_time: now,
                sense_client_version: sense_version.to_string(),
            };
            candidates::insert(db, tenant, &candidate).await?;
            Some(candidate.id)
        }
    };
    let mut sensor_id = activated_sensor.map(SensorId::new);
    if let Some(candidate) = &candidate_id {
        // Automated mode activates a candidate the moment it arrives (spec §4.5).
        if tenants::activation_mode(db, tenant).await? == ActivationMode::Automated {
            let outcome = candidates::activate(
                db,
                tenant,
                std::slice::from_ref(candidate),
                unified_version,
                now,
            )
            .await?;
            sensor_id = outcome.activated.into_iter().next();
        }
    }
    match sensor_id {
        Some(id) => {
            db.execute(
                sql!(
                    "INSERT INTO sensor_agents (tenant_id, sensor_id, computer_dns_name, \
                     credential_hash, enrolled_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant_id, sensor_id) DO UPDATE SET \
                     computer_dns_name = excluded.computer_dns_name, \
                     credential_hash = excluded.credential_hash, enrolled_at = excluded.enrolled_at, \
                     deleted_at = NULL, last_seen = NULL, last_config_pull = NULL"
                ),
                args![
                    tenant.as_str(),
                    id.as_str(),
                    &computer,
                    credential_hash,
                    &ts(&now)
                ],
            )
            .await?;
            Ok(Ok(CandidateOutcome::Activated {
                sensor: id,
                credential_issued: true,
            }))
        }
        None => Ok(Ok(CandidateOutcome::Waiting {
            candidate: candidate_id.unwrap_or_else(CandidateId::generate),
        })),
    }
}

pub async fn enroll<D: Db>(
    db: &D,
    tenant: &TenantId,
    access_key: &str,
    req: &EnrollRequest,
    credential_hash: &str,
    now: Timestamp,
    policy: &FleetPolicy,
) -> Result<Result<Enrolled, AgentRefusal>, StoreError> {
    if !access_key_matches(db, tenant, access_key).await? {
        return Ok(Err(AgentRefusal::BadAccessKey));
    }
    let existing = agent_of_computer(db, tenant, &req.computer_dns_name).await?;
    let (sensor, reinstalled) = match existing {
        Some(id) => {
            // A re-install of the same computer: same sensor, new credential.
            if D::ENGINE == Engine::Postgres {
                // Enrolments share their tenant's lock (`Scope::Enrolment`): this one also
                // waits for the sensor's check-ins, whose lock is `Scope::Sensor`'s key.
                db.execute(
                    sql!(
                        "SELECT pg_advisory_xact_lock(hashtextextended(\
                         current_setting('picket.lock_namespace') || ':sensor:' || $1 || ':' || $2, 0))"
                    ),
                    args![tenant.as_str(), &id],
                )
                .await?;
            }
            db.execute(
                sql!(
                    "UPDATE sensor_agents SET credential_hash = $3, last_config_pull = NULL, \
                     update_state = 'idle' WHERE tenant_id = $1 AND sensor_id = $2"
                ),
                args![tenant.as_str(), &id, credential_hash],
            )
            .await?;
            db.execute(
                sql!("UPDATE sensors SET version = $3 WHERE tenant_id = $1 AND id = $2"),
                args![tenant.as_str(), &id, &req.version],
            )
            .await?;
            let id = SensorId::new(id);
            let mut summary = SweepSummary::default();
            let evaluated = evaluate(db, tenant, &id, now, policy, &mut summary).await?;
            (evaluated, true)
        }
        None => {
            // A computer enrolled before and then deleted starts over as a new sensor.
            db.execute(
                sql_per_dialect!(
                    postgres: "DELETE FROM sensor_agents \
                               WHERE tenant_id = $1 AND lower(computer_dns_name) = lower($2)",
                    sqlite: "DELETE FROM sensor_agents WHERE tenant_id = $1 AND computer_dns_name = $2",
                ),
                args![tenant.as_str(), &req.computer_dns_name],
            )
            .await?;
            let sensor = agent::enrolled_sensor(
                SensorId::generate(),
                &req.computer_dns_name,
                req.sensor_type,
                &req.version,
                now,
            );
            sensors::insert(db, tenant, &sensor).await?;
            db.execute(
                sql!(
                    "INSERT INTO sensor_agents (tenant_id, sensor_id, computer_dns_name, \
                     credential_hash, enrolled_at) VALUES ($1, $2, $3, $4, $5)"
                ),
                args![
                    tenant.as_str(),
                    sensor.id.as_str(),
                    &req.computer_dns_name,
                    credential_hash,
                    &ts(&now),
                ],
            )
            .await?;
            // Evaluated from what was just written: a new sensor has raised no issue yet.
            let agent = load_agent(db, tenant, &sensor.id).await?;
            let evaluated = match agent {
                Some(agent) => {
                    let id = sensor.id.clone();
                    let facts = Facts {
                        sensor,
                        agent,
                        links: Vec::new(),
                    };
                    let mut summary = SweepSummary::default();
                    evaluate_loaded(db, tenant, &id, facts, now, policy, &mut summary).await?
                }
                None => None,
            };
            (evaluated, false)
        }
    };
    let sensor = sensor.ok_or_else(|| StoreError::Internal("enrolled sensor vanished".into()))?;
    Ok(Ok(Enrolled {
        sensor,
        reinstalled,
    }))
}

fn host_issues_from_json(text: &str) -> Vec<HostIssue> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|v| {
            Some(HostIssue {
                issue_type_id: v.get("issueTypeId")?.as_str()?.to_string(),
                display_name: v.get("displayName")?.as_str()?.to_string(),
                severity: HealthIssueSeverity::parse(v.get("severity")?.as_str()?)?,
            })
        })
        .collect()
}

pub async fn check_in<D: Db>(
    db: &D,
    tenant: &TenantId,
    sensor: &SensorId,
    credential_hash: &str,
    report: &CheckInReport,
    now: Timestamp,
    policy: &FleetPolicy,
) -> Result<Result<CheckInAnswer, AgentRefusal>, StoreError> {
    let row = db
        .query_opt(
            sql!(
                "SELECT credential_hash, deleted_at, desired_settings_version FROM sensor_agents \
                 WHERE tenant_id = $1 AND sensor_id = $2"
            ),
            args![tenant.as_str(), sensor.as_str()],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<i64>(2)?,
                ))
            },
        )
        .await?;
    let Some((hash, deleted_at, desired)) = row else {
        return Ok(Err(AgentRefusal::BadCredential));
    };
    if !constant_time_eq(&hash, credential_hash) {
        return Ok(Err(AgentRefusal::BadCredential));
    }
    if deleted_at.is_some() {
        // The only thing a deleted sensor's credential still gets: the order to stop.
        return Ok(Ok(CheckInAnswer {
            sensor: None,
            desired_settings_version: desired.max(0) as u64,
            command: AgentCommand::Stop,
            heartbeat: false,
        }));
    }
    let (state, target) = match &report.update {
        UpdateReport::Idle => ("idle", None),
        UpdateReport::InProgress { target } => ("inProgress", Some(target.as_str())),
        UpdateReport::Failed { target } => ("failed", Some(target.as_str())),
    };
    db.execute(
        sql_per_dialect!(
            postgres: "UPDATE sensor_agents SET last_seen = $3, last_config_pull = $3, \
                 reported_service = $4, applied_settings_version = LEAST($5, desired_settings_version), \
                 update_state = $6, update_target = $7, \
                 update_since = CASE WHEN update_state = $6 AND update_since IS NOT NULL \
                 THEN update_since ELSE $3 END, \
                 reported_issues = $8 WHERE tenant_id = $1 AND sensor_id = $2",
            sqlite: "UPDATE sensor_agents SET last_seen = $3, last_config_pull = $3, \
                 reported_service = $4, applied_settings_version = MIN($5, desired_settings_version), \
                 update_state = $6, update_target = $7, \
                 update_since = CASE WHEN update_state = $6 AND update_since IS NOT NULL \
                 THEN update_since ELSE $3 END, \
                 reported_issues = $8 WHERE tenant_id = $1 AND sensor_id = $2",
        ),
        args![
            tenant.as_str(),
            sensor.as_str(),
            &ts(&now),
            report.service_status.as_str(),
            i64::try_from(report.applied_settings_version).unwrap_or(i64::MAX),
            state,
            target,
            &host_issues_json(&report.host_issues),
        ],
    )
    .await?;
    db.execute(
        sql!("UPDATE sensors SET version = $3 WHERE tenant_id = $1 AND id = $2 AND version != $3"),
        args![tenant.as_str(), sensor.as_str(), &report.version],
    )
    .await?;
    let current = evaluate(
        db,
        tenant,
        sensor,
        now,
        policy,
        &mut SweepSummary::default(),
    )
    .await?;
    let command = match &current {
        Some(s) => rollout_command(db, tenant, s, &report.update, now, policy).await?,
        None => AgentCommand::None,
    };
    Ok(Ok(CheckInAnswer {
        sensor: current,
        desired_settings_version: desired.max(0) as u64,
        command,
        heartbeat: false,
    }))
}

/// Whether this sensor should install the latest release now (spec §4.7, decided by
/// `rollout`): the domain's updating sensors are counted only when a release is offered.
async fn rollout_command<D: Db>(
    db: &D,
    tenant: &TenantId,
    sensor: &Sensor,
    update: &UpdateReport,
    now: Timestamp,
    policy: &FleetPolicy,
) -> Result<AgentCommand, StoreError> {
    let Some(offered) = rollout::offer(sensor, update, &policy.releases, now) else {
        return Ok(AgentCommand::None);
    };
    if D::ENGINE == Engine::Postgres {
        // Check-ins of one tenant run side by side: the count and the decision are made one
        // domain at a time.
        db.execute(
            sql!(
                "SELECT pg_advisory_xact_lock(hashtextextended(\
                 current_schema() || ':rollout:' || $1 || ':' || lower($2), 0))"
            ),
            args![tenant.as_str(), &sensor.domain_name],
        )
        .await?;
    }
    let updating = updating_in_domain(db, tenant, &sensor.domain_name).await?;
    Ok(rollout::admit(offered, updating, policy.rollout_per_domain))
}

/// Marks a deleted sensor's agent so its next check-in is told to stop.
pub async fn tombstone(
    db: &impl Db,
    tenant: &TenantId,
    sensor: &SensorId,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        sql!("UPDATE sensor_agents SET deleted_at = $3 WHERE tenant_id = $1 AND sensor_id = $2"),
        args![tenant.as_str(), sensor.as_str(), &ts(&now)],
    )
    .await?;
    db.execute(
        sql!("DELETE FROM agent_issues WHERE tenant_id = $1 AND sensor_id = $2"),
        args![tenant.as_str(), sensor.as_str()],
    )
    .await?;
    Ok(())
}

/// Settings changed through the Graph API: the sensor must pull and acknowledge them. Takes
/// the sensor as just stored and returns it as stored after this (its deployment status).
pub async fn settings_changed(
    db: &impl Db,
    tenant: &TenantId,
    sensor: Sensor,
) -> Result<Sensor, StoreError> {
    let enrolled = db
        .execute(
            sql!(
                "UPDATE sensor_agents SET desired_settings_version = desired_settings_version + 1 \
                 WHERE tenant_id = $1 AND sensor_id = $2 AND deleted_at IS NULL"
            ),
            args![tenant.as_str(), sensor.id.as_str()],
        )
        .await?;
    // Shown at once, not at the next evaluation: what the engine derives with the new
    // settings not yet acknowledged (spec §4.2).
    if enrolled == 0 {
        return Ok(sensor);
    }
    let wanted = picket_domain::fleet::status::after_settings_change(
        sensor.deployment_status,
        sensor.sensor_type,
        &sensor.version,
        !sensor.settings.domain_controller_dns_names.is_empty(),
    );
    if wanted == sensor.deployment_status {
        return Ok(sensor);
    }
    db.execute(
        sql!("UPDATE sensors SET deployment_status = $3 WHERE tenant_id = $1 AND id = $2"),
        args![tenant.as_str(), sensor.id.as_str(), wanted.as_str()],
    )
    .await?;
    Ok(Sensor {
        deployment_status: wanted,
        ..sensor
    })
}

fn opt_ts(text: Option<String>) -> Option<Timestamp> {
    text.as_deref().and_then(parse_timestamp)
}

fn agent_from_row(r: &dyn RowRef) -> Result<AgentFacts, StoreError> {
    let enrolled: String = r.get(0)?;
    let state: String = r.get(6)?;
    let target: Option<String> = r.get(7)?;
    let since = opt_ts(r.get(8)?);
    let at = since.unwrap_or_else(|| parse_timestamp(&enrolled).unwrap_or_default());
    let update = match (state.as_str(), target) {
        ("inProgress", Some(target)) => UpdateState::InProgress { target, since: at },
        ("failed", Some(target)) => UpdateState::Failed { target, at },
        _ => UpdateState::Idle,
    };
    let reported: Option<String> = r.get(3)?;
    let issues: String = r.get(9)?;
    Ok(AgentFacts {
        enrolled_at: parse_timestamp(&enrolled).unwrap_or_default(),
        last_seen: opt_ts(r.get(1)?),
        last_config_pull: opt_ts(r.get(2)?),
        reported_service: reported.as_deref().and_then(ServiceStatus::parse),
        desired: r.get::<i64>(4)?.max(0) as u64,
        applied: r.get::<i64>(5)?.max(0) as u64,
        update,
        host_issues: host_issues_from_json(&issues),
        dc_exists: r.get(10)?,
    })
}

/// The agent's columns `agent_from_row` reads, in its order.
const AGENT_SELECT: &str = "enrolled_at, last_seen, last_config_pull, reported_service, \
     desired_settings_version, applied_settings_version, update_state, update_target, \
     update_since, reported_issues, dc_exists";

async fn load_agent(
    db: &impl Db,
    tenant: &TenantId,
    sensor: &SensorId,
) -> Result<Option<AgentFacts>, StoreError> {
    db.query_opt(
        sql!(
            "SELECT {AGENT_SELECT} \
             FROM sensor_agents WHERE tenant_id = $1 AND sensor_id = $2 AND deleted_at IS NULL"
        ),
        args![tenant.as_str(), sensor.as_str()],
        agent_from_row,
    )
    .await
}

/// Brings one sensor's statuses and Picket-raised issues up to date at `now`.
pub async fn evaluate(
    db: &impl Db,
    tenant: &TenantId,
    id: &SensorId,
    now: Timestamp,
    policy: &FleetPolicy,
    summary: &mut SweepSummary,
) -> Result<Option<Sensor>, StoreError> {
    let (Some(sensor), Some(agent)) = (
        sensors::find(db, tenant, id.as_str()).await?,
        load_agent(db, tenant, id).await?,
    ) else {
        return Ok(None);
    };
    let links = issue_links(db, tenant, id).await?;
    let facts = Facts {
        sensor,
        agent,
        links,
    };
    evaluate_loaded(db, tenant, id, facts, now, policy, summary).await
}

/// What an evaluation reads of one sensor: its row, its agent's, and which issues it raised.
struct Facts {
    sensor: Sensor,
    agent: AgentFacts,
    /// `(issue key, issue id)`.
    links: Vec<(String, String)>,
}

/// The [`Facts`] of many sensors of one tenant, read in three statements (not three or more
/// per sensor): a sweep of quiet sensors then makes no round trip of its own per sensor.
async fn load_facts(
    db: &impl Db,
    tenant: &TenantId,
    ids: &[&str],
) -> Result<HashMap<String, Facts>, StoreError> {
    use super::sensors::{sensor_from_row, SENSOR_SELECT};
    let sensors = db
        .query(
            sql_per_dialect!(
                postgres: format!(
                    "SELECT {SENSOR_SELECT} FROM sensors WHERE tenant_id = $1 AND id = ANY($2::text[])"
                ),
                sqlite: format!(
                    "SELECT {SENSOR_SELECT} FROM sensors \
                     WHERE tenant_id = $1 AND id IN (SELECT value FROM json_each($2))"
                ),
            ),
            args![tenant.as_str(), ids],
            sensor_from_row,
        )
        .await?;
    // `sensor_id` last: `agent_from_row` reads the columns before it.
    let agents = db
        .query(
            sql_per_dialect!(
                postgres: format!(
                    "SELECT {AGENT_SELECT}, sensor_id FROM sensor_agents \
                     WHERE tenant_id = $1 AND sensor_id = ANY($2::text[]) AND deleted_at IS NULL"
                ),
                sqlite: format!(
                    "SELECT {AGENT_SELECT}, sensor_id FROM sensor_agents \
                     WHERE tenant_id = $1 AND sensor_id IN (SELECT value FROM json_each($2)) \
                     AND deleted_at IS NULL"
                ),
            ),
            args![tenant.as_str(), ids],
            |r| Ok((r.get::<String>(r.width() - 1)?, agent_from_row(r)?)),
        )
        .await?;
    let links = db
        .query(
            sql_per_dialect!(
                postgres: "SELECT sensor_id, issue_key, issue_id FROM agent_issues \
                     WHERE tenant_id = $1 AND sensor_id = ANY($2::text[])",
                sqlite: "SELECT sensor_id, issue_key, issue_id FROM agent_issues \
                     WHERE tenant_id = $1 AND sensor_id IN (SELECT value FROM json_each($2))",
            ),
            args![tenant.as_str(), ids],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    (r.get::<String>(1)?, r.get::<String>(2)?),
                ))
            },
        )
        .await?;
    let mut links_of: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (sensor, link) in links {
        links_of.entry(sensor).or_default().push(link);
    }
    let mut agents: HashMap<String, AgentFacts> = agents.into_iter().collect();
    Ok(sensors
        .into_iter()
        .filter_map(|sensor| {
            let id = sensor.id.as_str().to_string();
            let agent = agents.remove(&id)?;
            let links = links_of.remove(&id).unwrap_or_default();
            Some((
                id,
                Facts {
                    sensor,
                    agent,
                    links,
                },
            ))
        })
        .collect())
}

/// [`evaluate`] from facts already read.
async fn evaluate_loaded(
    db: &impl Db,
    tenant: &TenantId,
    id: &SensorId,
    facts: Facts,
    now: Timestamp,
    policy: &FleetPolicy,
    summary: &mut SweepSummary,
) -> Result<Option<Sensor>, StoreError> {
    let Facts {
        sensor,
        agent,
        links,
    } = facts;
    let issues_before = (
        summary.issues_raised,
        summary.issues_reopened,
        summary.issues_closed,
    );
    let mut severity_changed = false;
    summary.sensors += 1;
    let observed = agent::observe(&sensor, &agent);
    let t = &policy.thresholds;
    let derived = derive(&observed, &policy.releases, now, t);
    if derived.deployment_status != sensor.deployment_status
        || derived.service_status != sensor.service_status
    {
        summary.status_changes += 1;
        db.execute(
            sql!(
                "UPDATE sensors SET deployment_status = $3, service_status = $4 \
                 WHERE tenant_id = $1 AND id = $2"
            ),
            args![
                tenant.as_str(),
                id.as_str(),
                derived.deployment_status.as_str(),
                derived.service_status.as_str(),
            ],
        )
        .await?;
    }

    let stored = issues_of(db, tenant, links).await?;
    let fqdn = sensor.fqdn();
    for change in issues::sensor_issue_changes(
        &observed,
        &agent.host_issues,
        &stored,
        &policy.releases,
        now,
        t,
    ) {
        match change {
            IssueChange::Raise(raised) => {
                let key = raised.key();
                let issue = issues::sensor_issue(&raised, &sensor, HealthIssueId::generate(), now);
                health_issues::insert(db, tenant, &issue).await?;
                record_agent_issue(db, tenant, id.as_str(), &key, issue.id.as_str()).await?;
                summary.issues_raised += 1;
            }
            IssueChange::Reopen(key) => {
                if let Some((_, issue)) = stored.iter().find(|(k, _)| *k == key) {
                    health_issues::save_status(db, tenant, &issue.id, HealthIssueStatus::Open, now)
                        .await?;
                    summary.issues_reopened += 1;
                }
            }
            IssueChange::Close(key) => {
                if let Some((_, issue)) = stored.iter().find(|(k, _)| *k == key) {
                    health_issues::save_status(
                        db,
                        tenant,
                        &issue.id,
                        HealthIssueStatus::Closed,
                        now,
                    )
                    .await?;
                    summary.issues_closed += 1;
                }
            }
        }
    }
    // The "stopped communicating" issue's severity follows the silence (decided by
    // `issues::severity_change`). Read again when an issue changed: it may have been raised
    // (or reopened, or closed) just now.
    let issues_changed = issues_before
        != (
            summary.issues_raised,
            summary.issues_reopened,
            summary.issues_closed,
        );
    let current = if issues_changed {
        stored_issues(db, tenant, id).await?
    } else {
        stored
    };
    if let Some((issue, wanted)) = issues::severity_change(&current, derived.deployment_status) {
        severity_changed = true;
        db.execute(
            sql!(
                "UPDATE health_issues SET severity = $3, last_modified_date_time = $4 \
                 WHERE tenant_id = $1 AND id = $2"
            ),
            args![
                tenant.as_str(),
                issue.id.as_str(),
                wanted.as_str(),
                &ts(&now)
            ],
        )
        .await?;
    }
    // Health follows issues only: refreshed when one of this sensor's issues changed.
    if issues_changed || severity_changed {
        refresh_health(db, tenant, Some(&[fqdn])).await?;
        return sensors::find(db, tenant, id.as_str()).await;
    }
    Ok(Some(Sensor {
        deployment_status: derived.deployment_status,
        service_status: derived.service_status,
        ..sensor
    }))
}

async fn stored_issues(
    db: &impl Db,
    tenant: &TenantId,
    id: &SensorId,
) -> Result<Vec<(String, HealthIssue)>, StoreError> {
    let links = issue_links(db, tenant, id).await?;
    issues_of(db, tenant, links).await
}

/// `(issue key, issue id)` of each issue the sensor's evaluations raised.
async fn issue_links(
    db: &impl Db,
    tenant: &TenantId,
    id: &SensorId,
) -> Result<Vec<(String, String)>, StoreError> {
    db.query(
        sql!(
            "SELECT issue_key, issue_id FROM agent_issues \
             WHERE tenant_id = $1 AND sensor_id = $2"
        ),
        args![tenant.as_str(), id.as_str()],
        |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
    )
    .await
}

/// The issues `links` name, each with its key (a quiet sensor has none: no statement).
async fn issues_of(
    db: &impl Db,
    tenant: &TenantId,
    links: Vec<(String, String)>,
) -> Result<Vec<(String, HealthIssue)>, StoreError> {
    let mut out = Vec::with_capacity(links.len());
    for (key, issue_id) in links {
        if let Some(issue) = health_issues::find(db, tenant, &IssueScope::Tenant, &issue_id).await?
        {
            out.push((key, issue));
        }
    }
    Ok(out)
}

/// Which issue a sensor's (or the tenant's global) issue key stands for now.
async fn record_agent_issue(
    db: &impl Db,
    tenant: &TenantId,
    owner: &str,
    key: &str,
    issue: &str,
) -> Result<(), StoreError> {
    db.execute(
        sql!(
            "INSERT INTO agent_issues (tenant_id, sensor_id, issue_key, issue_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, sensor_id, issue_key) \
             DO UPDATE SET issue_id = excluded.issue_id"
        ),
        args![tenant.as_str(), owner, key, issue],
    )
    .await?;
    Ok(())
}

/// `(tenant, sensor)` rows as keys; a row whose tenant is not a GUID is skipped.
fn agent_key(r: &dyn RowRef) -> Result<Option<(TenantId, SensorId)>, StoreError> {
    let (tenant, sensor): (String, String) = (r.get(0)?, r.get(1)?);
    Ok(TenantId::parse(&tenant).map(|t| (t, SensorId::new(sensor))))
}

/// Every enrolled sensor of every tenant (the sweep is operator-level background work).
pub async fn all_agents(db: &impl Db) -> Result<Vec<(TenantId, SensorId)>, StoreError> {
    let rows = db
        .query(
            sql!(
                "SELECT tenant_id, sensor_id FROM sensor_agents WHERE deleted_at IS NULL \
                 ORDER BY tenant_id, sensor_id"
            ),
            &[],
            agent_key,
        )
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

/// Enrolled sensors not heard from (or without a configuration pull) since `since`.
pub async fn silent_agents(
    db: &impl Db,
    since: Timestamp,
) -> Result<Vec<(TenantId, SensorId)>, StoreError> {
    let rows = db
        .query(
            sql!(
                "SELECT tenant_id, sensor_id FROM sensor_agents WHERE deleted_at IS NULL \
                 AND (COALESCE(last_seen, enrolled_at) <= $1 \
                      OR COALESCE(last_config_pull, enrolled_at) <= $1) \
                 ORDER BY tenant_id, sensor_id"
            ),
            args![&ts(&since)],
            agent_key,
        )
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

/// Tenants with at least one enrolled sensor.
pub async fn fleet_tenants(db: &impl Db) -> Result<Vec<TenantId>, StoreError> {
    let rows = db
        .query(
            sql!(
                "SELECT DISTINCT tenant_id FROM sensor_agents WHERE deleted_at IS NULL \
                 ORDER BY tenant_id"
            ),
            &[],
            |r| Ok(TenantId::parse(&r.get::<String>(0)?)),
        )
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

pub async fn publish_release(
    db: &impl Db,
    version: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            sql!(
                "INSERT INTO releases (version, published_at) VALUES ($1, $2) \
                 ON CONFLICT (version) DO NOTHING"
            ),
            args![version, &ts(&now)],
        )
        .await?
        == 1)
}

/// Claims the next sweep round for `holder` ([`FleetStore::claim_sweep`]).
pub async fn claim_sweep(
    db: &impl Db,
    holder: &str,
    every: std::time::Duration,
) -> Result<bool, StoreError> {
    claim_job(db, SWEEP_JOB, holder, claim_gap_ms(every)).await
}

/// Claims a round of `job` for `holder` when the last round started at least `gap_ms` ago
/// (one statement in a write transaction: of two processes or replicas claiming at once, one
/// wins). Time is the database's clock: on PostgreSQL the one clock every replica shares.
pub async fn claim_job(
    db: &impl Db,
    job: &str,
    holder: &str,
    gap_ms: i64,
) -> Result<bool, StoreError> {
    Ok(db
        .query_opt(
            sql_per_dialect!(
                postgres: "INSERT INTO background_runs (job, started_ms, holder) \
                     VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, $2) \
                     ON CONFLICT (job) DO UPDATE SET started_ms = EXCLUDED.started_ms, holder = EXCLUDED.holder \
                     WHERE background_runs.started_ms <= EXCLUDED.started_ms - $3 RETURNING holder",
                sqlite: "INSERT INTO background_runs (job, started_ms, holder) \
                     VALUES ($1, CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER), $2) \
                     ON CONFLICT (job) DO UPDATE SET started_ms = excluded.started_ms, holder = excluded.holder \
                     WHERE background_runs.started_ms <= excluded.started_ms - $3 RETURNING holder",
            ),
            args![job, holder, gap_ms],
            |_| Ok(()),
        )
        .await?
        .is_some())
}

pub async fn releases(db: &impl Db) -> Result<Vec<(String, Timestamp)>, StoreError> {
    let rows = db
        .query(
            sql!("SELECT version, published_at FROM releases"),
            &[],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
        )
        .await?;
    let mut out: Vec<(String, Timestamp)> = rows
        .into_iter()
        .filter_map(|(v, t)| Some((v, parse_timestamp(&t)?)))
        .collect();
    out.sort_by(|a, b| picket_domain::fleet::releases::compare_versions(&a.0, &b.0));
    Ok(out)
}

/// Sensors of a domain updating right now (the rollout admits a bounded number at a time).
async fn updating_in_domain(
    db: &impl Db,
    tenant: &TenantId,
    domain: &str,
) -> Result<i64, StoreError> {
    db.query_one(
        sql_per_dialect!(
            postgres: "SELECT COUNT(*) FROM sensor_agents a \
                 JOIN sensors s ON s.tenant_id = a.tenant_id AND s.id = a.sensor_id \
                 WHERE a.tenant_id = $1 AND a.update_state = 'inProgress' AND a.deleted_at IS NULL \
                 AND lower(s.domain_name) = lower($2)",
            sqlite: "SELECT COUNT(*) FROM sensor_agents a \
                 JOIN sensors s ON s.tenant_id = a.tenant_id AND s.id = a.sensor_id \
                 WHERE a.tenant_id = $1 AND a.update_state = 'inProgress' AND a.deleted_at IS NULL \
                 AND s.domain_name = $2",
        ),
        args![tenant.as_str(), domain],
        |r| r.get(0),
    )
    .await
}

/// One transaction of a sweep: evaluates `agents` in order until `budget` has passed (at least
/// one, at most all), and answers how many it evaluated, with what that changed. Bounding the
/// time, not the count, bounds how long the sweep holds the writer (SQLite) or its tenants'
/// locks (PostgreSQL) whatever each evaluation costs.
pub async fn evaluate_slice<D: Db>(
    db: &D,
    agents: &[(TenantId, SensorId)],
    now: Timestamp,
    policy: &FleetPolicy,
    budget: std::time::Duration,
) -> Result<(usize, SweepSummary), StoreError> {
    let started = std::time::Instant::now();
    let mut summary = SweepSummary::default();
    if D::ENGINE == Engine::Postgres {
        // What a sweep writes is derived, and the next sweep derives it again (a replica's
        // first is a full one): it need not wait for its commit to reach disk, which on a
        // slow disk was most of a slice.
        db.execute(sql!("SET LOCAL synchronous_commit = off"), &[])
            .await?;
    }
    let mut done = 0;
    // The facts of a few dozen sensors at a time: enough to save the round trips, few enough
    // that little is read for nothing when the budget ends the slice.
    for chunk in agents.chunks(FACTS_AT_ONCE) {
        let mut loaded: HashMap<&TenantId, HashMap<String, Facts>> = HashMap::new();
        for (tenant, _) in chunk {
            if loaded.contains_key(tenant) {
                continue;
            }
            let ids: Vec<&str> = chunk
                .iter()
                .filter(|(t, _)| t == tenant)
                .map(|(_, s)| s.as_str())
                .collect();
            loaded.insert(tenant, load_facts(db, tenant, &ids).await?);
        }
        for (tenant, sensor) in chunk {
            let facts = loaded
                .get_mut(tenant)
                .and_then(|of| of.remove(sensor.as_str()));
            if let Some(facts) = facts {
                evaluate_loaded(db, tenant, sensor, facts, now, policy, &mut summary).await?;
            }
            done += 1;
            if started.elapsed() >= budget {
                return Ok((done, summary));
            }
        }
    }
    Ok((done, summary))
}

/// How many sensors' facts one statement reads in a sweep.
const FACTS_AT_ONCE: usize = 64;

/// A tenant's global issues, in a transaction of their own ([`aggregate_globals`]).
pub async fn aggregate_tenant(
    db: &impl Db,
    tenant: &TenantId,
    now: Timestamp,
) -> Result<SweepSummary, StoreError> {
    let mut summary = SweepSummary::default();
    aggregate_globals(db, tenant, now, &mut summary).await?;
    Ok(summary)
}

/// Raises, updates, reopens or closes the tenant's global issues from its open sensor issues
/// (decided by `issues::global_change`).
pub async fn aggregate_globals(
    db: &impl Db,
    tenant: &TenantId,
    now: Timestamp,
    summary: &mut SweepSummary,
) -> Result<(), StoreError> {
    for rule in &GLOBAL_RULES {
        let key = rule.key;
        // Found by kind (`agent_issues_by_key`) and put in order by the domain: ordering in
        // SQL would have the planner walk every sensor of the tenant by FQDN instead.
        let members = db
            .query(
                sql!(
                    "SELECT s.fqdn, s.domain_name FROM agent_issues a \
                     JOIN health_issues h ON h.tenant_id = a.tenant_id AND h.id = a.issue_id \
                     JOIN sensors s ON s.tenant_id = a.tenant_id AND s.id = a.sensor_id \
                     WHERE a.tenant_id = $1 AND a.issue_key = $2 AND h.status = 'open'"
                ),
                args![tenant.as_str(), key],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
            )
            .await?;
        let members = issues::Members::of(&members);
        let existing_id = db
            .value::<String>(
                sql!(
                    "SELECT issue_id FROM agent_issues \
                     WHERE tenant_id = $1 AND sensor_id = $2 AND issue_key = $3"
                ),
                args![tenant.as_str(), GLOBAL_OWNER, key],
            )
            .await?;
        let existing = match &existing_id {
            Some(id) => health_issues::find(db, tenant, &IssueScope::Tenant, id).await?,
            None => None,
        };
        let Some(change) = issues::global_change(
            rule,
            existing.as_ref(),
            &members,
            HealthIssueId::generate,
            now,
        ) else {
            continue;
        };
        if let Some(issue) = &change.raise {
            health_issues::insert(db, tenant, issue).await?;
            record_agent_issue(db, tenant, GLOBAL_OWNER, key, issue.id.as_str()).await?;
            summary.issues_raised += 1;
        }
        if let Some((id, description)) = &change.rewrite {
            db.execute(
                sql!(
                    "UPDATE health_issues SET sensor_dns_names = $3, domain_names = $4, \
                     description = $5, last_modified_date_time = $6 \
                     WHERE tenant_id = $1 AND id = $2"
                ),
                args![
                    tenant.as_str(),
                    id.as_str(),
                    &json_list(&members.fqdns),
                    &json_list(&members.domains),
                    description,
                    &ts(&now),
                ],
            )
            .await?;
            db.execute(
                sql!("DELETE FROM health_issue_sensors WHERE tenant_id = $1 AND issue_id = $2"),
                args![tenant.as_str(), id.as_str()],
            )
            .await?;
            for f in &members.fqdns {
                health_issues::link(db, tenant, f, id.as_str()).await?;
            }
        }
        if let Some((id, status)) = &change.status {
            health_issues::save_status(db, tenant, id, *status, now).await?;
            if *status == HealthIssueStatus::Closed {
                summary.issues_closed += 1;
            } else {
                summary.issues_reopened += 1;
            }
        }
        refresh_health(db, tenant, Some(&change.touched)).await?;
    }
    Ok(())
}
