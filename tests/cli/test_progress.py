"""The progress line of a cluster read: only on a terminal, only once the read is slow."""
from __future__ import annotations

import io

from fake_kube_api import reader, write_kubeconfig

from ipam_model.cli.progress import ProgressLine, progress_line


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_a_terminal(api, tmp_path):
    kc = write_kubeconfig(tmp_path, api.url)
    tty, pipe = Tty(), io.StringIO()
    reader(kc, on_progress=progress_line(tty, after=0.0)).read()
    reader(kc, on_progress=progress_line(pipe, after=0.0)).read()
    assert "reading namespaces: 7" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_each_page_rewrites_the_line_and_the_end_of_a_list_ends_it():
    tty = Tty()
    show = ProgressLine(tty, after=0.0)
    show("ipamblocks.crd.projectcalico.org", 500, False)
    show("ipamblocks.crd.projectcalico.org", 1000, False)
    show("ipamblocks.crd.projectcalico.org", 1234, True)
    assert tty.getvalue() == ("\rreading ipamblocks.crd.projectcalico.org: 500"
                              "\rreading ipamblocks.crd.projectcalico.org: 1,000"
                              "\rreading ipamblocks.crd.projectcalico.org: 1,234\n")


def test_a_short_read_stays_silent():
    tty = Tty()
    show = ProgressLine(tty, after=60.0)
    show("nodes", 3, True)
    assert tty.getvalue() == ""
