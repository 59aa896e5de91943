//! The client command line: one clap type per command, each with examples, and the shared
//! list flags. What each command does lives in the module named after its Graph resource.

use super::output::OutputArgs;
use super::target::ConnectArgs;
use clap::{Args, Subcommand};

/// Paging flags every list shares.
#[derive(Args, Debug, Clone, Default)]
pub struct ListArgs {
    /// OData $filter for anything the flags do not cover; and-ed with them.
    #[arg(long, value_name = "ODATA")]
    pub filter: Option<String>,
    /// Page size asked of the server ($top); pages are followed to the end either way.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub top: Option<u32>,
    /// Stop after N items.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max: Option<u64>,
    /// Print only how many items match ($count).
    #[arg(long, conflicts_with_all = ["top", "max"])]
    pub count: bool,
}

pub const HEALTH: [&str; 4] = [
    "healthy",
    "notHealthyLow",
    "notHealthyMedium",
    "notHealthyHigh",
];
pub const DEPLOYMENT: [&str; 9] = [
    "upToDate",
    "outdated",
    "updating",
    "updateFailed",
    "notConfigured",
    "unreachable",
    "disconnected",
    "startFailure",
    "syncing",
];
pub const SENSOR_TYPES: [&str; 5] = [
    "adConnectIntegrated",
    "adcsIntegrated",
    "adfsIntegrated",
    "domainControllerIntegrated",
    "domainControllerStandalone",
];

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket sensors list --health notHealthyHigh --domain contoso.com
  picket sensors show b3c1b5fc-828c-45fa-a1e1-000000000001 --issues
  picket sensors update b3c1b5fc-828c-45fa-a1e1-000000000009 --description \"DC1, rack 4\" --delayed-deployment true
  picket sensors delete b3c1b5fc-828c-45fa-a1e1-000000000012 --yes")]
pub struct SensorsArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub cmd: SensorsCommand,
}

