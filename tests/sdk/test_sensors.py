"""sensors: list, get, $count, the healthIssues navigation, update and delete, through the SDK builders."""

from datetime import datetime, timezone

import pytest

from picket_ids import (ADCS1, ADFS1, ALL_SENSORS, BDC3, BDC9, DC1, DC2, ENTRA1, H_AUDITING, H_DC1_START,
                        H_DC2_CLOSED, H_DC2_SUPPRESSED, SA1, UNKNOWN_ID)

# id -> (sensorType, deploymentStatus, serviceStatus, healthStatus, openHealthIssuesCount) as SDK member names
EXPECTED = {
    DC1: ("DomainControllerIntegrated", "UpToDate", "Running", "NotHealthyHigh", 2),
    DC2: ("DomainControllerIntegrated", "UpToDate", "Running", "Healthy", 0),
    ADFS1: ("AdfsIntegrated", "NotConfigured", "Running", "NotHealthyLow", 1),
    ADCS1: ("AdcsIntegrated", "Outdated", "Running", "Healthy", 0),
    ENTRA1: ("AdConnectIntegrated", "UpToDate", "Running", "Healthy", 0),
    SA1: ("DomainControllerStandalone", "Disconnected", "Unknown", "NotHealthyMedium", 1),
    BDC9: ("DomainControllerIntegrated", "Unreachable", "Stopped", "Healthy", 0),
    BDC3: ("DomainControllerIntegrated", "Updating", "Starting", "Healthy", 0),
}


async def test_list_sensors_parses_every_property(api, server):
    m = api.m
    page = await api.client(server).security.identities.sensors.get()
    assert isinstance(page, m.SensorCollectionResponse)
    by_id = {s.id: s for s in page.value}
    assert set(by_id) == ALL_SENSORS
    for sid, (stype, deployment, service, health, open_count) in EXPECTED.items():
        s = by_id[sid]
        assert isinstance(s, m.Sensor)
        assert s.sensor_type == m.SensorType[stype], sid
        assert s.deployment_status == m.DeploymentStatus[deployment], sid
        assert s.health_status == m.SensorHealthStatus[health], sid
        assert type(s.open_health_issues_count) is int and s.open_health_issues_count == open_count, sid
        assert isinstance(s.created_date_time, datetime) and s.created_date_time.tzinfo is not None, sid
        assert isinstance(s.settings, m.SensorSettings), sid
        assert isinstance(s.settings.domain_controller_dns_names, list), sid
        assert isinstance(s.settings.is_delayed_deployment_enabled, bool), sid
        if api.version == "beta":
            assert s.service_status == m.ServiceStatus[service], sid

    dc1 = by_id[DC1]
    assert dc1.display_name == "DC1"
    assert dc1.domain_name == "corp.example.com"
    assert dc1.version == "2.239.18124.58593"
    assert dc1.created_date_time == datetime(2023, 11, 16, 9, 41, 24, 258507, tzinfo=timezone.utc)
    assert dc1.settings.description == "dc1 settings"
    assert dc1.settings.domain_controller_dns_names == ["DC1.corp.example.com"]
    assert dc1.settings.is_delayed_deployment_enabled is True
    assert by_id[DC2].version.startswith("3.")
    assert by_id[SA1].settings.domain_controller_dns_names == ["BDC1.branch.example.net", "BDC2.branch.example.net"]
    assert page.odata_next_link is None


async def test_list_sensors_with_top_count_filter_skip(api, server):
    m = api.m
    sensors = api.client(server).security.identities.sensors

    page = await sensors.get(api.query("SensorsQuery", top=3, count=True))
    assert len(page.value) == 3
    assert page.odata_count == 8
    assert page.odata_next_link.startswith(f"{server.url(api.version)}/security/identities/sensors"), page.odata_next_link

    page = await sensors.get(api.query("SensorsQuery", filter="sensorType eq 'adfsIntegrated'"))
    assert [s.id for s in page.value] == [ADFS1]
    assert page.value[0].sensor_type == m.SensorType.AdfsIntegrated

    page = await sensors.get(api.query("SensorsQuery", filter="deploymentStatus eq 'outdated' or deploymentStatus eq 'disconnected'"))
    assert {s.id for s in page.value} == {ADCS1, SA1}

    page = await sensors.get(api.query("SensorsQuery", filter="domainName eq 'branch.example.net'", count=True))
    assert page.odata_count == 3
    assert {s.id for s in page.value} == {SA1, BDC9, BDC3}

    page = await sensors.get(api.query("SensorsQuery", filter="settings/isDelayedDeploymentEnabled eq true"))
    assert {s.id for s in page.value} == {DC1, ADCS1}

    page = await sensors.get(api.query("SensorsQuery", skip=6, count=True))
    assert len(page.value) == 2 and page.odata_count == 8

    if api.version == "beta":
        page = await sensors.get(api.query("SensorsQuery", filter="serviceStatus eq 'stopped'"))
        assert [s.id for s in page.value] == [BDC9]
        assert page.value[0].service_status == m.ServiceStatus.Stopped


