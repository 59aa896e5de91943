"""A sensor that lives over the agent protocol, seen through Microsoft's Graph SDKs.

The sensor enrolls and checks in over ``/agent/v1`` (plain HTTP, as ``picket-agent`` does); the server
runs on a manual clock, so "ten minutes of silence" is one admin call. The SDK must show what Picket
derived: statuses, the raised health issue, and its closing when the sensor is heard again.
"""

from __future__ import annotations

import httpx
import pytest

from conftest import FIXTURE, TENANT, PicketServer


@pytest.fixture
def manual_server():
    s = PicketServer(FIXTURE, TENANT, extra_args=["--clock", "manual"])
    yield s
    s.stop()


def enroll(server: PicketServer, key: str, computer: str) -> tuple[str, str]:
    r = httpx.post(f"{server.base}/agent/v1/enroll", json={
        "tenantId": TENANT, "accessKey": key, "computerDnsName": computer,
        "sensorType": "domainControllerIntegrated", "version": "2.239.18124.58593"})
    assert r.status_code == 201, r.text
    return r.json()["sensorId"], r.json()["credential"]


def check_in(server: PicketServer, sensor: str, credential: str, applied: int) -> dict:
    r = httpx.post(f"{server.base}/agent/v1/tenants/{TENANT}/sensors/{sensor}/checkIn",
                   headers={"Authorization": f"Bearer {credential}"},
                   json={"serviceStatus": "running", "version": "2.239.18124.58593", "appliedSettingsVersion": applied})
    assert r.status_code == 200, r.text
    return r.json()


def advance(server: PicketServer, by: str):
    r = httpx.post(f"{server.base}/admin/v1/clock/advance", json={"by": by},
                   headers={"Authorization": f"Bearer {server.token()}"})
    assert r.status_code == 200, r.text


async def test_sdk_sees_a_living_sensor_go_silent_and_recover(api, manual_server):
    client = api.client(manual_server)
    identities = client.security.identities
    key = (await identities.sensors.microsoft_graph_security_get_deployment_access_key.get()).deployment_access_key
    sensor_id, credential = enroll(manual_server, key, "live1.contoso.com")
    desired = check_in(manual_server, sensor_id, credential, 0)["desiredSettingsVersion"]
    check_in(manual_server, sensor_id, credential, desired)

    sensor = await identities.sensors.by_sensor_id(sensor_id).get()
    assert sensor.display_name == "live1"
    assert sensor.deployment_status == api.m.DeploymentStatus.UpToDate
    assert sensor.health_status == api.m.SensorHealthStatus.Healthy

    advance(manual_server, "11m")
    sensor = await identities.sensors.by_sensor_id(sensor_id).get()
    assert sensor.deployment_status == api.m.DeploymentStatus.Disconnected
    assert sensor.health_status == api.m.SensorHealthStatus.NotHealthyHigh
    if api.version == "beta":
        assert sensor.service_status == api.m.ServiceStatus.Unknown
    issues = (await identities.sensors.by_sensor_id(sensor_id).health_issues.get()).value
    assert [i.display_name for i in issues] == ["Sensor stopped communicating"]
    assert issues[0].status == api.m.HealthIssueStatus.Open
    assert issues[0].sensor_d_n_s_names == ["live1.contoso.com"]

    check_in(manual_server, sensor_id, credential, desired)
    sensor = await identities.sensors.by_sensor_id(sensor_id).get()
    assert sensor.deployment_status == api.m.DeploymentStatus.UpToDate
    issue = await identities.health_issues.by_health_issue_id(issues[0].id).get()
    assert issue.status == api.m.HealthIssueStatus.Closed
