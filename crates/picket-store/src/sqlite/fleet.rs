//! Fleet rows: enrolment, check-ins, and evaluation of one sensor by the domain's status engine
//! and health rules, applied in the caller's transaction.

use super::health::refresh_health;
use super::rows::ts;
use super::{health_issues, sensors};
use crate::fleet::*;
use crate::StoreError;
use deadpool_sqlite::rusqlite::{params, Connection, OptionalExtension, Transaction};
use picket_domain::fleet::issues::{self, IssueChange, GLOBAL_OWNER, GLOBAL_RULES};
use picket_domain::fleet::{agent, derive, rollout, AgentFacts, UpdateState};
use picket_domain::time::{parse_timestamp, Timestamp};
use picket_domain::*;

fn access_key_matches(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    access_key: &str,
) -> Result<bool, StoreError> {
    let known: Option<String> = tx
        .prepare_cached("SELECT access_key FROM tenants WHERE tenant_id = ?1")?
        .query_row(params![tenant.as_str()], |r| r.get(0))
        .optional()?;
    // Compared in constant time; an unknown tenant looks the same as a wrong key.
    Ok(known.is_some_and(|k| constant_time_eq(&k, access_key)))
}

#[allow(clippy::too_many_arguments)]
pub fn report_candidate(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    access_key: &str,
    computer: &str,
    sense_version: &str,
    credential_hash: &str,
    unified_version: &str,
    now: Timestamp,
) -> Result<Result<CandidateOutcome, AgentRefusal>, StoreError> {
    if !access_key_matches(tx, tenant, access_key)? {
        return Ok(Err(AgentRefusal::BadAccessKey));
    }
    let computer = computer.trim().trim_end_matches('.').to_ascii_lowercase();
    // Already a sensor with an agent: activated before, credential handed out before.
    let enrolled: Option<String> = tx
        .prepare_cached("SELECT sensor_id FROM sensor_agents WHERE tenant_id = ?1 AND computer_dns_name = ?2 AND deleted_at IS NULL")?.query_row(params![tenant.as_str(), computer],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = enrolled {
        return Ok(Ok(CandidateOutcome::Activated {
            sensor: SensorId::new(id),
            credential_issued: false,
        }));
    }
    let waiting: Option<String> = tx
        .prepare_cached("SELECT id FROM sensor_candidates WHERE tenant_id = ?1 AND computer_dns_name = ?2 COLLATE NOCASE")?.query_row(params![tenant.as_str(), computer],
            |r| r.get(0),
        )
        .optional()?;
    let activated_sensor: Option<String> = tx
        .prepare_cached("SELECT id FROM sensors WHERE tenant_id = ?1 AND fqdn = ?2")?
        .query_row(params![tenant.as_str(), computer], |r| r.get(0))
        .optional()?;
    let candidate_id = match (waiting, &activated_sensor) {
        (Some(id), _) => {
            tx.prepare_cached("UPDATE sensor_candidates SET last_seen_date_time = ?3, sense_client_version = ?4 WHERE tenant_id = ?1 AND id = ?2")?.execute(params![tenant.as_str(), id, ts(&now), sense_version],
            )?;
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
            super::candidates::insert(tx, tenant, &candidate)?;
            Some(candidate.id)
        }
    };
    let mut sensor_id = activated_sensor.map(SensorId::new);
    if let Some(candidate) = &candidate_id {
        // Automated mode activates a candidate the moment it arrives (spec §4.5).
        if crate::sql::sqlite::run(crate::tables::tenants::activation_mode(
            &crate::sql::sqlite::Lite(tx),
            tenant,
        ))? == ActivationMode::Automated
        {
            let outcome = super::candidates::activate(
                tx,
                tenant,
                std::slice::from_ref(candidate),
                unified_version,
                now,
            )?;
            sensor_id = outcome.activated.into_iter().next();
        }
    }
    match sensor_id {
        Some(id) => {
            tx.prepare_cached("INSERT INTO sensor_agents (tenant_id, sensor_id, computer_dns_name, credential_hash, enrolled_at)                  VALUES (?1, ?2, ?3, ?4, ?5)                  ON CONFLICT (tenant_id, sensor_id) DO UPDATE SET computer_dns_name = excluded.computer_dns_name,                  credential_hash = excluded.credential_hash, enrolled_at = excluded.enrolled_at, deleted_at = NULL,                  last_seen = NULL, last_config_pull = NULL")?.execute(params![tenant.as_str(), id.as_str(), computer, credential_hash, ts(&now)],
            )?;
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

pub fn enroll(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    access_key: &str,
    req: &EnrollRequest,
    credential_hash: &str,
    now: Timestamp,
    policy: &FleetPolicy,
) -> Result<Result<Enrolled, AgentRefusal>, StoreError> {
    if !access_key_matches(tx, tenant, access_key)? {
        return Ok(Err(AgentRefusal::BadAccessKey));
    }
    let existing: Option<String> = tx
        .prepare_cached("SELECT sensor_id FROM sensor_agents WHERE tenant_id = ?1 AND computer_dns_name = ?2 AND deleted_at IS NULL")?.query_row(params![tenant.as_str(), req.computer_dns_name],
            |r| r.get(0),
        )
        .optional()?;
    let (id, reinstalled) = match existing {
        Some(id) => {
            // A re-install of the same computer: same sensor, new credential.
            tx.prepare_cached("UPDATE sensor_agents SET credential_hash = ?3, last_config_pull = NULL, update_state = 'idle' \
                 WHERE tenant_id = ?1 AND sensor_id = ?2")?.execute(params![tenant.as_str(), id, credential_hash],
            )?;
            tx.prepare_cached("UPDATE sensors SET version = ?3 WHERE tenant_id = ?1 AND id = ?2")?
                .execute(params![tenant.as_str(), id, req.version])?;
            (SensorId::new(id), true)
        }
        None => {
            // A computer enrolled before and then deleted starts over as a new sensor.
            tx.prepare_cached(
                "DELETE FROM sensor_agents WHERE tenant_id = ?1 AND computer_dns_name = ?2",
            )?
            .execute(params![tenant.as_str(), req.computer_dns_name])?;
            let sensor = agent::enrolled_sensor(
                SensorId::generate(),
                &req.computer_dns_name,
                req.sensor_type,
                &req.version,
                now,
            );
            sensors::insert(tx, tenant, &sensor)?;
            tx.prepare_cached("INSERT INTO sensor_agents (tenant_id, sensor_id, computer_dns_name, credential_hash, enrolled_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(params![tenant.as_str(), sensor.id.as_str(), req.computer_dns_name, credential_hash, ts(&now)],
            )?;
            (sensor.id, false)
        }
    };
    evaluate(tx, tenant, &id, now, policy, &mut SweepSummary::default())?;
    let sensor = sensors::find(tx, tenant, id.as_str())?
        .ok_or_else(|| StoreError::Internal("enrolled sensor vanished".into()))?;
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

pub fn check_in(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    sensor: &SensorId,
    credential_hash: &str,
    report: &CheckInReport,
    now: Timestamp,
    policy: &FleetPolicy,
) -> Result<Result<CheckInAnswer, AgentRefusal>, StoreError> {
    let row: Option<(String, Option<String>, i64)> = tx
        .prepare_cached(
            "SELECT credential_hash, deleted_at, desired_settings_version FROM sensor_agents \
             WHERE tenant_id = ?1 AND sensor_id = ?2",
        )?
        .query_row(params![tenant.as_str(), sensor.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
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
    tx.prepare_cached("UPDATE sensor_agents SET last_seen = ?3, last_config_pull = ?3, reported_service = ?4, \
         applied_settings_version = MIN(?5, desired_settings_version), \
         update_state = ?6, update_target = ?7, \
         update_since = CASE WHEN update_state = ?6 AND update_since IS NOT NULL THEN update_since ELSE ?3 END, \
         reported_issues = ?8 WHERE tenant_id = ?1 AND sensor_id = ?2")?.execute(params![
            tenant.as_str(),
            sensor.as_str(),
            ts(&now),
            report.service_status.as_str(),
            i64::try_from(report.applied_settings_version).unwrap_or(i64::MAX),
            state,
            target,
            host_issues_json(&report.host_issues),
        ],
    )?;
    tx.prepare_cached(
        "UPDATE sensors SET version = ?3 WHERE tenant_id = ?1 AND id = ?2 AND version != ?3",
    )?
    .execute(params![tenant.as_str(), sensor.as_str(), report.version])?;
    let current = evaluate(
        tx,
        tenant,
        sensor,
        now,
        policy,
        &mut SweepSummary::default(),
    )?;
    let command = match &current {
        Some(s) => rollout_command(tx, tenant, s, &report.update, now, policy)?,
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
fn rollout_command(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    sensor: &Sensor,
    update: &UpdateReport,
    now: Timestamp,
    policy: &FleetPolicy,
) -> Result<AgentCommand, StoreError> {
    let Some(offered) = rollout::offer(sensor, update, &policy.releases, now) else {
        return Ok(AgentCommand::None);
    };
    let updating = updating_in_domain(tx, tenant, &sensor.domain_name)?;
    Ok(rollout::admit(offered, updating, policy.rollout_per_domain))
}

/// Marks a deleted sensor's agent so its next check-in is told to stop.
pub fn tombstone(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    sensor: &SensorId,
    now: Timestamp,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE sensor_agents SET deleted_at = ?3 WHERE tenant_id = ?1 AND sensor_id = ?2",
    )?
    .execute(params![tenant.as_str(), sensor.as_str(), ts(&now)])?;
    tx.prepare_cached("DELETE FROM agent_issues WHERE tenant_id = ?1 AND sensor_id = ?2")?
        .execute(params![tenant.as_str(), sensor.as_str()])?;
    Ok(())
}

/// Settings changed through the Graph API: the sensor must pull and acknowledge them.
pub fn settings_changed(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    sensor: &SensorId,
) -> Result<(), StoreError> {
    let enrolled = tx
        .prepare_cached(
            "UPDATE sensor_agents SET desired_settings_version = desired_settings_version + 1 \
             WHERE tenant_id = ?1 AND sensor_id = ?2 AND deleted_at IS NULL",
        )?
        .execute(params![tenant.as_str(), sensor.as_str()])?;
    // Shown at once, not at the next evaluation: what the engine derives with the new
    // settings not yet acknowledged (spec §4.2).
    if enrolled == 0 {
        return Ok(());
    }
    let Some(stored) = sensors::find(tx, tenant, sensor.as_str())? else {
        return Ok(());
    };
    let wanted = picket_domain::fleet::status::after_settings_change(
        stored.deployment_status,
        stored.sensor_type,
        &stored.version,
        !stored.settings.domain_controller_dns_names.is_empty(),
    );
    if wanted != stored.deployment_status {
        tx.prepare_cached(
            "UPDATE sensors SET deployment_status = ?3 WHERE tenant_id = ?1 AND id = ?2",
        )?
        .execute(params![tenant.as_str(), sensor.as_str(), wanted.as_str()])?;
    }
    Ok(())
}

fn opt_ts(text: Option<String>) -> Option<Timestamp> {
    text.as_deref().and_then(parse_timestamp)
}

fn load_agent(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    sensor: &SensorId,
) -> Result<Option<AgentFacts>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT enrolled_at, last_seen, last_config_pull, reported_service, desired_settings_version, \
             applied_settings_version, update_state, update_target, update_since, reported_issues, dc_exists \
             FROM sensor_agents WHERE tenant_id = ?1 AND sensor_id = ?2 AND deleted_at IS NULL",
        )?
        .query_row(params![tenant.as_str(), sensor.as_str()], |r| {
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
                desired: r.get::<_, i64>(4)?.max(0) as u64,
                applied: r.get::<_, i64>(5)?.max(0) as u64,
                update,
                host_issues: host_issues_from_json(&issues),
                dc_exists: r.get(10)?,
            })
        })
        .optional()?)
}

/// Brings one sensor's statuses and Picket-raised issues up to date at `now`.
pub fn evaluate(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    id: &SensorId,
    now: Timestamp,
    policy: &FleetPolicy,
    summary: &mut SweepSummary,
) -> Result<Option<Sensor>, StoreError> {
    let (Some(sensor), Some(agent)) = (
        sensors::find(tx, tenant, id.as_str())?,
        load_agent(tx, tenant, id)?,
    ) else {
        return Ok(None);
    };
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
        tx.prepare_cached("UPDATE sensors SET deployment_status = ?3, service_status = ?4 WHERE tenant_id = ?1 AND id = ?2")?
            .execute(params![tenant.as_str(), id.as_str(), derived.deployment_status.as_str(), derived.service_status.as_str()])?;
    }

    let silent = observed.silent_for(now, t.stopped_communicating_after);
    let stored = stored_issues(tx, tenant, id)?;
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
                health_issues::insert(tx, tenant, &issue)?;
                tx.prepare_cached("INSERT OR REPLACE INTO agent_issues (tenant_id, sensor_id, issue_key, issue_id) VALUES (?1, ?2, ?3, ?4)")?.execute(params![tenant.as_str(), id.as_str(), key, issue.id.as_str()],
                )?;
                summary.issues_raised += 1;
            }
            IssueChange::Reopen(key) => {
                if let Some((_, issue)) = stored.iter().find(|(k, _)| *k == key) {
                    health_issues::save_status(
                        tx,
                        tenant,
                        &issue.id,
                        HealthIssueStatus::Open,
                        now,
                    )?;
                    summary.issues_reopened += 1;
                }
            }
            IssueChange::Close(key) => {
                if let Some((_, issue)) = stored.iter().find(|(k, _)| *k == key) {
                    health_issues::save_status(
                        tx,
                        tenant,
                        &issue.id,
                        HealthIssueStatus::Closed,
                        now,
                    )?;
                    summary.issues_closed += 1;
                }
            }
        }
    }
    // The "stopped communicating" issue's severity follows the silence (decided by
    // `issues::severity_change`). Read again when silent: the issue may have been raised just now.
    let current = if silent {
        stored_issues(tx, tenant, id)?
    } else {
        stored
    };
    if let Some((issue, wanted)) = issues::severity_change(&current, derived.deployment_status) {
        severity_changed = true;
        tx.prepare_cached("UPDATE health_issues SET severity = ?3, last_modified_date_time = ?4 WHERE tenant_id = ?1 AND id = ?2")?.execute(params![tenant.as_str(), issue.id.as_str(), wanted.as_str(), ts(&now)],
        )?;
    }
    // Health follows issues only: refreshed when one of this sensor's issues changed.
    let issues_changed = issues_before
        != (
            summary.issues_raised,
            summary.issues_reopened,
            summary.issues_closed,
        );
    if issues_changed || severity_changed {
        refresh_health(tx, tenant, Some(&[fqdn]))?;
        return sensors::find(tx, tenant, id.as_str());
    }
    Ok(Some(Sensor {
        deployment_status: derived.deployment_status,
        service_status: derived.service_status,
        ..sensor
    }))
}

