"""The operators' console in a real headless Chromium against real `picket serve` processes."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from conftest import ADMIN, DEMO_TENANT, READER, Picket, free_port, screenshot, sign_in

SENSOR = "b3c1b5fc-828c-45fa-a1e1-000000000001"
ISSUE = "5e4d2c1b-0a9f-4e8d-b7c6-000000000002"

# Every view with what shows it rendered with data (not its loading or error state).
VIEWS = [
    ("overview", "#/", "#overview-body .cards"),
    ("sensors", "#/sensors", "#sensor-results table"),
    ("sensor", f"#/sensors/{SENSOR}", "#sensor-facts dl"),
    ("issues", "#/issues", "#issue-results table"),
    ("issue", f"#/issues/{ISSUE}", "#issue-body h1"),
    ("candidates", "#/candidates", "#candidate-results table"),
    ("deployment", "#/deployment", "#rollout table"),
    ("accounts", "#/accounts", "#account-results table"),
    ("migration", "#/migration", "#migration-results"),
    ("auditing", "#/auditing", "#auditing-state"),
    ("audit", "#/audit", "#audit-results"),
]


def go(page, server, hash_):
    page.goto(f"{server.base}/console/{hash_}")
    expect(page.locator("#sign-out")).to_be_visible()


def test_sign_in_runs_the_code_flow_with_pkce_and_keeps_no_secret_in_the_page(demo, page):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    token_answers = []
    page.on("response", lambda r: token_answers.append(r) if r.url.endswith("/oauth2/v2.0/token") else None)
    sign_in(page, demo, ADMIN)
    expect(page.locator("main h1")).to_have_text("Fleet overview")
    expect(page.locator("#who .user")).to_contain_text("dmin")
    expect(page.locator("#who .roles")).to_have_text("Security Administrator")
    authorize = [u for u in requests if "/oauth2/v2.0/authorize" in u]
    assert authorize, requests
    assert "code_challenge_method=S256" in authorize[0] and "code_challenge=" in authorize[0]
    assert token_answers and token_answers[0].status == 200
    # The ticket left the address bar; nothing secret is readable by scripts of the page.
    assert "ticket" not in page.url
    assert page.evaluate("document.cookie") == ""
    stored = page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert "eyJ" not in stored and "ticket" not in stored, stored
    # The same one-time link cannot be used twice.
    assert not page.problems, page.problems


def test_a_used_link_is_refused_and_sign_out_ends_the_session(fresh_demo, browser):
    link = fresh_demo.link(ADMIN)
    first = browser.new_context()
    p1 = first.new_page()
    p1.goto(link)
    expect(p1.locator("#sign-out")).to_be_visible()
    second = browser.new_context()
    p2 = second.new_page()
    p2.goto(link)
    expect(p2.locator("main h1")).to_have_text("Sign in to Picket")
    expect(p2.locator("#sign-out")).to_have_count(0)
    p1.locator("#sign-out").click()
    expect(p1.locator("main h1")).to_have_text("Sign in to Picket")
    # Signed out at the token service, not only in the page: a reload cannot get a code.
    p1.goto(f"{fresh_demo.base}/console/#/sensors")
    p1.reload()
    expect(p1.locator("main h1")).to_have_text("Sign in to Picket")
    expect(p1.locator(".notice")).to_contain_text("not signed in")
    first.close()
    second.close()


def test_every_view_renders_its_data_and_is_screenshotted(demo, page):
    sign_in(page, demo, ADMIN)
    for name, hash_, ready in VIEWS:
        go(page, demo, hash_)
        expect(page.locator(ready).first).to_be_visible()
        expect(page.locator("main .state.error")).to_have_count(0)
        screenshot(page, name)
    assert not page.problems, page.problems


def test_views_have_no_serious_accessibility_violations(demo, page):
    sign_in(page, demo, ADMIN)
    axe = Axe()
    failures = {}
    for name, hash_, ready in VIEWS:
        go(page, demo, hash_)
        expect(page.locator(ready).first).to_be_visible()
        results = axe.run(page)
        bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            failures[name] = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad]
    assert not failures, json.dumps(failures, indent=1)


def test_keyboard_reaches_the_navigation_and_skip_link(demo, page):
    sign_in(page, demo, ADMIN)
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('nav#nav') !== null"):
            break
    # Whatever has focus is visible and labelled.
    name = page.evaluate("document.activeElement.textContent || document.activeElement.getAttribute('aria-label')")
    assert name and name.strip()


def test_first_load_is_small(demo, browser):
    """Everything transferred from opening a sign-in link to the drawn overview (assets, the
    sign-in round trips, the API calls), headers included."""
    link = demo.link(ADMIN)
    context = browser.new_context()
    pg = context.new_page()
    sizes = {}

    def record(request):
        s = request.sizes()
        sizes[request.url] = sizes.get(request.url, 0) + s["responseBodySize"] + s["responseHeadersSize"]

    pg.on("requestfinished", record)
    pg.goto(link)
    expect(pg.locator("#overview-body .cards")).to_be_visible()
    pg.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    scripts = [u for u in sizes if u.endswith(".js")]
    print(f"console first load: {len(sizes)} requests ({len(scripts)} scripts), {total} bytes")
    assert len(scripts) >= 10, sizes
    assert total <= 300 * 1024, sizes
    context.close()


def _edit_description(page, server, text):
    """Edits the sensor's description in the console; answers the sensor as the API then has it."""
    go(page, server, f"#/sensors/{SENSOR}")
    page.locator("#settings-form textarea[name=description]").fill(text)
    page.locator("#settings-form button[type=submit]").click()
    expect(page.locator("#toast")).to_contain_text("Settings saved")
    status, sensor = server.graph("GET", f"/sensors/{SENSOR}")
    assert status == 200 and sensor["settings"]["description"] == text
    return sensor


