"""The identityContainer's 2026 additions through Microsoft's SDK builders, on both versions:
settings/autoAuditingConfiguration, the new properties, and the directory reads tools make
before they reach the sensors (organization, domains)."""

import importlib

import pytest

from conftest import TENANT
from picket_ids import CAND1, DC1

AUTO_READ = "SecurityIdentitiesAutoConfig.Read.All"
AUTO_RW = "SecurityIdentitiesAutoConfig.ReadWrite.All"


def model(api, module: str, name: str):
    return getattr(importlib.import_module(f"{api.m.package}.generated.models.security.{module}"), name)


async def test_auto_auditing_configuration_reads_and_patches(api, fresh_server):
    settings = api.client(fresh_server, roles=[AUTO_RW]).security.identities.settings
    container = await settings.get()
    assert container.odata_type == "#microsoft.graph.security.settingsContainer"
    config = await settings.auto_auditing_configuration.get()
    assert config.is_automatic is False
    AutoAuditingConfiguration = model(api, "auto_auditing_configuration", "AutoAuditingConfiguration")
    updated = await settings.auto_auditing_configuration.patch(AutoAuditingConfiguration(is_automatic=True))
    assert updated.is_automatic is True
    assert (await settings.auto_auditing_configuration.get()).is_automatic is True


async def test_auto_auditing_needs_its_own_permissions(api, server):
    m = api.m
    reader = api.client(server, roles=[AUTO_READ]).security.identities.settings
    assert (await reader.auto_auditing_configuration.get()).is_automatic in (True, False)
    AutoAuditingConfiguration = model(api, "auto_auditing_configuration", "AutoAuditingConfiguration")
    with pytest.raises(m.ODataError) as e:
        await reader.auto_auditing_configuration.patch(AutoAuditingConfiguration(is_automatic=True))
    assert e.value.response_status_code == 403 and e.value.error.code == "UnknownError"
    sensors_only = api.client(server, roles=["SecurityIdentitiesSensors.ReadWrite.All"]).security.identities
    with pytest.raises(m.ODataError) as e:
        await sensors_only.settings.auto_auditing_configuration.get()
    assert e.value.error.code == "UnknownError" and not e.value.error.message


async def test_v1_sensors_carry_service_status_and_beta_the_migration_state(api, server):
    sensor = await api.client(server).security.identities.sensors.by_sensor_id(DC1).get()
    assert sensor.service_status is not None
    if api.version == "beta":
        MigrationState = model(api, "migration_state", "MigrationState")
        assert isinstance(sensor.migration_state, MigrationState)


async def test_candidates_carry_their_domain(api, server):
    candidate = await api.client(server).security.identities.sensor_candidates.by_sensor_candidate_id(CAND1).get()
    assert candidate.domain_name and candidate.computer_dns_name.lower().endswith("." + candidate.domain_name.lower())
    if api.version == "beta":
        assert candidate.sensor_types, "the roles the machine can take"


async def test_organization_and_domains_for_tools_that_read_them_first(api, server):
    client = api.client(server, roles=["Directory.Read.All"])
    org = await client.organization.get()
    assert org.value[0].id == TENANT
    names = [d.name for d in org.value[0].verified_domains]
    assert any(n.endswith(".onmicrosoft.com") for n in names)
    domains = await client.domains.get()
    assert sorted(d.id for d in domains.value) == sorted(names)
    assert sum(1 for d in domains.value if d.is_default) == 1
    with pytest.raises(api.m.ODataError) as e:
        await api.client(server, roles=["SecurityIdentitiesSensors.Read.All"]).domains.get()
    assert e.value.response_status_code == 403 and e.value.error.code == "UnknownError"


ALICE = "22222222-0000-4000-8000-000000000001"
BOB = "22222222-0000-4000-8000-000000000002"
ACCOUNT_READ = "SecurityIdentitiesAccount.Read.All"
ACTIONS_RW = "SecurityIdentitiesActions.ReadWrite.All"


def invoke_body(api, account, action, provider):
    pkg = api.m.package
    Body = getattr(importlib.import_module(
        f"{pkg}.generated.security.identities.identity_accounts.item.microsoft_graph_security_invoke_action.invoke_action_post_request_body"),
        "InvokeActionPostRequestBody")
    Action = model(api, "action", "Action")
    Provider = model(api, "identity_provider", "IdentityProvider")
    return Body(account_id=account, action=Action(action), identity_provider=Provider(provider))


async def test_identity_accounts_list_get_and_count(api, server):
    accounts = api.client(server, roles=[ACCOUNT_READ]).security.identities.identity_accounts
    page = await accounts.get()
    assert [i.id for i in page.value] == [ALICE, BOB]
    alice = await accounts.by_identity_accounts_id(ALICE).get()
    assert alice.display_name == "Alice" and alice.is_enabled is True
    assert [a.identifier for a in alice.accounts] == ["alice@contoso.com", "alice@contoso.okta.com"]
    assert "disable" in [a.value for a in alice.accounts[0].actions]
    assert await accounts.count.get() == 2


async def test_invoke_action_okta_at_once_entra_refused(api, fresh_server):
    client = api.client(fresh_server, roles=[ACCOUNT_READ, ACTIONS_RW])
    item = client.security.identities.identity_accounts.by_identity_accounts_id(ALICE)
    result = await item.microsoft_graph_security_invoke_action.post(
        invoke_body(api, "alice@contoso.okta.com", "disable", "okta"))
    assert result.correlation_id and result.account_id == "alice@contoso.okta.com"
    assert (await item.get()).is_enabled is False
    bob = client.security.identities.identity_accounts.by_identity_accounts_id(BOB)
    with pytest.raises(api.m.ODataError) as e:
        await bob.microsoft_graph_security_invoke_action.post(
            invoke_body(api, "bob@contoso.onmicrosoft.com", "disable", "entraID"))
    assert e.value.response_status_code == 400
    assert e.value.error.message == "EntraID actions are not yet supported"
    with pytest.raises(api.m.ODataError) as e:
        await bob.microsoft_graph_security_invoke_action.post(
            invoke_body(api, "bob@contoso.com", "revokeAllSessions", "activeDirectory"))
    assert e.value.response_status_code == 400


async def test_beta_sensor_migration_and_migrate(beta, fresh_server):
    migration = beta.client(fresh_server, roles=["SecurityIdentitiesMigration.ReadWrite.All"]).security.identities.sensor_migration
    page = await migration.get()
    ready = [m.id for m in page.value if m.migration_state.value == "readyForMigration"]
    assert DC1 in ready
    assert await migration.count.get() == len(page.value)
    Body = getattr(importlib.import_module(
        "msgraph_beta.generated.security.identities.sensor_migration.microsoft_graph_security_migrate.migrate_post_request_body"),
        "MigratePostRequestBody")
    result = await migration.microsoft_graph_security_migrate.post(Body(sensor_ids=[DC1, "no-such-sensor"]))
    assert result.successful_migration_sensor_ids == [DC1]
    assert result.failed_migration_sensor_ids == ["no-such-sensor"]
    one = await migration.by_sensor_migration_id(DC1).get()
    assert one.migration_state.value == "migrating"
