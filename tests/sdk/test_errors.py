"""Error answers must reach the caller as the SDK's typed ODataError (spec §0, §3.2)."""

from datetime import datetime

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration

from picket_ids import CAND1, DC1, H_SA1, UNKNOWN_ID

CLIENT_REQUEST_ID = "e70c5c1b-8b47-68c0-3171-3d22f5e0bd54"


def check(api, exc_info, status: int, code: str):
    e = exc_info.value
    assert isinstance(e, api.m.ODataError), type(e)
    assert e.response_status_code == status
    assert e.error is not None, "the error envelope was not parsed"
    assert e.error.code == code
    if code == "UnknownError":
        # A missing permission as the real service answers it (spec §7.5): no message; the
        # reason is in innerError, where clients do not branch.
        assert not e.error.message
        assert e.error.inner_error.additional_data.get("message"), "the reason in innerError"
    else:
        assert isinstance(e.error.message, str) and e.error.message
    inner = e.error.inner_error
    assert inner is not None and inner.request_id, "innerError.request-id missing"
    assert isinstance(inner.date, datetime)
    return e


async def test_not_found_is_typed_odata_error(api, server):
    identities = api.client(server).security.identities
    for call in (
        lambda: identities.sensors.by_sensor_id(UNKNOWN_ID).get(),
        lambda: identities.sensors.by_sensor_id(UNKNOWN_ID).health_issues.get(),
        lambda: identities.health_issues.by_health_issue_id(UNKNOWN_ID).get(),
        lambda: identities.sensor_candidates.by_sensor_candidate_id(UNKNOWN_ID).get(),
    ):
        with pytest.raises(api.m.ODataError) as e:
            await call()
        check(api, e, 404, "NotFound")


async def test_not_found_echoes_client_request_id(api, server):
    sensors = api.client(server).security.identities.sensors
    config = RequestConfiguration()
    config.headers.add("client-request-id", CLIENT_REQUEST_ID)
    with pytest.raises(api.m.ODataError) as e:
        await sensors.by_sensor_id(UNKNOWN_ID).get(config)
    check(api, e, 404, "NotFound")
    assert e.value.error.inner_error.client_request_id == CLIENT_REQUEST_ID


async def test_unknown_error_without_the_permission(api, server):
    m = api.m
    health_only = api.client(server, roles=["SecurityIdentitiesHealth.Read.All"]).security.identities
    with pytest.raises(m.ODataError) as e:
        await health_only.sensors.get()
    check(api, e, 403, "UnknownError")
    with pytest.raises(m.ODataError) as e:
        await health_only.sensors.count.get()
    check(api, e, 403, "UnknownError")
    with pytest.raises(m.ODataError) as e:
        await health_only.health_issues.by_health_issue_id(H_SA1).patch(m.HealthIssue(status=m.HealthIssueStatus.Closed))
    check(api, e, 403, "UnknownError")
    # …but it can read health issues.
    assert len((await health_only.health_issues.get()).value) == 8

    sensors_read = api.client(server, roles=["SecurityIdentitiesSensors.Read.All"]).security.identities
    assert (await sensors_read.sensors.by_sensor_id(DC1).get()).id == DC1
    for call in (
        lambda: sensors_read.health_issues.get(),
        lambda: sensors_read.sensors.by_sensor_id(DC1).patch(m.Sensor(settings=m.SensorSettings(description="x"))),
        lambda: sensors_read.sensors.by_sensor_id(DC1).delete(),
        lambda: sensors_read.sensor_candidates.microsoft_graph_security_activate.post(m.ActivatePostRequestBody(server_ids=[CAND1])),
        lambda: sensors_read.sensor_candidate_activation_configuration.patch(
            m.SensorCandidateActivationConfiguration(activation_mode=m.SensorCandidateActivationMode.Automated)),
    ):
        with pytest.raises(m.ODataError) as e:
            await call()
        check(api, e, 403, "UnknownError")


async def test_delegated_token(api, server):
    m = api.m
    identities = api.client(server, roles=(), scopes=["SecurityIdentitiesSensors.Read.All"]).security.identities
    assert await identities.sensors.count.get() == 8
    with pytest.raises(m.ODataError) as e:
        await identities.health_issues.get()
    check(api, e, 403, "UnknownError")


async def test_invalid_token_is_unauthorized(api, server):
    identities = api.client(server, token="not-a-jwt").security.identities
    with pytest.raises(api.m.ODataError) as e:
        await identities.sensors.get()
    check(api, e, 401, "InvalidAuthenticationToken")


async def test_bad_filter_is_bad_request(api, server):
    sensors = api.client(server).security.identities.sensors
    with pytest.raises(api.m.ODataError) as e:
        await sensors.get(api.query("SensorsQuery", filter="displayName eq"))
    check(api, e, 400, "BadRequest")
    with pytest.raises(api.m.ODataError) as e:
        await sensors.get(api.query("SensorsQuery", filter="noSuchProperty eq 'x'"))
    check(api, e, 400, "BadRequest")


async def test_operations_the_sdk_offers_but_graph_forbids(api, server):
    """The generated SDK has builders for these; the service answers 405 and the SDK must raise ODataError."""
    m = api.m
    identities = api.client(server).security.identities
    for call in (
        lambda: identities.sensors.post(m.Sensor(settings=m.SensorSettings(description="new"))),
        lambda: identities.health_issues.by_health_issue_id(H_SA1).delete(),
        lambda: identities.sensor_candidates.by_sensor_candidate_id(CAND1).delete(),
        lambda: identities.sensor_candidate_activation_configuration.delete(),
    ):
        with pytest.raises(m.ODataError) as e:
            await call()
        check(api, e, 405, "MethodNotAllowed")
