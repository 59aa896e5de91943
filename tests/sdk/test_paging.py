"""Paging through @odata.nextLink the two ways SDK users do it: msgraph_core's PageIterator, and a loop of
`with_url(page.odata_next_link).get()`. Seeded with PAGING_SENSORS sensors; default page size is 100."""

from urllib.parse import urlparse

from msgraph_core.tasks.page_iterator import PageIterator

from picket_ids import PAGING_SENSORS

EXPECTED_IDS = {f"33333333-0000-4000-8000-{i:012d}" for i in range(PAGING_SENSORS)}


def assert_local_link(server, api, link: str):
    base = urlparse(server.url(api.version))
    u = urlparse(link)
    assert (u.scheme, u.netloc) == (base.scheme, base.netloc), link
    assert u.path.startswith(f"/{api.version}/security/identities/sensors"), link


async def test_page_iterator_collects_every_sensor_once(api, paging_server):
    client = api.client(paging_server)
    first = await client.security.identities.sensors.get()
    assert isinstance(first, api.m.SensorCollectionResponse)
    assert len(first.value) == 100
    assert first.odata_next_link
    assert_local_link(paging_server, api, first.odata_next_link)

    seen: list[str] = []
    types = set()

    def collect(sensor) -> bool:
        seen.append(sensor.id)
        types.add(type(sensor))
        return True

    iterator = PageIterator(first, client.request_adapter)
    await iterator.iterate(collect)
    assert len(seen) == PAGING_SENSORS
    assert set(seen) == EXPECTED_IDS
    assert types == {api.m.Sensor}


async def test_with_url_next_link_loop_with_top_and_count(api, paging_server):
    sensors = api.client(paging_server).security.identities.sensors
    page = await sensors.get(api.query("SensorsQuery", top=40, count=True))
    assert page.odata_count == PAGING_SENSORS
    seen = [s.id for s in page.value]
    pages = 1
    while page.odata_next_link:
        assert_local_link(paging_server, api, page.odata_next_link)
        page = await sensors.with_url(page.odata_next_link).get()
        assert len(page.value) <= 40
        seen += [s.id for s in page.value]
        pages += 1
        assert pages < 50, "nextLink never ends"
    assert pages == -(-PAGING_SENSORS // 40)
    assert len(seen) == len(set(seen)) == PAGING_SENSORS
    assert set(seen) == EXPECTED_IDS


async def test_paging_keeps_the_filter(api, paging_server):
    m = api.m
    sensors = api.client(paging_server).security.identities.sensors
    page = await sensors.get(api.query("SensorsQuery", filter="sensorType eq 'adfsIntegrated'", top=25))
    seen = []
    while True:
        assert all(s.sensor_type == m.SensorType.AdfsIntegrated for s in page.value)
        seen += [s.id for s in page.value]
        if not page.odata_next_link:
            break
        page = await sensors.with_url(page.odata_next_link).get()
    assert len(seen) == len(set(seen)) == PAGING_SENSORS // 2
    assert await sensors.count.get(api.query("SensorsCountQuery", filter="sensorType eq 'adfsIntegrated'")) == PAGING_SENSORS // 2
