"""Runs Picket and builds Microsoft's own Graph SDK clients (msgraph-beta-sdk, msgraph-sdk) against it.

Everything a test needs comes from here:

* ``server`` – one Picket per test module, seeded with ``fixtures/tenant.json``; for reads only.
* ``fresh_server`` – a new Picket per test, same fixture; for tests that change state.
* ``paging_server`` – one Picket per module seeded with ``PAGING_SENSORS`` sensors.
* With ``PICKET_SDK_DATABASE_URL`` set (a PostgreSQL URL), every server runs on PostgreSQL, in a
  schema of its own that is migrated first and dropped when the server stops.
* ``api`` – parametrised over ``beta`` and ``v1.0``: the SDK's modules for that version and a way to
  build a ``GraphServiceClient`` pointed at a server with a token minted by ``picket token``.

Test functions may be ``async def``: they run in ``asyncio.run`` (see ``pytest_pyfunc_call``), and the
SDK clients they built are closed in that same loop afterwards.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Iterable, Optional

import pytest
from azure.core.credentials import AccessToken

from picket_ids import PAGING_SENSORS, PAGING_TENANT

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURE = HERE / "fixtures" / "tenant.json"
TENANT = json.loads(FIXTURE.read_text())["tenantId"]

ALL_ROLES = (
    "SecurityIdentitiesSensors.ReadWrite.All",
    "SecurityIdentitiesHealth.ReadWrite.All",
)
STARTUP_TIMEOUT = 30.0
DATABASE_URL = os.environ.get("PICKET_SDK_DATABASE_URL", "")
VERSIONS = ("beta", "v1.0")


def picket_bin() -> Path:
    configured = os.environ.get("PICKET_BIN", "target/debug/picket")
    path = Path(configured)
    if not path.is_absolute():
        path = REPO / path
    return path


# --------------------------------------------------------------------------------------------
# The server process


class PicketServer:
    """One `picket serve` on 127.0.0.1 with an ephemeral port and its own data directory."""

    def __init__(self, seed: Path, tenant: str, extra_args: Iterable[str] = ()):
        self.binary = picket_bin()
        if not self.binary.exists():
            pytest.exit(f"picket binary not found at {self.binary}; build it with `cargo build -p picket-cli` "
                        "or set PICKET_BIN", returncode=2)
        self.tenant = tenant
        self.data_dir = Path(tempfile.mkdtemp(prefix="picket-sdk-"))
        self._tokens: dict[tuple, str] = {}
        self._stdout_lines: list[str] = []
        self._stderr = open(self.data_dir / "server.log", "wb")
        self.schema = None
        self.database = None
        if DATABASE_URL:
            self.schema = "sdk_" + secrets.token_hex(6)
            subprocess.run(["psql", DATABASE_URL, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE SCHEMA {self.schema}"],
                           check=True, capture_output=True, timeout=30)
            sep = "&" if "?" in DATABASE_URL else "?"
            self.database = f"{DATABASE_URL}{sep}options=-c%20search_path%3D{self.schema}"
            self.cli("migrate")
        # A fixed package address (the default is the package this server serves itself).
        args = [str(self.binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir),
                "--package-url", "https://sensorpackage.picket.local/Azure%20ATP%20Sensor%20Setup.zip",
                "--seed", str(seed), "--seed-tenant", tenant, *extra_args]
        env = self._env()
        env["PICKET_LOG"] = os.environ.get("PICKET_SDK_SERVER_LOG", "warn")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True, bufsize=1)
        self.base = self._wait_ready()
        # Keep draining stdout so the server can never block on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _wait_ready(self) -> str:
        found: dict[str, str] = {}

        def reader():
            for line in self.proc.stdout:
                self._stdout_lines.append(line)
                if line.startswith("Picket listening on https://"):
                    # "Picket listening on https://ADDR (trust FILE, …)"
                    rest = line.split("Picket listening on ", 1)[1].strip()
                    url, _, note = rest.partition(" ")
                    found["https"] = url
                    found["trust"] = note.removeprefix("(trust ").split(",")[0].rstrip(")")
                elif line.startswith("Picket listening on "):
                    found["url"] = line.split("Picket listening on ", 1)[1].strip()
                    return

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(STARTUP_TIMEOUT)
        if "url" not in found:
            log = (self.data_dir / "server.log").read_text(errors="replace")[-4000:]
            self.stop()
            raise RuntimeError(f"picket did not report 'Picket listening on' within {STARTUP_TIMEOUT}s "
                               f"(exit={self.proc.poll()}); stdout={''.join(self._stdout_lines)!r}\nstderr tail:\n{log}")
        self.https_base = found.get("https")
        self.trust_file = found.get("trust")
        return found["url"].rstrip("/")

    def _drain(self):
        try:
            for line in self.proc.stdout:
                self._stdout_lines.append(line)
        except (ValueError, OSError):
            pass

    def _env(self) -> dict[str, str]:
        """The environment for `picket` commands: none of ours, but the server's database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PICKET_")}
        if self.database:
            env["PICKET_DATABASE_URL"] = self.database
        return env

    def token(self, roles: Iterable[str] = ALL_ROLES, scopes: Iterable[str] = (), tenant: Optional[str] = None) -> str:
        """A bearer token from `picket token` (same data dir, hence the server's signing key)."""
        key = (tuple(roles), tuple(scopes), tenant or self.tenant)
        if key not in self._tokens:
            args = [str(self.binary), "token", "--data-dir", str(self.data_dir), "--tenant", key[2]]
            for r in key[0]:
                args += ["--role", r]
            for s in key[1]:
                args += ["--scope", s]
            if key[1]:
                # An ad-hoc signed-in user who may do everything, so only the scopes decide.
                args += ["--directory-role", "Security Administrator"]
            out = subprocess.run(args, check=True, capture_output=True, text=True, env=self._env(), timeout=30)
            self._tokens[key] = out.stdout.strip().splitlines()[-1]
        return self._tokens[key]

    def url(self, version: str) -> str:
        return f"{self.base}/{version}"

    def cli(self, *args: str) -> str:
        """Runs `picket ARGS --data-dir DATA_DIR` (an identity command) and returns its stdout."""
        out = subprocess.run([str(self.binary), *args, "--data-dir", str(self.data_dir)], capture_output=True,
                             text=True, env=self._env(), timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"picket {' '.join(args)} failed: {out.stderr}")
        return out.stdout

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout:
            try:
                self.proc.stdout.close()
            except OSError:
                pass
        self._stderr.close()
        if self.schema:
            subprocess.run(["psql", DATABASE_URL, "-q", "-c", f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"],
                           capture_output=True, timeout=30)
        if os.environ.get("PICKET_SDK_KEEP_DATA"):
            print(f"kept picket data dir {self.data_dir}")
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def _paging_fixture(path: Path) -> Path:
    sensors = []
    for i in range(PAGING_SENSORS):
        sensors.append({
            "id": f"33333333-0000-4000-8000-{i:012d}",
            "displayName": f"PDC{i:03d}",
            "domainName": "paging.example.org",
            "sensorType": "domainControllerIntegrated" if i % 2 else "adfsIntegrated",
            "version": "2.239.18124.58593" if i % 3 else "3.1.25311.1",
        })
    path.write_text(json.dumps({"tenantId": PAGING_TENANT, "sensors": sensors}))
    return path


@pytest.fixture(scope="module")
def server():
    s = PicketServer(FIXTURE, TENANT)
    yield s
    s.stop()


@pytest.fixture
def fresh_server():
    s = PicketServer(FIXTURE, TENANT)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def paging_server(tmp_path_factory):
    seed = _paging_fixture(tmp_path_factory.mktemp("paging") / "paging.json")
    s = PicketServer(seed, PAGING_TENANT)
    yield s
    s.stop()


# --------------------------------------------------------------------------------------------
# SDK clients


class StaticTokenCredential:
    """A minimal azure.core TokenCredential: always the same bearer token.

    kiota_authentication_azure calls ``get_token(*scopes, claims=..., enable_cae=...)`` and awaits the
    result only if it is awaitable, so a synchronous credential is what it expects here.
    """

    def __init__(self, token: str):
        self.token = token
        self.calls = 0

    def get_token(self, *scopes, claims=None, tenant_id=None, enable_cae=False, **kwargs) -> AccessToken:
        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3600)


