"""Ids and facts of fixtures/tenant.json that the tests refer to."""

DC1 = "11111111-0000-4000-8000-000000000001"  # v2, DC integrated, 2 open issues (high + medium)
DC2 = "11111111-0000-4000-8000-000000000002"  # v3, DC integrated, one closed + one suppressed issue
ADFS1 = "11111111-0000-4000-8000-000000000003"  # v2, AD FS, one open low issue
ADCS1 = "11111111-0000-4000-8000-000000000004"  # v2, AD CS, outdated
ENTRA1 = "11111111-0000-4000-8000-000000000005"  # v2, Entra Connect
SA1 = "11111111-0000-4000-8000-000000000006"  # v2, standalone, disconnected, one open medium issue
BDC9 = "11111111-0000-4000-8000-000000000007"  # v2, unreachable: the one to delete
BDC3 = "11111111-0000-4000-8000-000000000008"  # v3, updating
ALL_SENSORS = {DC1, DC2, ADFS1, ADCS1, ENTRA1, SA1, BDC9, BDC3}

H_AUDITING = "22222222-0000-4000-8000-000000000001"  # global, medium, open, DC1
H_DC1_START = "22222222-0000-4000-8000-000000000002"  # sensor, high, open, DC1
H_ADFS = "22222222-0000-4000-8000-000000000003"  # sensor, low, open, ADFS1
H_DC2_CLOSED = "22222222-0000-4000-8000-000000000004"  # sensor, medium, closed, DC2
H_DC2_SUPPRESSED = "22222222-0000-4000-8000-000000000005"  # sensor, medium, suppressed, DC2
H_GLOBAL_CLOSED = "22222222-0000-4000-8000-000000000006"  # global, low, closed, no sensor
H_SA1 = "22222222-0000-4000-8000-000000000007"  # sensor, medium, open, SA1
H_GLOBAL_SUPPRESSED = "22222222-0000-4000-8000-000000000008"  # global, medium, suppressed, BDC3
ALL_ISSUES = {H_AUDITING, H_DC1_START, H_ADFS, H_DC2_CLOSED, H_DC2_SUPPRESSED, H_GLOBAL_CLOSED, H_SA1, H_GLOBAL_SUPPRESSED}
OPEN_ISSUES = {H_AUDITING, H_DC1_START, H_ADFS, H_SA1}
GLOBAL_ISSUES = {H_AUDITING, H_GLOBAL_CLOSED, H_GLOBAL_SUPPRESSED}

CAND1 = "c0633ebb-8cfb-f17a-0b9e-000000000001"  # dc4.corp.example.com
CAND2 = "c0633ebb-8cfb-f17a-0b9e-000000000002"  # bdc5.branch.example.net
CAND3 = "c0633ebb-8cfb-f17a-0b9e-000000000003"  # dc6.corp.example.com, older Sense client
ALL_CANDIDATES = {CAND1, CAND2, CAND3}

UNKNOWN_ID = "00000000-dead-4bee-8f00-000000000000"
PACKAGE_VERSION = "2.239.18124.58593"  # picket serve's default --package-version
UNIFIED_VERSION = "3.1.25311.1"  # picket serve's default --unified-sensor-version

PAGING_TENANT = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
PAGING_SENSORS = 260  # seeded into the paging server; more than two default pages of 100
