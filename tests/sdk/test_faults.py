"""Injected faults as Microsoft's SDKs meet them: the default retry handler recovers from 429 and
503 with Retry-After, and errors it does not retry arrive as typed ODataErrors with the real
service's codes. The journal shows each attempt."""

import json
import urllib.request

import pytest

READ_WRITE = ["SecurityIdentitiesSensors.ReadWrite.All"]


def admin(server, method: str, path: str, body=None):
    token = server.token(roles=READ_WRITE)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{server.base}/admin/v1/{path}", data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
        return json.loads(text) if text else None


@pytest.mark.parametrize("effect", ["429", "503"])
async def test_the_default_retry_handler_recovers_from_injected_throttling(api, fresh_server, effect):
    server = fresh_server
    admin(server, "DELETE", "requests")
    admin(server, "POST", "faults", {"operation": "listSensors", "effect": effect,
                                      "retryAfterSeconds": 1, "nextN": 2})
    page = await api.client(server, roles=READ_WRITE).security.identities.sensors.get()
    assert page.value, "the third attempt was answered"
    seen = admin(server, "GET", "requests?operation=listSensors")["value"]
    assert [e["status"] for e in seen] == [int(effect), int(effect), 200]
    assert all("injectedFault" in e for e in seen[:2]) and "injectedFault" not in seen[2]
    rules = admin(server, "GET", "faults")["value"]
    assert (rules[0]["matched"], rules[0]["fired"]) == (3, 2)


async def test_not_retried_faults_are_typed_errors(api, fresh_server):
    server = fresh_server
    sensors = api.client(server, roles=READ_WRITE).security.identities.sensors
    cases = [
        ("notOnboarded", 403, "Forbidden", "Tenant is not onboarded to Microsoft Defender for Identity."),
        ("missingPermission", 403, "UnknownError", ""),
        ("502", 502, "BadGateway", "temporarily unavailable"),
    ]
    for effect, status, code, text in cases:
        admin(server, "DELETE", "faults")
        admin(server, "POST", "faults", {"effect": effect, "nextN": 1})
        with pytest.raises(api.m.ODataError) as e:
            await sensors.get()
        assert e.value.response_status_code == status
        assert e.value.error.code == code
        assert text in (e.value.error.message or "")
    page = await sensors.get()
    assert page.value, "every rule was spent: the service answers"