_open_clients: list = []


def _sdk_modules(version: str) -> SimpleNamespace:
    pkg = "msgraph_beta" if version == "beta" else "msgraph"

    def mod(name: str):
        return importlib.import_module(f"{pkg}.{name}")

    def attr(module: str, name: str):
        return getattr(mod(module), name)

    m = "generated.models.security."
    b = "generated.security.identities."
    return SimpleNamespace(
        version=version,
        package=pkg,
        GraphServiceClient=attr("graph_service_client", "GraphServiceClient"),
        GraphRequestAdapter=attr("graph_request_adapter", "GraphRequestAdapter"),
        ODataError=attr("generated.models.o_data_errors.o_data_error", "ODataError"),
        Sensor=attr(m + "sensor", "Sensor"),
        SensorSettings=attr(m + "sensor_settings", "SensorSettings"),
        SensorType=attr(m + "sensor_type", "SensorType"),
        DeploymentStatus=attr(m + "deployment_status", "DeploymentStatus"),
        SensorHealthStatus=attr(m + "sensor_health_status", "SensorHealthStatus"),
        ServiceStatus=attr(m + "service_status", "ServiceStatus"),
        SensorCollectionResponse=attr(m + "sensor_collection_response", "SensorCollectionResponse"),
        HealthIssue=attr(m + "health_issue", "HealthIssue"),
        HealthIssueStatus=attr(m + "health_issue_status", "HealthIssueStatus"),
        HealthIssueSeverity=attr(m + "health_issue_severity", "HealthIssueSeverity"),
        HealthIssueType=attr(m + "health_issue_type", "HealthIssueType"),
        SensorCandidate=attr(m + "sensor_candidate", "SensorCandidate"),
        SensorCandidateActivationConfiguration=attr(m + "sensor_candidate_activation_configuration",
                                                    "SensorCandidateActivationConfiguration"),
        SensorCandidateActivationMode=attr(m + "sensor_candidate_activation_mode", "SensorCandidateActivationMode"),
        DeploymentAccessKeyType=attr(m + "deployment_access_key_type", "DeploymentAccessKeyType"),
        SensorDeploymentPackage=attr(m + "sensor_deployment_package", "SensorDeploymentPackage"),
        ActivatePostRequestBody=attr(b + "sensor_candidates.microsoft_graph_security_activate.activate_post_request_body",
                                     "ActivatePostRequestBody"),
        SensorsQuery=attr(b + "sensors.sensors_request_builder", "SensorsRequestBuilder").SensorsRequestBuilderGetQueryParameters,
        SensorItemQuery=attr(b + "sensors.item.sensor_item_request_builder",
                             "SensorItemRequestBuilder").SensorItemRequestBuilderGetQueryParameters,
        SensorsCountQuery=attr(b + "sensors.count.count_request_builder",
                               "CountRequestBuilder").CountRequestBuilderGetQueryParameters,
        HealthIssuesQuery=attr(b + "health_issues.health_issues_request_builder",
                               "HealthIssuesRequestBuilder").HealthIssuesRequestBuilderGetQueryParameters,
        HealthIssueItemQuery=attr(b + "health_issues.item.health_issue_item_request_builder",
                                  "HealthIssueItemRequestBuilder").HealthIssueItemRequestBuilderGetQueryParameters,
        HealthIssuesCountQuery=attr(b + "health_issues.count.count_request_builder",
                                    "CountRequestBuilder").CountRequestBuilderGetQueryParameters,
        CandidatesQuery=attr(b + "sensor_candidates.sensor_candidates_request_builder",
                             "SensorCandidatesRequestBuilder").SensorCandidatesRequestBuilderGetQueryParameters,
        CandidatesCountQuery=attr(b + "sensor_candidates.count.count_request_builder",
                                  "CountRequestBuilder").CountRequestBuilderGetQueryParameters,
    )


