"""The bound functions/actions on the sensors collection: getDeploymentAccessKey,
regenerateDeploymentAccessKey and getDeploymentPackageUri, called by their SDK builders (which use the
namespace-qualified names: `sensors/microsoft.graph.security.getDeploymentAccessKey()`, …)."""

import pytest

from picket_ids import PACKAGE_VERSION

DEFAULT_PACKAGE_URL = "https://sensorpackage.picket.local/Azure%20ATP%20Sensor%20Setup.zip"


async def test_get_deployment_access_key(api, server):
    m = api.m
    sensors = api.client(server).security.identities.sensors
    key = await sensors.microsoft_graph_security_get_deployment_access_key.get()
    assert isinstance(key, m.DeploymentAccessKeyType), key
    assert isinstance(key.deployment_access_key, str) and key.deployment_access_key.strip()
    # The documented alias property (spec D1) lands in additional_data with the same value.
    assert key.additional_data.get("sensorDeploymentAccessKey") == key.deployment_access_key
    again = await sensors.microsoft_graph_security_get_deployment_access_key.get()
    assert again.deployment_access_key == key.deployment_access_key


async def test_regenerate_deployment_access_key(api, fresh_server):
    m = api.m
    sensors = api.client(fresh_server).security.identities.sensors
    before = (await sensors.microsoft_graph_security_get_deployment_access_key.get()).deployment_access_key
    new = await sensors.microsoft_graph_security_regenerate_deployment_access_key.post()
    assert isinstance(new, m.DeploymentAccessKeyType), new
    assert new.deployment_access_key and new.deployment_access_key != before
    after = await sensors.microsoft_graph_security_get_deployment_access_key.get()
    assert after.deployment_access_key == new.deployment_access_key
    # Regenerating the key changes no sensor.
    assert await sensors.count.get() == 8


async def test_get_deployment_package_uri(api, server):
    m = api.m
    pkg = await api.client(server).security.identities.sensors.microsoft_graph_security_get_deployment_package_uri.get()
    assert isinstance(pkg, m.SensorDeploymentPackage), pkg
    assert pkg.download_url == DEFAULT_PACKAGE_URL
    assert pkg.version == PACKAGE_VERSION


async def test_package_uri_needs_read_but_access_key_needs_readwrite(api, server):
    m = api.m
    sensors = api.client(server, roles=["SecurityIdentitiesSensors.Read.All"]).security.identities.sensors
    pkg = await sensors.microsoft_graph_security_get_deployment_package_uri.get()
    assert pkg.version == PACKAGE_VERSION
    with pytest.raises(m.ODataError) as e:
        await sensors.microsoft_graph_security_get_deployment_access_key.get()
    assert e.value.response_status_code == 403 and e.value.error.code == "UnknownError"
    with pytest.raises(m.ODataError) as e:
        await sensors.microsoft_graph_security_regenerate_deployment_access_key.post()
    assert e.value.response_status_code == 403 and e.value.error.code == "UnknownError"
