"""Round-robin placement under maxPods (calico/ipam/placement.py)."""
from hypothesis import given, settings
from hypothesis import strategies as st

from ipam_model.calico.ipam.placement import RoundRobin


def water_filled(max_pods: list[int], pods: int) -> list[int]:
    """Pods per node after *pods* round-robin pods, counted by whole turns: after
    r turns node i runs min(maxPods_i, r); the pods of the last, partial turn go to
    the first nodes that still have room."""
    counts = [0] * len(max_pods)
    left = min(pods, sum(max_pods))
    turn = 0
    while left:
        turn += 1
        for i, cap in enumerate(max_pods):
            if left and cap >= turn:
                counts[i] += 1
                left -= 1
    return counts


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=8), st.integers(0, 60))
def test_pods_fill_the_nodes_turn_by_turn_never_beyond_max_pods(max_pods, pods):
    placement = RoundRobin()
    for i, cap in enumerate(max_pods):
        placement.add_node(f"n{i}", cap)
    placed = [placement.next_node() for _ in range(pods)]
    room = sum(max_pods)
    assert placed[room:] == [None] * max(0, pods - room)  # the rest: no node has room
    counts = [placed.count(f"n{i}") for i in range(len(max_pods))]
    assert counts == water_filled(max_pods, pods)


def test_a_node_without_max_pods_takes_every_pod_the_others_cannot():
    placement = RoundRobin()
    placement.add_node("small", 1)
    placement.add_node("outside-the-groups", None)
    assert [placement.next_node() for _ in range(4)] == [
        "small", "outside-the-groups", "outside-the-groups", "outside-the-groups"]


def test_a_release_frees_a_slot_and_a_pinned_pod_takes_one():
    placement = RoundRobin()
    placement.add_node("a", 2)
    placement.add_node("b", 2)
    placement.count_pod("b")           # a scenario pod with node: b
    assert [placement.next_node() for _ in range(4)] == ["a", "b", "a", None]
    placement.release("a")
    assert placement.next_node() == "a" and placement.next_node() is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=6),
       st.lists(st.tuples(st.sampled_from(["next", "pin", "release"]), st.integers(0, 5)),
                max_size=40))
def test_room_is_what_the_nodes_can_still_take(max_pods, ops):
    """The kept count of free slots (which lets full nodes answer at once) equals
    the slots counted node by node, through pinned pods and releases."""
    placement = RoundRobin()
    for i, cap in enumerate(max_pods):
        placement.add_node(f"n{i}", cap)
    for op, k in ops:
        name = f"n{k % len(max_pods)}"
        if op == "next":
            full = all(placement.pods_on[f"n{i}"] >= cap for i, cap in enumerate(max_pods))
            assert (placement.next_node() is None) == full
        elif op == "pin":
            placement.count_pod(name)
        else:
            placement.release(name)
        assert placement.room == sum(max(0, cap - placement.pods_on[f"n{i}"])
                                     for i, cap in enumerate(max_pods))