class Api:
    """One SDK flavour (beta or v1.0): its models and a client factory."""

    def __init__(self, version: str):
        self.version = version
        self.m = _sdk_modules(version)

    def client(self, server: PicketServer, token: Optional[str] = None, **token_args):
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )

        if token is None:
            token = server.token(**token_args)
        credential = StaticTokenCredential(token)
        auth = AzureIdentityAuthenticationProvider(
            credential, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=["127.0.0.1"])
        adapter = self.m.GraphRequestAdapter(auth)
        # Must be set before the client is built: BaseGraphServiceClient copies it into its path parameters.
        adapter.base_url = server.url(self.version)
        client = self.m.GraphServiceClient(request_adapter=adapter)
        client._picket_credential = credential
        _open_clients.append(adapter)
        return client

    def query(self, cls_name: str, **params):
        """A RequestConfiguration carrying the given query parameters."""
        from kiota_abstractions.base_request_configuration import RequestConfiguration

        return RequestConfiguration(query_parameters=getattr(self.m, cls_name)(**params))

    def __repr__(self):
        return f"Api({self.version})"


_apis: dict[str, Api] = {}


@pytest.fixture(params=VERSIONS)
def api(request) -> Api:
    if request.param not in _apis:
        _apis[request.param] = Api(request.param)
    return _apis[request.param]


@pytest.fixture
def beta() -> Api:
    if "beta" not in _apis:
        _apis["beta"] = Api("beta")
    return _apis["beta"]


async def _close_clients():
    while _open_clients:
        adapter = _open_clients.pop()
        client = getattr(adapter, "_http_client", None)
        if client is not None:
            try:
                await client.aclose()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}

    async def main():
        try:
            await pyfuncitem.obj(**kwargs)
        finally:
            await _close_clients()

    asyncio.run(main())
    return True
