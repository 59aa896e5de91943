"""Picket's token service judged by Microsoft's own libraries.

``azure-identity``'s ``ClientSecretCredential`` and ``ClientCertificateCredential`` (MSAL underneath) are
pointed at Picket's https authority with ``disable_instance_discovery=True``, trusting the CA Picket
generated; the tokens they obtain drive ``msgraph-beta-sdk`` against Picket over https. Failures must look
like Entra's (AADSTS codes in ``ClientAuthenticationError``), and the SDK's retry handler must ride out
throttling.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import time
import uuid

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential, DeviceCodeCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from conftest import FIXTURE, TENANT, PicketServer, StaticTokenCredential

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
READ_WRITE = "SecurityIdentitiesSensors.ReadWrite.All"
HEALTH_READ = "SecurityIdentitiesHealth.Read.All"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    s = PicketServer(FIXTURE, TENANT, extra_args=["--tls-listen", "127.0.0.1:0"])
    assert s.https_base and s.https_base.startswith("https://127.0.0.1:"), s.https_base
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def trust_picket_ca(monkeypatch, request):
    """requests (azure-core) and httpx (kiota) both read these to trust Picket's generated CA."""
    if "tls_server" in request.fixturenames:
        server = request.getfixturevalue("tls_server")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.trust_file)
        monkeypatch.setenv("SSL_CERT_FILE", server.trust_file)


def create_app(server: PicketServer, *grants: str, cert: str | None = None) -> tuple[str, str | None]:
    """`picket apps create`; returns (client id, one-time secret or None)."""
    args = ["apps", "create", "--tenant", TENANT, "--name", "sdk-test"]
    for g in grants:
        args += ["--grant", g]
    if cert:
        args += ["--cert", cert]
    out = server.cli(*args)
    client_id = re.search(r"client id:\s+(\S+)", out).group(1)
    secret = re.search(r"client secret: (\S+)", out)
    return client_id, secret.group(1) if secret else None


def ensure_tenant(server: PicketServer):
    if TENANT not in server.cli("tenants", "list"):
        server.cli("tenants", "create", "--id", TENANT, "--name", "SDK tenant")


def secret_credential(server, client_id, secret):
    return ClientSecretCredential(TENANT, client_id, secret, authority=server.https_base,
                                  disable_instance_discovery=True)


def graph_client(api, server, credential):
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE], allowed_hosts=["127.0.0.1"])
    adapter = api.m.GraphRequestAdapter(auth)
    adapter.base_url = f"{server.https_base}/{api.version}"
    return api.m.GraphServiceClient(request_adapter=adapter)


