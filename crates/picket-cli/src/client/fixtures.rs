//! `picket fixtures export`: a tenant's sensors (with their settings), sensor candidates,
//! activation mode and health issues, read through the Graph API (every page), written as the
//! fixture `picket seed FILE` loads. The fixture parser (`picket_server::fixture`) refuses
//! unknown fields, so exactly its fields are written; ids are kept; `--anonymize` replaces host
//! and domain names by pseudonyms, the same name always by the same one. The deployment access
//! key is never requested.

use super::auth::token_claim;
use super::commands::{ExportArgs, FixturesCommand};
use super::error::ClientError;
use super::http::Graph;
use super::{list_url, IDENTITIES};
use picket_domain::time::parse_timestamp;
use picket_domain::{
    ActivationMode, DeploymentStatus, HealthIssueSeverity, HealthIssueStatus, HealthIssueType,
    SensorType, ServiceStatus, TenantId,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

pub async fn run(graph: &Graph, cmd: FixturesCommand) -> Result<(), ClientError> {
    match cmd {
        FixturesCommand::Export(args) => export(graph, &args).await,
    }
}

/// The fixture file, field for field what `picket seed` accepts.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Fixture {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_mode: Option<String>,
    pub sensors: Vec<Sensor>,
    pub sensor_candidates: Vec<Candidate>,
    pub health_issues: Vec<Issue>,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Sensor {
    pub id: String,
    pub display_name: String,
    pub domain_name: String,
    pub sensor_type: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub domain_controller_dns_names: Vec<String>,
    pub is_delayed_deployment_enabled: bool,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub id: String,
    pub computer_dns_name: String,
    pub sense_client_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_date_time: Option<String>,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub id: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub health_issue_type: String,
    pub severity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_type_id: Option<String>,
    pub domain_names: Vec<String>,
    #[serde(rename = "sensorDNSNames")]
    pub sensor_dns_names: Vec<String>,
    pub additional_information: Vec<String>,
    pub recommendations: Vec<String>,
    pub recommended_action_commands: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_date_time: Option<String>,
}

async fn export(graph: &Graph, args: &ExportArgs) -> Result<(), ClientError> {
    let tenant_id = match &args.tenant_id {
        Some(t) => Some(
            TenantId::parse(t.trim())
                .ok_or_else(|| ClientError::usage(format!("--tenant-id '{t}' is not a GUID")))?
                .to_string(),
        ),
        None => None,
    };
    // Refuse before reading anything, not after.
    if let Some(out) = &args.out {
        if out.exists() && !args.force {
            return Err(ClientError::usage(format!(
                "{} exists; pass --force to replace it",
                out.display()
            )));
        }
    }
    let collection = |name: &str| {
        let url = list_url(graph, &format!("{IDENTITIES}/{name}"), None, args.top, &[]);
        graph.collect(url, None)
    };
    let activation_path = format!("{IDENTITIES}/sensorCandidateActivationConfiguration");
    let (sensors, candidates, issues, activation) = tokio::try_join!(
        collection("sensors"),
        collection("sensorCandidates"),
        collection("healthIssues"),
        graph.get_json(&activation_path),
    )?;
    let mut notes = Vec::new();
    let mut fixture = from_graph(&sensors, &candidates, &issues, &activation, &mut notes)?;
    fixture.tenant_id = match tenant_id {
        Some(t) => Some(t),
        None => token_claim(&graph.bearer().await?, "tid"),
    };
    if fixture.tenant_id.is_none() {
        notes.push(
            "the token names no tenant (tid), so the fixture has no tenantId: pass --tenant-id, or --tenant to picket seed".into(),
        );
    }
    let pseudonyms = args.anonymize.then(|| anonymize(&mut fixture));
    let mut text = serde_json::to_string_pretty(&fixture)
        .map_err(|e| ClientError::other(format!("cannot write the fixture: {e}")))?;
    text.push('\n');
    match &args.out {
        Some(path) => write_file(path, &text)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    for note in &notes {
        eprintln!("note: {note}");
    }
    eprintln!("{}", summary(&fixture, args.out.as_deref(), pseudonyms));
    Ok(())
}

/// The one line on stderr: what went where.
fn summary(f: &Fixture, out: Option<&Path>, pseudonyms: Option<(usize, usize)>) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut line = format!(
        "Exported {}, {}, {}, activation mode {} to {} (tenantId {}",
        plural(f.sensors.len(), "sensor", "sensors"),
        plural(f.sensor_candidates.len(), "candidate", "candidates"),
        plural(f.health_issues.len(), "health issue", "health issues"),
        f.activation_mode.as_deref().unwrap_or("(none)"),
        out.map_or_else(|| "stdout".to_string(), |p| p.display().to_string()),
        f.tenant_id.as_deref().unwrap_or("(none)"),
    );
    if let Some((hosts, domains)) = pseudonyms {
        line.push_str(&format!(
            "; anonymized: {} and {}",
            plural(hosts, "host name", "host names"),
            plural(domains, "domain", "domains")
        ));
    }
    line.push(')');
    line
}

/// Written beside the target and renamed once complete, so a failed export leaves no half file.
fn write_file(path: &Path, text: &str) -> Result<(), ClientError> {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = std::path::PathBuf::from(part);
    std::fs::write(&part, text)
        .map_err(|e| ClientError::other(format!("cannot write {}: {e}", part.display())))?;
    std::fs::rename(&part, path).map_err(|e| {
        let _ = std::fs::remove_file(&part);
        ClientError::other(format!("cannot write {}: {e}", path.display()))
    })
}

/// A Graph enum member as Picket stores it: the canonical spelling, never `unknownFutureValue`.
macro_rules! member {
    ($ty:ident) => {
        |s: &str| {
            $ty::parse(s)
                .filter(|v| *v != $ty::UnknownFutureValue)
                .map($ty::as_str)
        }
    };
}

/// One entity of a Graph answer, read field by field into fixture values.
struct Entity<'a> {
    what: &'static str,
    id: String,
    v: &'a Value,
}