async def test_sensors_count(api, server):
    count = api.client(server).security.identities.sensors.count
    n = await count.get()
    assert type(n) is int and n == 8
    n = await count.get(api.query("SensorsCountQuery", filter="sensorType eq 'domainControllerIntegrated'"))
    assert n == 4


async def test_get_sensor_with_expand_and_select(api, server):
    m = api.m
    item = api.client(server).security.identities.sensors.by_sensor_id(DC1)

    s = await item.get()
    assert isinstance(s, m.Sensor) and s.id == DC1
    assert s.sensor_type == m.SensorType.DomainControllerIntegrated
    assert s.health_issues is None

    s = await item.get(api.query("SensorItemQuery", expand=["healthIssues"]))
    assert s.id == DC1 and s.display_name == "DC1"
    assert {h.id for h in s.health_issues} == {H_AUDITING, H_DC1_START}
    for h in s.health_issues:
        assert isinstance(h, m.HealthIssue)
        assert h.status == m.HealthIssueStatus.Open
        assert h.sensor_d_n_s_names == ["DC1.corp.example.com"]
        assert isinstance(h.created_date_time, datetime)

    s = await item.get(api.query("SensorItemQuery", select=["displayName", "version"]))
    assert s.display_name == "DC1" and s.version == "2.239.18124.58593"
    assert s.sensor_type is None and s.settings is None and s.domain_name is None


async def test_sensor_health_issues_navigation(api, server):
    m = api.m
    sensors = api.client(server).security.identities.sensors

    page = await sensors.by_sensor_id(DC2).health_issues.get()
    statuses = {h.id: h.status for h in page.value}
    assert statuses == {H_DC2_CLOSED: m.HealthIssueStatus.Closed, H_DC2_SUPPRESSED: m.HealthIssueStatus.Suppressed}

    assert await sensors.by_sensor_id(DC2).health_issues.count.get() == 2
    assert await sensors.by_sensor_id(ENTRA1).health_issues.count.get() == 0

    issue = await sensors.by_sensor_id(DC1).health_issues.by_health_issue_id(H_DC1_START).get()
    assert isinstance(issue, m.HealthIssue)
    assert issue.id == H_DC1_START and issue.severity == m.HealthIssueSeverity.High


async def test_patch_sensor_description_merges_settings(api, fresh_server):
    m = api.m
    sensors = api.client(fresh_server).security.identities.sensors

    updated = await sensors.by_sensor_id(DC1).patch(m.Sensor(settings=m.SensorSettings(description="patched by the SDK")))
    assert isinstance(updated, m.Sensor)
    assert updated.id == DC1
    assert updated.settings.description == "patched by the SDK"
    # Only description was sent: the other settings keep their values.
    assert updated.settings.domain_controller_dns_names == ["DC1.corp.example.com"]
    assert updated.settings.is_delayed_deployment_enabled is True
    assert updated.sensor_type == m.SensorType.DomainControllerIntegrated
    assert updated.deployment_status == m.DeploymentStatus.UpToDate

    again = await sensors.by_sensor_id(DC1).get()
    assert again.settings.description == "patched by the SDK"

    # A v2 AD CS sensor may choose its domain controllers and leave the delayed ring.
    updated = await sensors.by_sensor_id(ADCS1).patch(m.Sensor(settings=m.SensorSettings(
        domain_controller_dns_names=["DC2.corp.example.com"], is_delayed_deployment_enabled=False)))
    assert updated.settings.domain_controller_dns_names == ["DC2.corp.example.com"]
    assert updated.settings.is_delayed_deployment_enabled is False
    assert updated.settings.description == "pki"


async def test_patch_v3_sensor_version_gated_setting_is_bad_request(api, fresh_server):
    m = api.m
    sensors = api.client(fresh_server).security.identities.sensors
    with pytest.raises(m.ODataError) as e:
        await sensors.by_sensor_id(DC2).patch(m.Sensor(settings=m.SensorSettings(is_delayed_deployment_enabled=True)))
    assert e.value.response_status_code == 400
    assert e.value.error.code == "BadRequest"
    assert (await sensors.by_sensor_id(DC2).get()).settings.is_delayed_deployment_enabled is False


async def test_delete_sensor(api, fresh_server):
    m = api.m
    sensors = api.client(fresh_server).security.identities.sensors
    assert await sensors.by_sensor_id(BDC9).delete() is None
    with pytest.raises(m.ODataError) as e:
        await sensors.by_sensor_id(BDC9).get()
    assert e.value.response_status_code == 404
    assert await sensors.count.get() == 7
    page = await sensors.get()
    assert BDC9 not in {s.id for s in page.value}
    with pytest.raises(m.ODataError) as e:
        await sensors.by_sensor_id(UNKNOWN_ID).delete()
    assert e.value.response_status_code == 404 and e.value.error.code == "NotFound"