def test_writes_in_the_console_are_seen_through_the_graph_api(fresh_demo, page):
    server = fresh_demo
    sign_in(page, server, ADMIN)
    # Settings of one sensor.
    sensor = _edit_description(page, server, "edited in the console")
    # A refusal of the API is shown as the API words it, and changes nothing.
    page.locator("#settings-form textarea[name=dcs]").fill("not a dns name!")
    page.locator("#settings-form button[type=submit]").click()
    expect(page.locator("#settings-error")).to_contain_text("BadRequest")
    assert server.graph("GET", f"/sensors/{SENSOR}")[1]["settings"] == sensor["settings"]
    # Triage of two health issues at once.
    go(page, server, "#/issues?status=open")
    boxes = page.locator("#issue-results tbody input[type=checkbox]")
    expect(boxes.first).to_be_visible()
    ids = [boxes.nth(i).evaluate("e => e.closest('tr').dataset.id") for i in range(2)]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.locator("#issue-actions button[data-status=closed]").click()
    expect(page.locator("#toast")).to_contain_text("2 health issues now closed")
    for i in ids:
        assert server.graph("GET", f"/healthIssues/{i}")[1]["status"] == "closed"
    # Activating a candidate makes a sensor.
    go(page, server, "#/candidates")
    row = page.locator("#candidate-results tbody tr").first
    candidate = row.get_attribute("data-id")
    name = row.locator("td").nth(1).inner_text()
    row.locator("input[type=checkbox]").check()
    page.locator("#activate-selected").click()
    page.locator("dialog.confirm button.danger").click()
    expect(page.locator("#toast")).to_contain_text("Activated 1 candidate")
    status, sensors = server.graph("GET", "/sensors?$top=100")
    assert any(s["displayName"].lower() == name.split(".")[0].lower() or s["id"] == candidate for s in sensors["value"]), name
    # Deleting asks for the name first.
    go(page, server, f"#/sensors/{SENSOR}")
    page.locator("#delete-sensor").click()
    confirm = page.locator("dialog.confirm button.danger")
    expect(confirm).to_be_disabled()
    page.locator("#confirm-typed").fill("DC1")
    confirm.click()
    expect(page.locator("main h1")).to_have_text("Sensors")
    assert server.graph("GET", f"/sensors/{SENSOR}")[0] == 404
    # The access key is revealed on request, and that is audited.
    go(page, server, "#/deployment")
    page.locator("#reveal-key").click()
    status, key = server.graph("GET", "/sensors/getDeploymentAccessKey")
    expect(page.locator("#key-value")).to_have_text(key["deploymentAccessKey"])
    go(page, server, "#/audit?operation=getDeploymentAccessKey")
    expect(page.locator("#audit-results tbody")).to_contain_text("user:")
    assert not page.problems, page.problems