#[derive(Subcommand, Debug)]
pub enum SensorsCommand {
    /// List sensors, following every page.
    #[command(after_help = "Examples:
  picket sensors list
  picket sensors list --health notHealthyHigh --health notHealthyMedium
  picket sensors list --deployment-status disconnected --type domainControllerIntegrated
  picket sensors list --filter \"startswith(version,'3.')\" -o csv > sensors.csv
  picket sensors list -o jsonl --top 1000 | jq -r .displayName")]
    List(SensorListArgs),
    /// Show one sensor.
    #[command(after_help = "Example:
  picket sensors show b3c1b5fc-828c-45fa-a1e1-000000000001 --issues")]
    Show {
        id: String,
        /// Include the sensor's health issues ($expand=healthIssues).
        #[arg(long)]
        issues: bool,
    },
    /// Change a sensor's settings: description, delayed deployment, domain controllers.
    #[command(after_help = "Examples:
  picket sensors update b3c1b5fc-828c-45fa-a1e1-000000000009 --description \"DC1, rack 4\"
  picket sensors update b3c1b5fc-828c-45fa-a1e1-000000000009 --delayed-deployment false
  picket sensors update b3c1b5fc-828c-45fa-a1e1-000000000009 --dc-dns-names dc1.fabrikam.local,dc2.fabrikam.local   # standalone, AD FS, AD CS, Entra Connect")]
    Update(SensorUpdateArgs),
    /// Delete sensors by id, or every sensor a status or filter selects (e.g. the unreachable
    /// ones of removed domain controllers); asks first.
    #[command(after_help = "Examples:
  picket sensors delete b3c1b5fc-828c-45fa-a1e1-000000000011 b3c1b5fc-828c-45fa-a1e1-000000000010 --yes
  picket sensors delete --deployment-status unreachable
  picket sensors delete --filter \"domainName eq 'old.contoso.com'\" --yes")]
    Delete(SensorDeleteArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct SensorDeleteArgs {
    /// Sensor ids.
    pub ids: Vec<String>,
    /// Every sensor with this deploymentStatus; repeatable.
    #[arg(long, value_parser = DEPLOYMENT, conflicts_with = "ids")]
    pub deployment_status: Vec<String>,
    /// Every sensor this OData $filter selects.
    #[arg(long, value_name = "ODATA", conflicts_with = "ids")]
    pub filter: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct SensorListArgs {
    /// Only sensors with this healthStatus; repeatable.
    #[arg(long, value_parser = HEALTH)]
    pub health: Vec<String>,
    /// Only sensors with this deploymentStatus; repeatable.
    #[arg(long, value_parser = DEPLOYMENT)]
    pub deployment_status: Vec<String>,
    /// Only sensors of this sensorType; repeatable.
    #[arg(long = "type", value_parser = SENSOR_TYPES)]
    pub sensor_type: Vec<String>,
    /// Only sensors of this domainName (exact); repeatable.
    #[arg(long)]
    pub domain: Vec<String>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub struct SensorUpdateArgs {
    pub id: String,
    #[arg(long)]
    pub description: Option<String>,
    /// The delayed update ring (2.x sensors only).
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
    pub delayed_deployment: Option<bool>,
    /// Domain controllers the sensor works with, comma-separated (2.x sensors that are not
    /// domain controller sensors).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "FQDN,…",
        conflicts_with = "clear_dc_dns_names"
    )]
    pub dc_dns_names: Option<Vec<String>>,
    /// Empty the domain controller list.
    #[arg(long)]
    pub clear_dc_dns_names: bool,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket health-issues list --status open --severity high
  picket health-issues list --sensor DC1 --domain contoso.com
  picket health-issues suppress 5e4d2c1b-0a9f-4e8d-b7c6-000000000005 ; picket health-issues reopen 5e4d2c1b-0a9f-4e8d-b7c6-000000000005")]
pub struct HealthIssuesArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub cmd: HealthIssuesCommand,
}

#[derive(Subcommand, Debug)]
pub enum HealthIssuesCommand {
    /// List health issues, newest first, following every page.
    #[command(after_help = "Examples:
  picket health-issues list --status open
  picket health-issues list --status open --status suppressed --severity high --type sensor
  picket health-issues list --sensor DC1.contoso.com -o json
  picket health-issues list --domain contoso.com --filter \"issueTypeId eq '1031'\"")]
    List(IssueListArgs),
    /// Show one health issue with its recommendations.
    #[command(after_help = "Example:
  picket health-issues show 5e4d2c1b-0a9f-4e8d-b7c6-000000000002")]
    Show { id: String },
    /// Mark issues closed (resolved).
    #[command(after_help = "Example:
  picket health-issues close 5e4d2c1b-0a9f-4e8d-b7c6-000000000001 5e4d2c1b-0a9f-4e8d-b7c6-000000000003")]
    Close {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Suppress issues (silenced for seven days while the condition lasts).
    #[command(after_help = "Example:
  picket health-issues suppress 5e4d2c1b-0a9f-4e8d-b7c6-000000000002")]
    Suppress {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Set issues back to open.
    #[command(after_help = "Example:
  picket health-issues reopen 5e4d2c1b-0a9f-4e8d-b7c6-000000000002")]
    Reopen {
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct IssueListArgs {
    /// Only issues with this status; repeatable.
    #[arg(long, value_parser = ["open", "closed", "suppressed"])]
    pub status: Vec<String>,
    /// Only issues of this severity; repeatable.
    #[arg(long, value_parser = ["low", "medium", "high"])]
    pub severity: Vec<String>,
    /// Only issues of this healthIssueType; repeatable.
    #[arg(long = "type", value_parser = ["sensor", "global"])]
    pub issue_type: Vec<String>,
    /// A sensor's DNS name, or its short name (DC1 matches DC1.<any domain>); repeatable.
    #[arg(long)]
    pub sensor: Vec<String>,
    /// A domain the issue names (exact); repeatable.
    #[arg(long)]
    pub domain: Vec<String>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket candidates list
  picket candidates activate --name '*.contoso.com' --yes
  picket candidates activate --all --yes")]
pub struct CandidatesArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub cmd: CandidatesCommand,
}

#[derive(Subcommand, Debug)]
pub enum CandidatesCommand {
    /// List servers that can be activated as sensors.
    #[command(after_help = "Examples:
  picket candidates list
  picket candidates list --filter \"senseClientVersion eq '10.8780.27711.1000'\"")]
    List(ListArgs),
    /// Show one candidate.
    #[command(after_help = "Example:
  picket candidates show c0633ebb-8cfb-f17a-0b9e-000000000001 -o json")]
    Show { id: String },
    /// Activate candidates as unified (3.x) sensors, by id, by DNS name pattern, or all; asks first.
    #[command(after_help = "Examples:
  picket candidates activate c0633ebb-8cfb-f17a-0b9e-000000000001 --yes
  picket candidates activate --name 'dc*.emea.contoso.com' --name 'dc3.*' --yes
  picket candidates activate --all --yes")]
    Activate(ActivateArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct ActivateArgs {
    /// Candidate (server) ids.
    pub ids: Vec<String>,
    /// A glob on computerDnsName (`*` any run, `?` one character; case-insensitive); repeatable.
    #[arg(long = "name", value_name = "GLOB", conflicts_with = "all")]
    pub names: Vec<String>,
    /// Every waiting candidate.
    #[arg(long, conflicts_with = "ids")]
    pub all: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket activation show
  picket activation set automated")]
pub struct ActivationArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub cmd: ActivationCommand,
}

#[derive(Subcommand, Debug)]
pub enum ActivationCommand {
    /// Show whether candidates are activated manually or automatically.
    #[command(after_help = "Example:
  picket activation show -o json")]
    Show,
    /// Set the activation mode; `automated` activates every waiting candidate.
    #[command(after_help = "Example:
  picket activation set manual")]
    Set {
        #[arg(value_parser = ["manual", "automated"])]
        mode: String,
    },
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket access-key show --reveal
  picket access-key regenerate --yes")]
pub struct AccessKeyArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub cmd: AccessKeyCommand,
}

#[derive(Subcommand, Debug)]
pub enum AccessKeyCommand {
    /// Show the deployment access key classic sensor installers need (masked unless --reveal).
    #[command(after_help = "Example:
  picket access-key show --reveal -o json | jq -r .deploymentAccessKey")]
    Show {
        /// Print the key itself.
        #[arg(long)]
        reveal: bool,
    },
    /// Make a new deployment access key; the old one stops working for new installs. Asks first.
    #[command(after_help = "Example:
  picket access-key regenerate --yes --reveal")]
    Regenerate {
        #[arg(long)]
        reveal: bool,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket package show
  picket package download --out sensor.zip")]
pub struct PackageArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub cmd: PackageCommand,
}

#[derive(Subcommand, Debug)]
pub enum PackageCommand {
    /// Show the classic sensor package's version and download URL.
    #[command(after_help = "Example:
  picket package show -o json")]
    Show,
    /// Download the classic sensor package.
    #[command(after_help = "Example:
  picket package download --out sensor-package.zip")]
    Download {
        /// File to write; default: the name in the URL.
        #[arg(long, short = 'O', value_name = "PATH")]
        out: Option<std::path::PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket watch sensors --interval 10
  picket watch sensors --once")]
pub struct WatchArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(subcommand)]
    pub cmd: WatchCommand,
}

#[derive(Subcommand, Debug)]
pub enum WatchCommand {
    /// A live view of the fleet, least healthy first, with counts by status; Ctrl-C quits.
    #[command(after_help = "Examples:
  picket watch sensors
  picket watch sensors --interval 30 --filter \"domainName eq 'contoso.com'\"
  picket watch sensors --once > fleet.txt")]
    Sensors {
        /// Seconds between refreshes.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
        interval: u64,
        /// Print one frame and exit.
        #[arg(long)]
        once: bool,
        /// OData $filter on the sensors shown.
        #[arg(long, value_name = "ODATA")]
        filter: Option<String>,
    },
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket fixtures export --out fixture.json
  picket fixtures export --anonymize --tenant-id 6babcaad-604b-40ac-a9d7-9fd97c0b779f --out anonymized.json")]
pub struct FixturesArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(subcommand)]
    pub cmd: FixturesCommand,
}

#[derive(Subcommand, Debug)]
pub enum FixturesCommand {
    /// Clone a tenant through the Graph API into a fixture file that `picket seed FILE` loads.
    ///
    /// Reads every page of sensors (with their settings), sensorCandidates and healthIssues,
    /// and the activation mode (sensorCandidateActivationConfiguration); ids are kept. The
    /// deployment access key is never read. healthStatus and openHealthIssuesCount are not
    /// written: seed derives them from the open issues. Sensors carry serviceStatus on beta
    /// only, so keep the default --api beta for a faithful copy. Writes pretty JSON, and one
    /// line with the counts to stderr.
    #[command(
        after_help = "What --anonymize replaces (the same name, compared case-insensitively, always by the
same pseudonym within one export; pseudonyms are numbered in order of appearance):
  host names     sensor displayName (DC01 -> host-0001), and the host part of every DNS name
  domain names   sensor domainName, health issue domainNames, and the domain part of every DNS
                 name (contoso.com -> domain-01.example; each domain as a whole, so
                 emea.contoso.com gets a number of its own; a DNS name is split at the longest
                 of those domains it ends in, else after its first label)
  DNS names      settings.domainControllerDnsNames, candidate computerDnsName, health issue
                 sensorDNSNames (DC01.contoso.com -> host-0001.domain-01.example)
  free text      sensor settings.description; health issue displayName, description,
                 additionalInformation, recommendations, recommendedActionCommands: every word
                 that is one of those names (or a host under one of those domains), and a
                 domain's first label alone, as in CONTOSO\\admin (-> domain-01\\admin)
Kept as they are: ids, versions, types, statuses, issueTypeId, timestamps, and text that
names something in another way (a URL, a user name).

Examples:
  picket fixtures export --out fixture.json
  picket fixtures export --anonymize --out anonymized.json
  picket fixtures export --tenant-id 6babcaad-604b-40ac-a9d7-9fd97c0b779f --top 200 --out copy.json --force
  picket fixtures export --anonymize | jq '.sensors[].displayName'"
    )]
    Export(ExportArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct ExportArgs {
    /// File to write; default: standard output.
    #[arg(long, short = 'O', value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Replace an existing --out file.
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Replace host, domain and DNS names with consistent pseudonyms (listed below).
    #[arg(long)]
    pub anonymize: bool,
    /// The tenantId written into the fixture, where `picket seed FILE` loads it; default: the
    /// tenant exported (the tid of the token).
    #[arg(long, value_name = "GUID")]
    pub tenant_id: Option<String>,
    /// Page size asked of the server ($top); pages are followed to the end either way.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub top: Option<u32>,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket accounts list --filter \"isEnabled eq false\"
  picket accounts show 1d3a5c7e-0000-4000-8000-000000000001
  picket accounts disable 1d3a5c7e-0000-4000-8000-000000000001 --yes
  picket accounts revoke-sessions 1d3a5c7e-0000-4000-8000-000000000002 --provider okta --yes")]
pub struct AccountsArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub cmd: AccountsCommand,
}

/// Which account of an identity an action goes to, and whether to ask first.
#[derive(Args, Debug, Clone)]
pub struct ActionArgs {
    /// The identity (identityAccounts id).
    pub id: String,
    /// The source system: activeDirectory, okta or entraID; default: the first of the
    /// identity's accounts that offers the action.
    #[arg(long, value_parser = ["activeDirectory", "okta", "entraID"])]
    pub provider: Option<String>,
    /// Do not ask: these are break-glass actions on real accounts.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// List identity accounts (people, administrators, service accounts) and their sources.
    #[command(after_help = "Example:
  picket accounts list --filter \"domain eq 'contoso.com'\"")]
    List(ListArgs),
    /// Show one identity with its accounts and the actions each offers.
    #[command(after_help = "Example:
  picket accounts show 1d3a5c7e-0000-4000-8000-000000000001 -o json")]
    Show { id: String },
    /// Disable the account (AD: carried out by a domain controller's sensor; Okta: at once).
    #[command(after_help = "Example:
  picket accounts disable 1d3a5c7e-0000-4000-8000-000000000001 --yes")]
    Disable(ActionArgs),
    /// Enable the account again.
    #[command(after_help = "Example:
  picket accounts enable 1d3a5c7e-0000-4000-8000-000000000003 --yes")]
    Enable(ActionArgs),
    /// Make the user set a new password at next sign-in (Active Directory).
    #[command(after_help = "Example:
  picket accounts reset-password 1d3a5c7e-0000-4000-8000-000000000001 --yes")]
    ResetPassword(ActionArgs),
    /// The actions asked for and where each stands: pending (waiting for a domain
    /// controller's sensor), done or failed (a Picket server only).
    #[command(after_help = "Example:
  picket accounts actions")]
    Actions,
    /// Revoke every session (Okta).
    #[command(after_help = "Example:
  picket accounts revoke-sessions 1d3a5c7e-0000-4000-8000-000000000002 --provider okta --yes")]
    RevokeSessions(ActionArgs),
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket auditing show
  picket auditing set --automatic true")]
pub struct AuditingArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub cmd: AuditingCommand,
}

