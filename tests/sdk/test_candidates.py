"""sensorCandidates (list, get, $count, activate) and sensorCandidateActivationConfiguration (get, patch)."""

from datetime import datetime, timezone

import pytest

from picket_ids import ALL_CANDIDATES, CAND1, CAND2, CAND3, UNIFIED_VERSION, UNKNOWN_ID


async def test_list_sensor_candidates(api, server):
    m = api.m
    candidates = api.client(server).security.identities.sensor_candidates
    page = await candidates.get()
    by_id = {c.id: c for c in page.value}
    assert set(by_id) == ALL_CANDIDATES
    c1 = by_id[CAND1]
    assert isinstance(c1, m.SensorCandidate)
    assert c1.computer_dns_name == "dc4.corp.example.com"
    assert c1.sense_client_version == "10.8780.27711.1000"
    assert c1.last_seen_date_time == datetime(2024, 10, 29, 19, 55, 10, 945277, tzinfo=timezone.utc)
    for c in page.value:
        assert isinstance(c.last_seen_date_time, datetime)

    page = await candidates.get(api.query("CandidatesQuery", filter="senseClientVersion eq '10.8760.27600.1012'", count=True))
    assert [c.id for c in page.value] == [CAND3]
    assert page.odata_count == 1

    assert await candidates.count.get() == 3
    assert await candidates.count.get(api.query("CandidatesCountQuery", filter="senseClientVersion eq '10.8780.27711.1000'")) == 2


async def test_get_sensor_candidate(api, server):
    m = api.m
    candidates = api.client(server).security.identities.sensor_candidates
    c = await candidates.by_sensor_candidate_id(CAND2).get()
    assert isinstance(c, m.SensorCandidate)
    assert c.id == CAND2 and c.computer_dns_name == "bdc5.branch.example.net"
    with pytest.raises(m.ODataError) as e:
        await candidates.by_sensor_candidate_id(UNKNOWN_ID).get()
    assert e.value.response_status_code == 404 and e.value.error.code == "NotFound"


async def test_activate_sensor_candidate(api, fresh_server):
    m = api.m
    identities = api.client(fresh_server).security.identities
    result = await identities.sensor_candidates.microsoft_graph_security_activate.post(
        m.ActivatePostRequestBody(server_ids=[CAND1]))
    assert result is None

    remaining = await identities.sensor_candidates.get()
    assert {c.id for c in remaining.value} == {CAND2, CAND3}
    with pytest.raises(m.ODataError) as e:
        await identities.sensor_candidates.by_sensor_candidate_id(CAND1).get()
    assert e.value.response_status_code == 404

    assert await identities.sensors.count.get() == 9
    page = await identities.sensors.get(api.query("SensorsQuery", filter="domainName eq 'corp.example.com'"))
    new = [s for s in page.value if (s.display_name or "").lower() == "dc4"]
    assert len(new) == 1, [s.display_name for s in page.value]
    s = new[0]
    assert s.sensor_type == m.SensorType.DomainControllerIntegrated
    assert s.version == UNIFIED_VERSION
    assert s.domain_name == "corp.example.com"
    assert isinstance(s.created_date_time, datetime)
    if api.version == "beta":
        assert s.service_status in (m.ServiceStatus.Onboarding, m.ServiceStatus.Running)


async def test_activate_unknown_server_id_is_bad_request(api, fresh_server):
    m = api.m
    identities = api.client(fresh_server).security.identities
    with pytest.raises(m.ODataError) as e:
        await identities.sensor_candidates.microsoft_graph_security_activate.post(
            m.ActivatePostRequestBody(server_ids=[CAND2, UNKNOWN_ID]))
    assert e.value.response_status_code == 400 and e.value.error.code == "BadRequest"
    assert await identities.sensor_candidates.count.get() == 3


async def test_get_activation_configuration(api, server):
    m = api.m
    config = await api.client(server).security.identities.sensor_candidate_activation_configuration.get()
    assert isinstance(config, m.SensorCandidateActivationConfiguration), config
    assert config.activation_mode == m.SensorCandidateActivationMode.Manual


async def test_patch_activation_configuration(api, fresh_server):
    m = api.m
    identities = api.client(fresh_server).security.identities
    updated = await identities.sensor_candidate_activation_configuration.patch(
        m.SensorCandidateActivationConfiguration(activation_mode=m.SensorCandidateActivationMode.Automated))
    assert isinstance(updated, m.SensorCandidateActivationConfiguration), updated
    assert updated.activation_mode == m.SensorCandidateActivationMode.Automated
    config = await identities.sensor_candidate_activation_configuration.get()
    assert config.activation_mode == m.SensorCandidateActivationMode.Automated
    # Switching to automated activates every waiting candidate (spec §4.5).
    assert await identities.sensor_candidates.count.get() == 0
    assert await identities.sensors.count.get() == 11

    back = await identities.sensor_candidate_activation_configuration.patch(
        m.SensorCandidateActivationConfiguration(activation_mode=m.SensorCandidateActivationMode.Manual))
    assert back.activation_mode == m.SensorCandidateActivationMode.Manual