def _expect_a_reader(page, server):
    """A Security Reader is signed in: the sensor's page has no settings form and no delete."""
    expect(page.locator("#who .roles")).to_have_text("Security Reader")
    go(page, server, f"#/sensors/{SENSOR}")
    expect(page.locator("#sensor-facts dl")).to_be_visible()
    expect(page.locator("#settings-form")).to_have_count(0)
    expect(page.locator("#delete-sensor")).to_have_count(0)


def test_a_reader_sees_no_write_controls_and_a_forged_write_is_refused(demo, page):
    tokens = []
    page.on("response", lambda r: tokens.append(r.json()["access_token"]) if r.url.endswith("/oauth2/v2.0/token") and r.ok else None)
    sign_in(page, demo, READER)
    _expect_a_reader(page, demo)
    go(page, demo, "#/issues")
    expect(page.locator("#issue-results table")).to_be_visible()
    expect(page.locator("#issue-results input[type=checkbox]")).to_have_count(0)
    go(page, demo, "#/candidates")
    expect(page.locator("#activate-selected")).to_have_count(0)
    go(page, demo, "#/deployment")
    expect(page.locator("#reveal-key")).to_have_count(0)
    screenshot(page, "reader-deployment")
    # The reader's own token, sent by hand from the page: the API refuses it as it would anywhere.
    assert tokens
    answer = page.evaluate(
        """async ([id, token]) => {
            const r = await fetch(`/v1.0/security/identities/sensors/${id}`, {
              method: "PATCH", headers: {authorization: `Bearer ${token}`, "content-type": "application/json"},
              body: JSON.stringify({settings: {description: "forged"}})});
            return [r.status, await r.json()];
        }""",
        [SENSOR, tokens[-1]],
    )
    assert answer[0] == 403, answer
    assert "error" in answer[1]
    assert demo.graph("GET", f"/sensors/{SENSOR}")[1]["settings"].get("description") != "forged"


HOSTILE_NAME = "<script>window.__pwned=1</script>"
HOSTILE_TEXT = '"><img src=x onerror="window.__pwned=2">'


def _fixture(path: Path, tenant: str, sensors: list[dict]) -> Path:
    path.write_text(json.dumps({"tenantId": tenant, "sensors": sensors}))
    return path


def _sensor(n: int, name: str, description: str = "") -> dict:
    return {
        "id": f"aaaaaaaa-0000-4000-8000-{n:012d}",
        "displayName": name,
        "domainName": "contoso.com" if n % 2 else "fabrikam.com",
        "sensorType": "domainControllerIntegrated",
        "version": "2.239.18124.58593",
        "deploymentStatus": "upToDate",
        "serviceStatus": "running",
        "createdDateTime": f"2024-01-01T00:00:{n % 60:02d}.0000000Z",
        "settings": {"description": description, "domainControllerDnsNames": [], "isDelayedDeploymentEnabled": False},
    }


def _with_users(server: Picket):
    server.cli("users", "create", "--tenant", server.tenant, "--upn", ADMIN, "--name", "Console Admin",
               "--role", "Security Administrator")


def test_hostile_names_and_descriptions_render_as_text(tmp_path, page):
    tenant = "0c0c0c0c-1111-4222-8333-444444444444"
    seed = _fixture(tmp_path / "hostile.json", tenant, [_sensor(1, HOSTILE_NAME, HOSTILE_TEXT)])
    server = Picket(demo=False, seed=seed, tenant=tenant)
    try:
        _with_users(server)
        sign_in(page, server, ADMIN)
        go(page, server, "#/sensors/aaaaaaaa-0000-4000-8000-000000000001")
        expect(page.locator("main h1")).to_have_text(HOSTILE_NAME)
        expect(page.locator("#sensor-facts")).to_contain_text(HOSTILE_TEXT)
        expect(page.locator("#settings-form textarea[name=description]")).to_have_value(HOSTILE_TEXT)
        go(page, server, "#/sensors")
        expect(page.locator("#sensor-results tbody a").first).to_have_text(HOSTILE_NAME)
        go(page, server, "#/")
        expect(page.locator("#overview-body .cards")).to_be_visible()
        assert page.evaluate("window.__pwned") is None
        assert page.locator("main img").count() == 0
        assert page.locator("main script").count() == 0
        assert not page.problems, page.problems
    finally:
        server.stop()