#[derive(Subcommand, Debug)]
pub enum AuditingCommand {
    /// Whether sensors configure their hosts' Windows auditing themselves.
    #[command(after_help = "Example:
  picket auditing show -o json")]
    Show,
    /// Turn automatic auditing configuration on or off.
    #[command(after_help = "Example:
  picket auditing set --automatic false")]
    Set {
        #[arg(long, action = clap::ArgAction::Set, value_parser = clap::value_parser!(bool))]
        automatic: bool,
    },
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  picket migration list --filter \"migrationState eq 'readyForMigration'\"
  picket migration start b3c1b5fc-828c-45fa-a1e1-000000000001 --yes")]
pub struct MigrationArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(subcommand)]
    pub cmd: MigrationCommand,
}

#[derive(Subcommand, Debug)]
pub enum MigrationCommand {
    /// Classic sensors and their moves to the unified sensor (beta sensorMigration).
    #[command(after_help = "Example:
  picket migration list")]
    List(ListArgs),
    /// Move classic sensors to the unified sensor: by id, or every one that is ready; asks first.
    #[command(after_help = "Examples:
  picket migration start b3c1b5fc-828c-45fa-a1e1-000000000001 --yes
  picket migration start --all-ready --yes")]
    Start {
        /// Sensor ids.
        ids: Vec<String>,
        /// Every sensor whose migrationState is readyForMigration.
        #[arg(long)]
        all_ready: bool,
        #[arg(long)]
        yes: bool,
    },
}
