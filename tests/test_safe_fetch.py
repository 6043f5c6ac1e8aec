"""The SSRF-safe page fetcher against real HTTP servers on loopback addresses."""
import pytest

from moderation.safe_fetch import FetchTimeout, Refused, address_allowed, fetch

from support.article_server import ArticleServer, html_page, slow_headers, trickle


LOOPBACK_ONE = ["127.0.0.1/32"]
MB = 1024 * 1024


@pytest.fixture
def server():
    with ArticleServer() as srv:
        srv.page("/article", html_page("Трамвай", ["Мэр обьявил о запуске."]))
        yield srv


def get(srv, path, **kwargs):
    kwargs.setdefault("allowed_networks", LOOPBACK_ONE)
    kwargs.setdefault("timeout", 5)
    return fetch(srv.url(path), [srv.origin], **kwargs)


def test_fetches_an_allowed_page(server):
    page = get(server, "/article")
    assert page.ok and page.content_type == "text/html" and page.charset == "utf-8"
    assert "Мэр обьявил" in page.text()


def test_a_missing_page_is_a_status_not_an_error(server):
    page = get(server, "/gone")
    assert (page.status, page.ok, page.body) == (404, False, b"")


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "224.0.0.1", "100.64.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "ff02::1",
])
def test_non_public_addresses_are_refused_by_default(address):
    assert not address_allowed(address)


def test_public_addresses_and_allow_listed_networks_pass():
    import ipaddress

    assert address_allowed("93.184.216.34") and address_allowed("2606:2800:220:1::1")
    assert address_allowed("127.0.0.1", [ipaddress.ip_network("127.0.0.1/32")])
    assert address_allowed("::ffff:127.0.0.1", [ipaddress.ip_network("127.0.0.1/32")])


# 6to4 (2002::/16), Teredo (2001::/32), NAT64 (64:ff9b::/96) and IPv4-mapped addresses lead to the
# IPv4 they embed: 2002:7f00:1:: is 127.0.0.1 through a 6to4 relay, and Python calls it "global".
@pytest.mark.parametrize("address", [
    "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:c0a8:101::", "2002:a00:1::ffff", "2002::",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    # Teredo: server 65.54.227.120 (public), client 192.0.2.45 (documentation range) / 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:4136:e378:8000:63bf:80ff:fffe",
])
def test_ipv6_addresses_are_judged_by_the_ipv4_they_embed(address):
    assert not address_allowed(address)


def test_embedded_public_ipv4_passes_and_the_allow_list_applies_to_the_embedded_address():
    import ipaddress

    assert address_allowed("2002:808:808::1") and address_allowed("64:ff9b::808:808")
    assert address_allowed("::ffff:8.8.8.8")
    assert not address_allowed("2002:7f00:1::")
    assert address_allowed("2002:7f00:1::", [ipaddress.ip_network("127.0.0.0/8")])


def test_loopback_is_refused_unless_allowed(server):
    with pytest.raises(Refused, match="non-public"):
        get(server, "/article", allowed_networks=())
    assert server.hits == []  # refused before connecting


def test_127_0_0_2_is_refused_when_only_127_0_0_1_is_allowed():
    with ArticleServer("127.0.0.2") as other:
        other.page("/article", html_page("t", ["text"]))
        with pytest.raises(Refused, match="127.0.0.2"):
            get(other, "/article", allowed_networks=LOOPBACK_ONE)
        assert other.hits == []
        # The same server is reachable once its network is allowed: the guard refused, not the network.
        assert get(other, "/article", allowed_networks=["127.0.0.0/8"]).ok


def test_origins_other_than_the_sites_are_refused(server):
    with pytest.raises(Refused, match="origins"):
        fetch(server.url("/article"), ["https://news.example"], allowed_networks=LOOPBACK_ONE)
    with pytest.raises(Refused, match="scheme"):
        fetch("file:///etc/passwd", ["file://"], allowed_networks=LOOPBACK_ONE)
    with pytest.raises(Refused, match="credentials"):
        fetch(f"http://user:pw@127.0.0.1:{server.port}/article", [server.origin], allowed_networks=LOOPBACK_ONE)
    assert server.hits == []


def test_same_origin_redirects_are_followed(server):
    server.routes["/old"] = (301, {"Location": "/middle"}, b"")
    server.routes["/middle"] = (302, {"Location": server.url("/article")}, b"")
    page = get(server, "/old")
    assert page.ok and page.url == server.url("/article")
    assert server.hits == ["/old", "/middle", "/article"]


def test_too_many_redirects_are_refused(server):
    for n in range(5):
        server.routes[f"/r{n}"] = (302, {"Location": f"/r{n + 1}"}, b"")
    with pytest.raises(Refused, match="redirects"):
        get(server, "/r0")
    assert server.hits == ["/r0", "/r1", "/r2", "/r3"]


def test_a_redirect_to_another_host_is_refused(server):
    with ArticleServer("127.0.0.2") as other:
        other.page("/internal", b"<p>secret</p>")
        server.routes["/jump"] = (302, {"Location": other.url("/internal")}, b"")
        # Even with the other host's network and origin allowed: redirects stay on the host.
        with pytest.raises(Refused, match="another host"):
            fetch(server.url("/jump"), [server.origin, other.origin], allowed_networks=["127.0.0.0/8"])
        assert other.hits == []


def test_a_redirect_to_another_port_outside_the_origins_is_refused(server):
    server.routes["/port"] = (302, {"Location": "http://127.0.0.1:9/admin"}, b"")
    with pytest.raises(Refused, match="origins"):
        get(server, "/port")


def test_an_oversized_page_is_refused(server):
    server.page("/big", b"<p>" + b"a" * (3 * MB) + b"</p>")
    with pytest.raises(Refused, match="cap"):
        get(server, "/big")

    def no_length(handler):  # no Content-Length: the cap applies while streaming
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            for _ in range(48):
                handler.wfile.write(b"a" * (64 * 1024))
        except OSError:
            pass

    server.routes["/stream"] = no_length
    with pytest.raises(Refused, match="cap"):
        get(server, "/stream")
    assert get(server, "/article", max_bytes=MB).ok


def test_non_html_is_refused(server):
    server.page("/data", b'{"a": 1}', content_type="application/json")
    server.routes["/untyped"] = (200, {}, b"<p>?</p>")
    with pytest.raises(Refused, match="application/json"):
        get(server, "/data")
    with pytest.raises(Refused, match="missing"):
        get(server, "/untyped")


def test_a_slow_server_times_out(server):
    server.routes["/slow"] = slow_headers(3)
    server.routes["/trickle"] = trickle(3)
    with pytest.raises(FetchTimeout):
        get(server, "/slow", timeout=0.5)
    with pytest.raises(FetchTimeout):
        get(server, "/trickle", timeout=0.5)