def test_paging_a_ten_thousand_sensor_tenant_keeps_the_filter_in_the_url(tmp_path, page):
    tenant = "0d0d0d0d-1111-4222-8333-444444444444"
    sensors = [_sensor(n, f"DC{n:05d}") for n in range(1, 10_001)]
    server = Picket(demo=False, seed=_fixture(tmp_path / "big.json", tenant, sensors), tenant=tenant)
    try:
        _with_users(server)
        sign_in(page, server, ADMIN)
        go(page, server, "#/sensors?size=100")
        expect(page.locator("#sensor-count")).to_have_text("1–100 of 10000 sensors")
        expect(page.locator("#page-of")).to_have_text("Page 1 of 100")
        page.locator("#page-next").click()
        expect(page.locator("#sensor-count")).to_have_text("101–200 of 10000 sensors")
        expect(page.locator("#sensor-results tbody tr").first).to_contain_text("DC00101")
        # A filter goes into the address; the address alone shows the same page.
        page.locator("select[name=health]").select_option("healthy")
        page.locator("#f-domain").fill("fabrikam.com")
        page.locator("form.filters button[type=submit]").click()
        expect(page.locator("#sensor-count")).to_have_text(re.compile(r"1–100 of 5000 sensors"))
        assert "domain=fabrikam.com" in page.url and "health=healthy" in page.url
        page.locator("#page-next").click()
        expect(page.locator("#sensor-count")).to_have_text("101–200 of 5000 sensors")
        # A new tab opened on the address alone shows the same page.
        other = page.context.new_page()
        other.goto(page.url)
        expect(other.locator("#sensor-count")).to_have_text("101–200 of 5000 sensors")
        expect(other.locator("#sensor-results tbody tr").first).to_contain_text("DC00202")
        screenshot(page, "sensors-10000")
    finally:
        server.stop()


