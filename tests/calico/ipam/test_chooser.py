"""Pool choice (annotations, selectors, allowedUses, tunnels) and address text."""
import socket

import netaddr
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.calico.ipam.chooser import NamespaceInfo, PoolChooser, selector_matches
from ipam_model.calico.ipam.simulator import Simulator
from ipam_model.core.cidr import ip_text as ip_str
from ipam_model.core.model import Pool, PoolSpec


def test_tunnel_from_first_pool_in_name_order_that_allows_tunnel():
    a = Pool("a-pool", PoolSpec("10.1.0.0/24", 29, ipip_mode="Always", allowed_uses=("Workload",)))
    b = Pool("b-pool", PoolSpec("10.2.0.0/24", 29, ipip_mode="Always"))
    c = Pool("c-pool", PoolSpec("10.3.0.0/24", 29, ipip_mode="Always"))
    sim = Simulator([c, b, a])
    assert [t.pool for t in sim.add_node("node1")] == ["b-pool"]


def test_pool_choice_annotations_and_errors():
    a = Pool("a-pool", PoolSpec("10.1.0.0/24", 29, node_selector="zone == 'b'"))
    d = Pool("disabled", PoolSpec("10.9.0.0/24", 29, disabled=True))
    ns = {"bound": NamespaceInfo("bound", ipv4_pools=("a-pool",)),
          "off": NamespaceInfo("off", ipv4_pools=("10.9.0.0/24",))}
    sim = Simulator([a, d], namespaces=ns)
    sim.add_node("node1", {"zone": "a"})
    # a requested pool is used although its nodeSelector does not match the node
    assert sim.allocate("bound", "p", "node1").pool == "a-pool"
    assert sim.allocate("off", "p", "node1").message == (
        "the given pool (10.9.0.0/24) does not exist, or is not enabled")
    assert sim.allocate("free", "p", "node1").message == "no configured Calico pools for node node1"
    # the pod annotation overrides the namespace's
    assert sim.allocate("off", "p2", "node1", pools=["a-pool"]).pool == "a-pool"


def test_allowed_uses_and_no_pools():
    t = Pool("tunnel-only", PoolSpec("10.1.0.0/24", 29, allowed_uses=("Tunnel",)))
    assert Simulator([t]).allocate("x", "p", "n").message == (
        "cannot find a qualified ippool, no pools match the required use (Workload)")
    assert Simulator([]).allocate("x", "p", "n").message == "cannot find a qualified ippool"


def test_namespace_selector():
    sel = Pool("team", PoolSpec("10.1.0.0/24", 29, namespace_selector="team == 'x'",
                                allowed_uses=("Workload",)))
    rest = Pool("zz-default", PoolSpec("10.2.0.0/24", 29))
    sim = Simulator([sel, rest], namespaces={"tx": NamespaceInfo("tx", labels={"team": "x"})})
    assert sim.allocate("tx", "p", "n").pool == "team"
    assert sim.allocate("other", "p", "n").pool == "zz-default"


def test_a_forked_chooser_keeps_its_own_node_cache():
    a = Pool("a-pool", PoolSpec("10.1.0.0/24", 29, node_selector="zone == 'a'"))
    chooser = PoolChooser([a])
    twin = chooser.fork()
    assert chooser.node_pools("n1", {"zone": "a"}) == {"a-pool"}
    assert twin.node_pools("n1", {"zone": "b"}) == frozenset()
    assert twin.infos is chooser.infos  # the geometry is shared


def test_empty_selectors_select_everything():
    assert selector_matches("", {}) and selector_matches("  ", {"x": "y"})
    assert selector_matches("zone == 'a'", {"zone": "a"})
    assert not selector_matches("zone == 'a'", {"zone": "b"})


def old_ip_str(value, version):
    """The former formatter: C's inet_ntop, with netaddr for dotted tails."""
    if version == 4:
        return str(netaddr.IPAddress(value, 4))
    text = socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))
    return text if "." not in text else str(netaddr.IPAddress(value, 6))


EDGES = [0, 1, 0xFFFF, 0x1_0000, 0xFFFF_0000_0000, 0xFFFF_0A00_0001, 0x0001_0000_0000,
         0xFFFE_0000_0000, 1 << 127, (1 << 128) - 1, 0x2001_0DB8 << 96,
         (0x2001_0DB8 << 96) | 1, 0x0001_0000 << 96, 0x0A00_0001]


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.sampled_from(EDGES), st.integers(0, (1 << 128) - 1),
                 st.integers(0, (1 << 48) - 1),
                 st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xABC]), min_size=8,
                          max_size=8).map(lambda ws: sum(w << (16 * i) for i, w in enumerate(ws)))))
def test_ipv6_text_is_what_inet_ntop_and_netaddr_gave(value):
    assert ip_str(value, 6) == old_ip_str(value, 6)


@given(st.integers(0, (1 << 32) - 1))
def test_ipv4_text_is_the_dotted_quad(value):
    assert ip_str(value, 4) == old_ip_str(value, 4)