impl<'a> Entity<'a> {
    fn new(what: &'static str, v: &'a Value) -> Result<Self, ClientError> {
        let id = v["id"]
            .as_str()
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| ClientError::other(format!("a {what} in the answer has no id")))?;
        Ok(Entity {
            what,
            id: id.to_string(),
            v,
        })
    }

    fn opt(&self, field: &str) -> Option<String> {
        self.v
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn string(&self, field: &str) -> Result<String, ClientError> {
        self.opt(field).ok_or_else(|| {
            ClientError::other(format!(
                "{} {}: the answer has no {field}, which a fixture needs",
                self.what, self.id
            ))
        })
    }

    /// A list of strings; `null` or absent is empty.
    fn strings(&self, field: &str) -> Vec<String> {
        self.v
            .get(field)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn required(
        &self,
        field: &str,
        parse: impl Fn(&str) -> Option<&'static str>,
    ) -> Result<String, ClientError> {
        let text = self.string(field)?;
        parse(&text).map(str::to_string).ok_or_else(|| {
            ClientError::other(format!(
                "{} {}: {field} '{text}' is not a value Picket can store",
                self.what, self.id
            ))
        })
    }

    /// An optional member; one Picket cannot store is left out (seed then uses its default).
    fn optional(
        &self,
        field: &str,
        parse: impl Fn(&str) -> Option<&'static str>,
        notes: &mut Vec<String>,
    ) -> Option<String> {
        let text = self.opt(field)?;
        let member = parse(&text);
        if member.is_none() {
            notes.push(format!(
                "{} {}: {field} '{text}' is not a value Picket can store; left out (seed uses its default)",
                self.what, self.id
            ));
        }
        member.map(str::to_string)
    }

    /// A timestamp seed can read; another form is left out (seed then uses the time of loading).
    fn time(&self, field: &str, notes: &mut Vec<String>) -> Option<String> {
        let text = self.opt(field)?;
        if parse_timestamp(&text).is_none() {
            notes.push(format!(
                "{} {}: {field} '{text}' is not an ISO 8601 date-time; left out",
                self.what, self.id
            ));
            return None;
        }
        Some(text)
    }
}

/// Graph JSON (as read) into the fixture; `notes` collects what had to be left out.
pub fn from_graph(
    sensors: &[Value],
    candidates: &[Value],
    issues: &[Value],
    activation: &Value,
    notes: &mut Vec<String>,
) -> Result<Fixture, ClientError> {
    let mut fixture = Fixture::default();
    for v in sensors {
        let e = Entity::new("sensor", v)?;
        let settings = v
            .get("settings")
            .filter(|s| s.is_object())
            .map(|s| Settings {
                description: s["description"].as_str().map(str::to_string),
                domain_controller_dns_names: s["domainControllerDnsNames"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                is_delayed_deployment_enabled: s["isDelayedDeploymentEnabled"]
                    .as_bool()
                    .unwrap_or(false),
            });
        fixture.sensors.push(Sensor {
            display_name: e.string("displayName")?,
            domain_name: e.string("domainName")?,
            sensor_type: e.required("sensorType", member!(SensorType))?,
            version: e.string("version")?,
            deployment_status: e.optional("deploymentStatus", member!(DeploymentStatus), notes),
            service_status: e.optional("serviceStatus", member!(ServiceStatus), notes),
            created_date_time: e.time("createdDateTime", notes),
            settings,
            id: e.id,
        });
    }
    for v in candidates {
        let e = Entity::new("sensor candidate", v)?;
        fixture.sensor_candidates.push(Candidate {
            computer_dns_name: e.string("computerDnsName")?,
            sense_client_version: e.string("senseClientVersion")?,
            last_seen_date_time: e.time("lastSeenDateTime", notes),
            id: e.id,
        });
    }
    for v in issues {
        let e = Entity::new("health issue", v)?;
        fixture.health_issues.push(Issue {
            display_name: e.string("displayName")?,
            description: e.opt("description"),
            health_issue_type: e.required("healthIssueType", member!(HealthIssueType))?,
            severity: e.required("severity", member!(HealthIssueSeverity))?,
            status: e.optional("status", member!(HealthIssueStatus), notes),
            issue_type_id: e.opt("issueTypeId"),
            domain_names: e.strings("domainNames"),
            sensor_dns_names: e.strings("sensorDNSNames"),
            additional_information: e.strings("additionalInformation"),
            recommendations: e.strings("recommendations"),
            recommended_action_commands: e.strings("recommendedActionCommands"),
            created_date_time: e.time("createdDateTime", notes),
            last_modified_date_time: e.time("lastModifiedDateTime", notes),
            id: e.id,
        });
    }
    // A function result sits at the body root; the docs' `{"value": {…}}` is read too.
    let activation = match activation.get("value") {
        Some(inner) if inner.is_object() => inner,
        _ => activation,
    };
    fixture.activation_mode = match activation.get("activationMode").and_then(Value::as_str) {
        Some(mode) => {
            let member = member!(ActivationMode)(mode);
            if member.is_none() {
                notes.push(format!(
                    "activationMode '{mode}' is not a value Picket can store; left out"
                ));
            }
            member.map(str::to_string)
        }
        None => None,
    };
    Ok(fixture)
}

/// Replaces host and domain names by pseudonyms (see `picket fixtures export --help`); returns
/// how many host names and domains were pseudonymised.
pub fn anonymize(f: &mut Fixture) -> (usize, usize) {
    let mut p = Pseudonyms::default();
    // Every name the structured fields hold is known before any free text is read, so text
    // mentioning a host that appears only later is rewritten too. Domains first: a DNS name is
    // split at the longest known domain.
    for s in &f.sensors {
        p.domain(&s.domain_name);
    }
    for i in &f.health_issues {
        for d in &i.domain_names {
            p.domain(d);
        }
    }
    for s in &f.sensors {
        p.display_name(&s.display_name);
        for n in s
            .settings
            .iter()
            .flat_map(|s| &s.domain_controller_dns_names)
        {
            p.dns(n);
        }
    }
    for c in &f.sensor_candidates {
        p.dns(&c.computer_dns_name);
    }
    for i in &f.health_issues {
        for n in &i.sensor_dns_names {
            p.dns(n);
        }
    }
    p.index_labels();
    let all =
        |p: &mut Pseudonyms, names: &mut Vec<String>, f: fn(&mut Pseudonyms, &str) -> String| {
            for n in names.iter_mut() {
                *n = f(p, n);
            }
        };
    for s in &mut f.sensors {
        s.display_name = p.display_name(&s.display_name);
        s.domain_name = p.domain(&s.domain_name);
        if let Some(settings) = &mut s.settings {
            all(
                &mut p,
                &mut settings.domain_controller_dns_names,
                Pseudonyms::dns,
            );
            if let Some(d) = &mut settings.description {
                *d = p.text(d);
            }
        }
    }
    for c in &mut f.sensor_candidates {
        c.computer_dns_name = p.dns(&c.computer_dns_name);
    }
    for i in &mut f.health_issues {
        all(&mut p, &mut i.domain_names, Pseudonyms::domain);
        all(&mut p, &mut i.sensor_dns_names, Pseudonyms::dns);
        i.display_name = p.text(&i.display_name);
        if let Some(d) = &mut i.description {
            *d = p.text(d);
        }
        all(&mut p, &mut i.additional_information, Pseudonyms::text);
        all(&mut p, &mut i.recommendations, Pseudonyms::text);
        all(&mut p, &mut i.recommended_action_commands, Pseudonyms::text);
    }
    (p.hosts.len(), p.domains.len())
}

/// Names to pseudonyms, keyed by the lower-cased name, numbered in order of first sight.
#[derive(Default)]
struct Pseudonyms {
    hosts: HashMap<String, String>,
    domains: HashMap<String, String>,
    /// A domain's first label (its NetBIOS-style name) to its pseudonym's first label.
    labels: HashMap<String, String>,
}

impl Pseudonyms {
    fn host(&mut self, name: &str) -> String {
        let key = name.trim().to_lowercase();
        if key.is_empty() {
            return name.to_string();
        }
        let n = self.hosts.len() + 1;
        self.hosts
            .entry(key)
            .or_insert_with(|| format!("host-{n:04}"))
            .clone()
    }

    fn domain(&mut self, name: &str) -> String {
        let key = name.trim().trim_matches('.').to_lowercase();
        if key.is_empty() {
            return name.to_string();
        }
        let n = self.domains.len() + 1;
        self.domains
            .entry(key)
            .or_insert_with(|| format!("domain-{n:02}.example"))
            .clone()
    }

    /// A sensor's displayName: a host name, or a DNS name if it has dots.
    fn display_name(&mut self, name: &str) -> String {
        if name.trim().trim_matches('.').contains('.') {
            self.dns(name)
        } else {
            self.host(name)
        }
    }

    /// The longest known domain `name` ends in, as (host part, domain).
    fn known_split<'n>(&self, name: &'n str) -> Option<(&'n str, &'n str)> {
        name.char_indices()
            .filter(|(_, c)| *c == '.')
            .map(|(i, _)| (&name[..i], &name[i + 1..]))
            .find(|(host, domain)| {
                !host.is_empty() && self.domains.contains_key(&domain.to_lowercase())
            })
    }

    /// `host.domain`: the host part as a displayName, the domain as a domain, split at the
    /// longest known domain (else at the first dot). So a sensor's displayName.domainName and
    /// the same name in an issue's sensorDNSNames get the same pseudonym.
    fn dns(&mut self, name: &str) -> String {
        let trimmed = name.trim().trim_matches('.');
        if self.domains.contains_key(&trimmed.to_lowercase()) {
            return self.domain(trimmed);
        }
        let split = self
            .known_split(trimmed)
            .or_else(|| trimmed.split_once('.'))
            .filter(|(h, d)| !h.is_empty() && !d.is_empty());
        match split {
            Some((host, domain)) => {
                format!("{}.{}", self.display_name(host), self.domain(domain))
            }
            None => self.host(trimmed),
        }
    }

    fn index_labels(&mut self) {
        let mut labels: Vec<(&String, &String)> = self.domains.iter().collect();
        // Deterministic when two domains share a first label: the one seen first wins.
        labels.sort_by(|a, b| a.1.cmp(b.1));
        for (domain, pseudonym) in labels {
            let label = domain.split('.').next().unwrap_or(domain);
            let short = pseudonym.split('.').next().unwrap_or(pseudonym);
            self.labels
                .entry(label.to_string())
                .or_insert_with(|| short.to_string());
        }
    }

    /// Free text with every word that is a known name replaced.
    fn text(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        for c in text.chars() {
            if c.is_alphanumeric() || c == '.' || c == '-' {
                word.push(c);
            } else {
                self.flush(&mut word, &mut out);
                out.push(c);
            }
        }
        self.flush(&mut word, &mut out);
        out
    }

    fn flush(&mut self, word: &mut String, out: &mut String) {
        // A sentence's full stop is not part of the name before it.
        let core = word.trim_matches('.');
        let start = word.len() - word.trim_start_matches('.').len();
        let end = start + core.len();
        let key = core.to_lowercase();
        let replaced = if core.is_empty() {
            None
        } else if key.contains('.') {
            let first = key.split('.').next().unwrap_or_default();
            (self.domains.contains_key(&key)
                || self.known_split(core).is_some()
                || self.hosts.contains_key(first))
            .then(|| self.dns(core))
        } else if let Some(host) = self.hosts.get(&key) {
            Some(host.clone())
        } else {
            self.labels.get(&key).cloned()
        };
        match replaced {
            Some(r) => {
                out.push_str(&word[..start]);
                out.push_str(&r);
                out.push_str(&word[end..]);
            }
            None => out.push_str(word),
        }
        word.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture_text(f: &Fixture) -> String {
        serde_json::to_string_pretty(f).expect("serializes")
    }

    fn graph_answer() -> (Vec<Value>, Vec<Value>, Vec<Value>, Value) {
        let sensors = vec![
            json!({"@odata.type": "#microsoft.graph.security.sensor", "id": "s-1", "displayName": "DC01",
                   "domainName": "contoso.com", "sensorType": "domainControllerIntegrated", "version": "2.239.1.1",
                   "deploymentStatus": "upToDate", "serviceStatus": "running", "healthStatus": "notHealthyHigh",
                   "openHealthIssuesCount": 1, "createdDateTime": "2024-01-02T03:04:05.1234567Z",
                   "settings": {"@odata.type": "#microsoft.graph.security.sensorSettings", "description": "DC01 in rack 4, see CONTOSO\\ops",
                                "domainControllerDnsNames": ["DC02.emea.contoso.com"], "isDelayedDeploymentEnabled": true}}),
            json!({"id": "s-2", "displayName": "dc02", "domainName": "emea.contoso.com", "sensorType": "adfsIntegrated",
                   "version": "2.239.1.1", "deploymentStatus": "somethingNew", "settings": null}),
        ];
        let candidates = vec![
            json!({"id": "c-1", "computerDnsName": "dc9.contoso.com", "senseClientVersion": "10.1", "lastSeenDateTime": "2024-01-02T03:04:05Z"}),
        ];
        let issues = vec![
            json!({"id": "h-1", "displayName": "Sensor stopped communicating", "description": "Sensor stopped on DC01.contoso.com.",
                   "healthIssueType": "sensor", "severity": "high", "status": "open", "issueTypeId": "1002",
                   "domainNames": ["contoso.com"], "sensorDNSNames": ["dc01.CONTOSO.com"], "additionalInformation": null,
                   "recommendations": ["See https://aka.ms/mdi for dc02.emea.contoso.com"], "recommendedActionCommands": []}),
        ];
        let activation = json!({"@odata.context": "x", "activationMode": "manual"});
        (sensors, candidates, issues, activation)
    }

    #[test]
    fn graph_json_becomes_exactly_what_seed_reads() {
        let (s, c, i, a) = graph_answer();
        let mut notes = Vec::new();
        let f = from_graph(&s, &c, &i, &a, &mut notes).expect("maps");
        assert_eq!(f.activation_mode.as_deref(), Some("manual"));
        assert_eq!(
            f.sensors[0]
                .settings
                .as_ref()
                .map(|s| s.is_delayed_deployment_enabled),
            Some(true)
        );
        assert_eq!(
            f.sensors[1].deployment_status, None,
            "an unknown member is left out"
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("somethingNew"), "{notes:?}");
        let text = fixture_text(&f);
        assert!(
            !text.contains("healthStatus") && !text.contains("@odata"),
            "{text}"
        );
        let (tenant, parsed) = picket_server::fixture::parse_fixture(&text, chrono::Utc::now())
            .expect("seed reads it");
        assert_eq!(tenant, None);
        assert_eq!(parsed.sensors.len(), 2);
        assert_eq!(parsed.sensors[0].id.as_str(), "s-1");
        assert_eq!(
            parsed.health_issues[0].sensor_dns_names,
            ["dc01.CONTOSO.com"]
        );
        assert_eq!(parsed.candidates[0].id.as_str(), "c-1");
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let (mut s, c, i, a) = graph_answer();
        s[1].as_object_mut().expect("object").remove("version");
        let e = from_graph(&s, &c, &i, &a, &mut Vec::new()).expect_err("refused");
        assert!(
            e.to_string().contains("sensor s-2") && e.to_string().contains("version"),
            "{e}"
        );
    }

    #[test]
    fn pseudonyms_are_consistent_and_cover_every_name() {
        let (s, c, i, a) = graph_answer();
        let mut f = from_graph(&s, &c, &i, &a, &mut Vec::new()).expect("maps");
        let (hosts, domains) = anonymize(&mut f);
        assert_eq!(
            (hosts, domains),
            (3, 2),
            "DC01, dc02 (= DC02), dc9; contoso.com, emea.contoso.com"
        );
        let s0 = &f.sensors[0];
        assert_eq!(s0.display_name, "host-0001");
        assert_eq!(s0.domain_name, "domain-01.example");
        let settings = s0.settings.as_ref().expect("settings");
        assert_eq!(
            settings.domain_controller_dns_names,
            ["host-0002.domain-02.example"]
        );
        assert_eq!(
            settings.description.as_deref(),
            Some("host-0001 in rack 4, see domain-01\\ops")
        );
        assert_eq!(f.sensors[1].display_name, "host-0002");
        assert_eq!(f.sensors[1].domain_name, "domain-02.example");
        assert_eq!(
            f.sensor_candidates[0].computer_dns_name,
            "host-0003.domain-01.example"
        );
        let issue = &f.health_issues[0];
        assert_eq!(issue.sensor_dns_names, ["host-0001.domain-01.example"]);
        assert_eq!(issue.domain_names, ["domain-01.example"]);
        assert_eq!(
            issue.description.as_deref(),
            Some("Sensor stopped on host-0001.domain-01.example.")
        );
        assert_eq!(
            issue.recommendations,
            ["See https://aka.ms/mdi for host-0002.domain-02.example"]
        );
        let text = fixture_text(&f).to_lowercase();
        for name in ["dc01", "dc02", "dc9", "contoso"] {
            assert!(!text.contains(name), "{name} left in {text}");
        }
        picket_server::fixture::parse_fixture(&fixture_text(&f), chrono::Utc::now())
            .expect("still seeds");
    }
}