def test_a_sensor_going_silent_shows_live_after_a_clock_advance(tmp_path, page):
    server = Picket(demo=True, args=["--clock", "manual"])
    agent = None
    try:
        status, key = server.graph("GET", "/sensors/getDeploymentAccessKey")
        agent = subprocess.Popen(
            [str(server.binary), "agent", "run", "--endpoint", server.base, "--tenant", server.tenant,
             "--access-key", key["deploymentAccessKey"], "--computer", "LIVE1.contoso.com",
             "--state-dir", str(tmp_path / "agent"), "--check-in-every", "1s"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=server.env)
        deadline = time.time() + 30
        while time.time() < deadline:
            found = server.graph("GET", "/sensors?$filter=startswith(displayName,'LIVE1')")[1]["value"]
            if found and found[0]["deploymentStatus"] != "disconnected":
                break
            time.sleep(0.5)
        else:
            pytest.fail("the agent did not enrol")
        sign_in(page, server, ADMIN)
        expect(page.locator("#overview-body .cards")).to_be_visible()
        expect(page.locator("#overview-body")).not_to_contain_text(re.compile("live1", re.I))
        agent.terminate()
        agent.wait(timeout=10)
        agent = None
        req = urllib.request.Request(f"{server.base}/admin/v1/clock/advance", method="POST",
                                     data=json.dumps({"by": "11m"}).encode())
        req.add_header("Authorization", f"Bearer {server.token()}")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200
        # No reload: the overview refreshes itself.
        expect(page.locator("#silent-list")).to_contain_text(re.compile("live1", re.I), timeout=10000)
        screenshot(page, "overview-live")
    finally:
        if agent is not None:
            agent.kill()
        server.stop()


def test_console_answers_carry_a_strict_content_security_policy(demo):
    with urllib.request.urlopen(f"{demo.base}/console/") as r:
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    try:
        urllib.request.urlopen(f"{demo.base}/console/api/overview")
        pytest.fail("the overview answered without a token")
    except urllib.error.HTTPError as e:
        assert e.code == 401
        assert json.loads(e.read())["error"]["code"] == "InvalidAuthenticationToken"


def _client_id(cli_output: str) -> str:
    return re.search(r"client id:\s+(\S+)", cli_output).group(1)


@pytest.fixture(scope="module")
def federated(demo):
    """A second Picket (B, on another loopback address, so its cookies are its own) as the OIDC
    provider of the demo tenant at the first (A): two users of B's (not known at A), a public client
    app at B redirected to A's console, and A trusting B's issuer by discovery with the console
    registered there."""
    port = free_port("127.0.0.2")
    provider_base = f"http://127.0.0.2:{port}"
    provider = Picket(demo=True, listen=f"127.0.0.2:{port}", args=["--issuer", provider_base])
    try:
        provider.cli("users", "create", "--tenant", DEMO_TENANT, "--upn", "ext-admin@partner.test",
                     "--name", "Partner Admin", "--role", "Security Administrator")
        provider.cli("users", "create", "--tenant", DEMO_TENANT, "--upn", "ext-reader@partner.test",
                     "--name", "Partner Reader", "--role", "Security Reader")
        client_id = _client_id(provider.cli("apps", "create", "--tenant", DEMO_TENANT, "--name", "Picket console at A",
                                            "--public", "--redirect-uri", f"{demo.base}/console/"))
        issuer = f"{provider_base}/{DEMO_TENANT}/"
        out = demo.cli("issuers", "add", "--tenant", DEMO_TENANT, "--issuer", issuer, "--discover",
                       "--console-client-id", client_id, "--console-name", "Partner ID")
        assert "Sign in with Partner ID" in out, out
        time.sleep(2.5)  # A picks up the trusted issuer (keys reload every 2 s)
        yield provider, issuer
    finally:
        provider.stop()


def _sign_in_through_provider(page, demo, provider, upn):
    # A session at the provider (its own one-time link: B's session cookie).
    page.goto(provider.link(upn))
    expect(page.locator("#sign-out")).to_be_visible()
    # A's console, never signed in to from this browser: which tenant, then which provider.
    page.goto(f"{demo.base}/console/")
    expect(page.locator("main h1")).to_have_text("Sign in to Picket")
    page.locator("#tenant-id").fill(DEMO_TENANT)
    page.locator("#tenant-form button[type=submit]").click()
    page.get_by_role("button", name="Sign in with Partner ID").click()
    expect(page.locator("#sign-out")).to_be_visible()


def test_sign_in_through_a_trusted_oidc_provider(demo, federated, page):
    provider, issuer = federated
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    exchanges = []
    page.on("response", lambda r: exchanges.append(r) if r.url.endswith("/console/api/token") else None)
    _sign_in_through_provider(page, demo, provider, "ext-admin@partner.test")
    expect(page.locator("main h1")).to_have_text("Fleet overview")
    expect(page.locator("#who .user")).to_have_text("Partner Admin")
    expect(page.locator("#who .roles")).to_have_text("Security Administrator")
    # The browser went to B's authorization endpoint with PKCE, and A redeemed the code at B.
    authorize = [u for u in requests if u.startswith(f"{provider.base}/{DEMO_TENANT}/oauth2/v2.0/authorize")]
    assert authorize and "code_challenge_method=S256" in authorize[-1], requests
    assert "redirect_uri=" + urllib.parse.quote(f"{demo.base}/console/", safe="") in authorize[-1]
    assert exchanges and exchanges[0].status == 200
    # (B's own console called B's token endpoint before; A's console never does.)
    at_a = requests[next(i for i, u in enumerate(requests) if u.startswith(demo.base)):]
    assert not [u for u in at_a if u.startswith(provider.base) and "/token" in u], at_a
    # A's fleet, with B's user's rights: a write through the console, seen by A's Graph API.
    _edit_description(page, demo, "edited through Partner ID")
    go(page, demo, "#/audit?operation=consoleSignIn")
    expect(page.locator("#audit-results tbody")).to_contain_text("user:")
    # A reload renews silently through the same provider.
    page.reload()
    expect(page.locator("#who .user")).to_have_text("Partner Admin")
    stored = page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert "eyJ" not in stored, stored
    assert not page.problems, page.problems


def test_a_reader_of_the_provider_gets_no_write_controls(demo, federated, page):
    provider, _ = federated
    _sign_in_through_provider(page, demo, provider, "ext-reader@partner.test")
    _expect_a_reader(page, demo)
    go(page, demo, "#/candidates")
    expect(page.locator("#activate-selected")).to_have_count(0)
    assert not page.problems, page.problems