def make_certificate(tmp_path, days_valid: int = 30) -> str:
    """An RSA key and self-signed certificate in one PEM, as CertificateCredential reads it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "picket-sdk-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days_valid)).sign(key, hashes.SHA256()))
    path = tmp_path / f"cert-{x509.random_serial_number()}.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
                     + cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def aadsts(error: ClientAuthenticationError) -> str:
    found = re.search(r"AADSTS(\d+)", str(error))
    assert found, str(error)
    return found.group(1)


async def test_client_secret_credential_token_drives_the_graph_sdk(api, tls_server):
    ensure_tenant(tls_server)
    client_id, secret = create_app(tls_server, READ_WRITE, HEALTH_READ)
    credential = secret_credential(tls_server, client_id, secret)
    token = credential.get_token(GRAPH_SCOPE)
    assert token.token.count(".") == 2 and token.expires_on > time.time() + 600
    client = graph_client(api, tls_server, credential)
    sensors = await client.security.identities.sensors.get()
    assert len(sensors.value) > 0
    issues = await client.security.identities.health_issues.get()
    assert issues.value is not None
    # The app holds Health.Read only: a write is refused by Graph, as Entra-issued tokens would be.
    with pytest.raises(api.m.ODataError) as refused:
        await client.security.identities.health_issues.by_health_issue_id(issues.value[0].id).patch(
            api.m.HealthIssue(status=api.m.HealthIssueStatus.Closed))
    assert refused.value.response_status_code == 403


async def test_client_certificate_credential_token_drives_the_graph_sdk(api, tls_server, tmp_path):
    ensure_tenant(tls_server)
    cert = make_certificate(tmp_path)
    client_id, secret = create_app(tls_server, READ_WRITE, cert=cert)
    assert secret is None
    credential = CertificateCredential(TENANT, client_id, certificate_path=cert, authority=tls_server.https_base,
                                       disable_instance_discovery=True)
    client = graph_client(api, tls_server, credential)
    config = await client.security.identities.sensor_candidate_activation_configuration.get()
    assert config.activation_mode is not None

    # A certificate Picket never saw is refused the way Entra refuses it.
    stranger = make_certificate(tmp_path)
    bad = CertificateCredential(TENANT, client_id, certificate_path=stranger, authority=tls_server.https_base,
                                disable_instance_discovery=True)
    with pytest.raises(ClientAuthenticationError) as failed:
        bad.get_token(GRAPH_SCOPE)
    assert aadsts(failed.value) == "700027"


def test_wrong_revoked_and_expired_secrets_fail_like_entra(tls_server):
    ensure_tenant(tls_server)
    client_id, secret = create_app(tls_server, READ_WRITE)

    with pytest.raises(ClientAuthenticationError) as wrong:
        secret_credential(tls_server, client_id, secret + "x").get_token(GRAPH_SCOPE)
    assert aadsts(wrong.value) == "7000215"

    expired_at = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).isoformat()
    out = tls_server.cli("apps", "add-secret", client_id, "--tenant", TENANT, "--expires", expired_at)
    expired_secret = re.search(r"client secret: (\S+)", out).group(1)
    with pytest.raises(ClientAuthenticationError) as expired:
        secret_credential(tls_server, client_id, expired_secret).get_token(GRAPH_SCOPE)
    assert aadsts(expired.value) == "7000222"

    # Works, then is revoked, then fails at once (a fresh credential: no cached token).
    secret_credential(tls_server, client_id, secret).get_token(GRAPH_SCOPE)
    shown = tls_server.cli("apps", "show", client_id, "--tenant", TENANT)
    key_id = re.search(r"secret:\s+(\S+)\s+hint " + re.escape(secret[:3]), shown).group(1)
    tls_server.cli("apps", "remove-credential", client_id, key_id, "--tenant", TENANT)
    with pytest.raises(ClientAuthenticationError) as revoked:
        secret_credential(tls_server, client_id, secret).get_token(GRAPH_SCOPE)
    assert aadsts(revoked.value) == "7000215"

    with pytest.raises(ClientAuthenticationError) as unknown:
        secret_credential(tls_server, "00000000-1111-2222-3333-444444444444", secret).get_token(GRAPH_SCOPE)
    assert aadsts(unknown.value) == "700016"

    # The audit log saw every attempt, never a secret.
    audit = tls_server.cli("audit", "--tenant", TENANT, "--operation", "issueToken", "--json")
    assert "401 invalid_client" in audit and secret not in audit and expired_secret not in audit


async def test_app_without_the_grant_gets_a_token_but_graph_refuses(api, tls_server):
    ensure_tenant(tls_server)
    client_id, secret = create_app(tls_server)  # no permissions granted
    credential = secret_credential(tls_server, client_id, secret)
    assert credential.get_token(GRAPH_SCOPE).token
    client = graph_client(api, tls_server, credential)
    with pytest.raises(api.m.ODataError) as refused:
        await client.security.identities.sensors.get()
    assert refused.value.response_status_code == 403
    assert refused.value.error.code == "UnknownError"


async def test_sdk_retry_handler_recovers_from_throttling(api):
    server = PicketServer(FIXTURE, TENANT, extra_args=["--throttle-app-reads", "1/2s"])
    try:
        token = server.token()
        client = api.client(server, token=token)
        started = time.monotonic()
        first = await client.security.identities.sensors.get()
        second = await client.security.identities.sensors.get()  # 429 + Retry-After, then retried
        elapsed = time.monotonic() - started
        assert [s.id for s in first.value] == [s.id for s in second.value]
        assert elapsed >= 0.9, f"no Retry-After wait happened ({elapsed:.2f}s)"
    finally:
        server.stop()


def approve_device_code(server: PicketServer, user_code: str, upn: str) -> str:
    """`picket device-codes approve` with a Global Administrator's token, as an operator would."""
    admin = server.cli("token", "--tenant", TENANT, "--scope", READ_WRITE,
                       "--directory-role", "Global Administrator").strip().splitlines()[-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICKET_")}
    out = subprocess.run([str(server.binary), "device-codes", "approve", user_code, "--user", upn,
                          "--server", server.base, "--token", admin],
                         capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


async def test_device_code_credential_signs_a_user_in_once_an_administrator_approves(api, tls_server):
    """azure-identity's DeviceCodeCredential (MSAL's device flow) against Picket's token service."""
    ensure_tenant(tls_server)
    client_id, _ = create_app(tls_server, READ_WRITE)
    upn = f"dev-{uuid.uuid4().hex[:8]}@contoso.test"
    tls_server.cli("users", "create", "--tenant", TENANT, "--upn", upn, "--role", "Security Reader")
    prompts = []

    def prompt(verification_uri, user_code, expires_on):
        prompts.append((verification_uri, user_code, expires_on))
        assert upn in approve_device_code(tls_server, user_code, upn)

    credential = DeviceCodeCredential(client_id, tenant_id=TENANT, authority=tls_server.https_base,
                                      disable_instance_discovery=True, prompt_callback=prompt, timeout=60)
    scope = f"https://graph.microsoft.com/{READ_WRITE}"
    record = credential.authenticate(scopes=[scope])
    assert record.username == upn and record.tenant_id == TENANT, record
    assert prompts[0][0] == f"{tls_server.https_base}/{TENANT}/devicelogin"
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", prompts[0][1]), prompts
    # The signed-in user's token drives the SDK: her role reads, and the read works.
    token = credential.get_token(scope)
    client = graph_client(api, tls_server, StaticTokenCredential(token.token))
    sensors = await client.security.identities.sensors.get()
    assert len(sensors.value) > 0
