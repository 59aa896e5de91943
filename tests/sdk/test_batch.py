"""JSON batching through msgraph_core's BatchRequestBuilder, with items built from the SDK's own
`to_*_request_information()` (so the inner URLs, headers and bodies are exactly what the SDK sends).

Two SDK defects limit what can be checked here, independently of the server:
* msgraph_core reads each inner `body` with JsonParseNode.get_bytes_value(), which drops JSON-object
  bodies (returns None; microsoft/kiota-python#737), so inner JSON bodies are unreadable through the SDK —
  effects are checked with ordinary SDK calls afterwards instead.
* It serializes dependencies as `depends_on` instead of `dependsOn`, so the server never sees them.
What it does do with a string body is base64-decode it (Graph sends non-JSON inner bodies base64-encoded);
test_batch_with_a_count_request checks that.
"""

import pytest
from msgraph_core.requests.batch_request_builder import BatchRequestBuilder
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

from picket_ids import CAND1, DC1, H_SA1, UNKNOWN_ID


def batch(items):
    return BatchRequestContent({i.id: i for i in items})


async def test_batch_of_sdk_requests(api, fresh_server):
    m = api.m
    client = api.client(fresh_server)
    ids = client.security.identities
    items = [
        BatchRequestItem(ids.sensors.by_sensor_id(DC1).to_patch_request_information(
            m.Sensor(settings=m.SensorSettings(description="from a batch"))), id="1"),
        BatchRequestItem(ids.health_issues.by_health_issue_id(H_SA1).to_patch_request_information(
            m.HealthIssue(status=m.HealthIssueStatus.Closed)), id="2"),
        BatchRequestItem(ids.sensors.by_sensor_id(UNKNOWN_ID).to_get_request_information(), id="3"),
        BatchRequestItem(ids.sensor_candidates.microsoft_graph_security_activate.to_post_request_information(
            m.ActivatePostRequestBody(server_ids=[CAND1])), id="4"),
        BatchRequestItem(ids.sensors.to_get_request_information(api.query("SensorsQuery", top=2)), id="5"),
        BatchRequestItem(ids.sensors.microsoft_graph_security_get_deployment_access_key.to_get_request_information(), id="6"),
    ]
    resp = await BatchRequestBuilder(client.request_adapter).post(batch(items))
    assert resp.get_response_status_codes() == {"1": 200, "2": 200, "3": 404, "4": 200, "5": 200, "6": 200}
    for rid in ("1", "2", "3", "5", "6"):
        content_type = resp.get_response_by_id(rid).headers.get("Content-Type", "")
        assert content_type.startswith("application/json"), (rid, content_type)

    assert (await ids.sensors.by_sensor_id(DC1).get()).settings.description == "from a batch"
    assert (await ids.health_issues.by_health_issue_id(H_SA1).get()).status == m.HealthIssueStatus.Closed
    assert await ids.sensor_candidates.count.get() == 2
    assert await ids.sensors.count.get() == 9


async def test_batch_with_a_count_request(api, fresh_server):
    """`…/$count` answers text/plain. Inside a batch, Graph carries a non-JSON inner body as a base64
    string, and msgraph_core base64-decodes every string body: a bare `"8"` makes the whole batch call
    raise binascii.Error in the SDK."""
    client = api.client(fresh_server)
    ids = client.security.identities
    items = [
        BatchRequestItem(ids.sensors.count.to_get_request_information(), id="1"),
        BatchRequestItem(ids.health_issues.count.to_get_request_information(), id="2"),
    ]
    resp = await BatchRequestBuilder(client.request_adapter).post(batch(items))
    assert resp.get_response_status_codes() == {"1": 200, "2": 200}
    bodies = {}
    for rid in ("1", "2"):
        body = resp.get_response_by_id(rid).body
        bodies[rid] = body.getvalue() if hasattr(body, "getvalue") else body
    assert bodies == {"1": b"8", "2": b"8"}