fn stored_issues(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    id: &SensorId,
) -> Result<Vec<(String, HealthIssue)>, StoreError> {
    let links: Vec<(String, String)> = tx
        .prepare_cached(
            "SELECT issue_key, issue_id FROM agent_issues WHERE tenant_id = ?1 AND sensor_id = ?2",
        )?
        .query_map(params![tenant.as_str(), id.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(links.len());
    for (key, issue_id) in links {
        if let Some(issue) = health_issues::find(tx, tenant, &crate::IssueScope::Tenant, &issue_id)?
        {
            out.push((key, issue));
        }
    }
    Ok(out)
}

/// Every enrolled sensor of every tenant (the sweep is operator-level background work).
pub fn all_agents(tx: &Transaction<'_>) -> Result<Vec<(TenantId, SensorId)>, StoreError> {
    let rows: Vec<(String, String)> = tx
        .prepare_cached("SELECT tenant_id, sensor_id FROM sensor_agents WHERE deleted_at IS NULL ORDER BY tenant_id, sensor_id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(t, s)| Some((TenantId::parse(&t)?, SensorId::new(s))))
        .collect())
}

/// Enrolled sensors not heard from (or without a configuration pull) since `since`.
pub fn silent_agents(
    tx: &Transaction<'_>,
    since: Timestamp,
) -> Result<Vec<(TenantId, SensorId)>, StoreError> {
    let rows: Vec<(String, String)> = tx
        .prepare_cached(
            "SELECT tenant_id, sensor_id FROM sensor_agents WHERE deleted_at IS NULL \
             AND (COALESCE(last_seen, enrolled_at) <= ?1 OR COALESCE(last_config_pull, enrolled_at) <= ?1) \
             ORDER BY tenant_id, sensor_id",
        )?
        .query_map(params![ts(&since)], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(t, s)| Some((TenantId::parse(&t)?, SensorId::new(s))))
        .collect())
}

/// Tenants with at least one enrolled sensor.
pub fn fleet_tenants(tx: &Transaction<'_>) -> Result<Vec<TenantId>, StoreError> {
    let rows: Vec<String> = tx
        .prepare_cached(
            "SELECT DISTINCT tenant_id FROM sensor_agents WHERE deleted_at IS NULL ORDER BY tenant_id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(rows.iter().filter_map(|t| TenantId::parse(t)).collect())
}

pub fn publish_release(
    tx: &Transaction<'_>,
    version: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    Ok(tx.prepare_cached("INSERT INTO releases (version, published_at) VALUES (?1, ?2) ON CONFLICT (version) DO NOTHING")?.execute(params![version, ts(&now)],
    )? == 1)
}

/// Claims a round of `job` for `holder` when the last round started at least `gap_ms` before
/// `now_ms` (one statement in a write transaction: of two processes claiming at once, one wins).
pub fn claim_job(
    tx: &Transaction<'_>,
    job: &str,
    holder: &str,
    now_ms: i64,
    gap_ms: i64,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(
            "INSERT INTO background_runs (job, started_ms, holder) VALUES (?1, ?2, ?3) \
             ON CONFLICT (job) DO UPDATE SET started_ms = excluded.started_ms, holder = excluded.holder \
             WHERE background_runs.started_ms <= excluded.started_ms - ?4 RETURNING holder",
        )?
        .query_row(params![job, now_ms, holder, gap_ms], |_| Ok(()))
        .optional()?
        .is_some())
}

pub fn releases(c: &Connection) -> Result<Vec<(String, Timestamp)>, StoreError> {
    let rows: Vec<(String, String)> = c
        .prepare_cached("SELECT version, published_at FROM releases")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out: Vec<(String, Timestamp)> = rows
        .into_iter()
        .filter_map(|(v, t)| Some((v, parse_timestamp(&t)?)))
        .collect();
    out.sort_by(|a, b| picket_domain::fleet::releases::compare_versions(&a.0, &b.0));
    Ok(out)
}

/// Sensors of a domain updating right now (the rollout admits a bounded number at a time).
fn updating_in_domain(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    domain: &str,
) -> Result<i64, StoreError> {
    Ok(tx.prepare_cached("SELECT COUNT(*) FROM sensor_agents a JOIN sensors s ON s.tenant_id = a.tenant_id AND s.id = a.sensor_id \
         WHERE a.tenant_id = ?1 AND a.update_state = 'inProgress' AND a.deleted_at IS NULL AND s.domain_name = ?2")?.query_row(params![tenant.as_str(), domain],
        |r| r.get(0),
    )?)
}

/// Raises, updates, reopens or closes the tenant's global issues from its open sensor issues
/// (decided by `issues::global_change`).
pub fn aggregate_globals(
    tx: &Transaction<'_>,
    tenant: &TenantId,
    now: Timestamp,
    summary: &mut SweepSummary,
) -> Result<(), StoreError> {
    for rule in &GLOBAL_RULES {
        let key = rule.key;
        let members: Vec<(String, String)> = tx
            .prepare_cached(
                "SELECT s.fqdn, s.domain_name FROM agent_issues a \
                 JOIN health_issues h ON h.tenant_id = a.tenant_id AND h.id = a.issue_id \
                 JOIN sensors s ON s.tenant_id = a.tenant_id AND s.id = a.sensor_id \
                 WHERE a.tenant_id = ?1 AND a.issue_key = ?2 AND h.status = 'open' ORDER BY s.fqdn",
            )?
            .query_map(params![tenant.as_str(), key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let members = issues::Members::of(&members);
        let existing_id: Option<String> = tx
            .prepare_cached("SELECT issue_id FROM agent_issues WHERE tenant_id = ?1 AND sensor_id = ?2 AND issue_key = ?3")?.query_row(params![tenant.as_str(), GLOBAL_OWNER, key],
                |r| r.get(0),
            )
            .optional()?;
        let existing = match &existing_id {
            Some(id) => health_issues::find(tx, tenant, &crate::IssueScope::Tenant, id)?,
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
            health_issues::insert(tx, tenant, issue)?;
            tx.prepare_cached("INSERT OR REPLACE INTO agent_issues (tenant_id, sensor_id, issue_key, issue_id) VALUES (?1, ?2, ?3, ?4)")?.execute(params![tenant.as_str(), GLOBAL_OWNER, key, issue.id.as_str()],
            )?;
            summary.issues_raised += 1;
        }
        if let Some((id, description)) = &change.rewrite {
            tx.prepare_cached("UPDATE health_issues SET sensor_dns_names = ?3, domain_names = ?4, description = ?5, \
                 last_modified_date_time = ?6 WHERE tenant_id = ?1 AND id = ?2")?.execute(params![
                    tenant.as_str(),
                    id.as_str(),
                    super::rows::json_list(&members.fqdns),
                    super::rows::json_list(&members.domains),
                    description,
                    ts(&now)
                ],
            )?;
            tx.prepare_cached(
                "DELETE FROM health_issue_sensors WHERE tenant_id = ?1 AND issue_id = ?2",
            )?
            .execute(params![tenant.as_str(), id.as_str()])?;
            let mut link = tx.prepare_cached(
                "INSERT OR IGNORE INTO health_issue_sensors (tenant_id, sensor_fqdn, issue_id) VALUES (?1, ?2, ?3)",
            )?;
            for f in &members.fqdns {
                link.execute(params![tenant.as_str(), f, id.as_str()])?;
            }
        }
        if let Some((id, status)) = &change.status {
            health_issues::save_status(tx, tenant, id, *status, now)?;
            if *status == HealthIssueStatus::Closed {
                summary.issues_closed += 1;
            } else {
                summary.issues_reopened += 1;
            }
        }
        refresh_health(tx, tenant, Some(&change.touched))?;
    }
    Ok(())
}
