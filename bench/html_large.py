"""The HTML page of 5,000 nodes x 110 pods in a /12 pool with /26 blocks.

Run: ``python bench/html_large.py [OUT.html]``.

The stack declares one pool (10.0.0.0/12, blockSize 26: 16,384 blocks), one
node group of 5,000 nodes (maxPods 110) and one namespace expecting 550,000
pods, so ``calico-ipam simulate --stack bench --format html`` runs exactly
this workload. Measured in this one run, each phase once:

* the simulation (every node starts, then the pods round-robin, as the CLI does);
* the forecast of the declared load (the page's outlook; the same load again,
  then the bounded "how many more" searches);
* building and rendering the page, and writing it (target: <= 5 s for both,
  <= 20 MB);
* the whole command end to end;
* with Chromium and selenium installed: loading the file until the load
  event and the script's first tooltip, and zooming into a range.

Wall and CPU time are printed; on a shared machine CPU time is the fairer one.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

from ipam_model.calico.ipam.from_stack import families_in_use, simulator_for_stack
from ipam_model.cli import main as cli_main
from ipam_model.cli.output import write_output
from ipam_model.declared.files import load_stack
from ipam_model.rules.forecast import forecast
from ipam_model.views.html import IpamShown, simulation_page
from ipam_model.views.simulation import Simulation

NODES, PODS = 5000, 110
TARGET_SECONDS, TARGET_MB = 5.0, 20.0
STACK = {"config": {
    "calico-ipam:cluster": {"nodeGroups": [{"name": "node", "count": NODES, "maxPods": PODS}]},
    "calico-ipam:pools": {"bench": {"cidr": "10.0.0.0/12", "blockSize": 26}},
    "calico-ipam:namespaces": {"default": {"ipv4Pools": ["bench"],
                                           "expectedPods": NODES * PODS}}}}


class Clock:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:.2f} s wall, {self.cpu:.2f} s CPU"


def simulate(stack):
    nodes = [f"node-{i}" for i in range(NODES)]
    sim = simulator_for_stack(stack)
    for n in nodes:
        sim.add_node(n)
    families = families_in_use(stack.pools.values())
    for i in range(NODES * PODS):
        for version in families:
            sim.allocate("default", f"default-{i}", nodes[i % NODES], version=version)
    result = Simulation(tuple(sim.pods()), tuple(sim.blocks()), tuple(sim.tunnels()),
                        tuple(sim.failures), tuple(stack.pools[n] for n in sorted(stack.pools)),
                        sim.pool_usage())
    return result, [(n, "node") for n in nodes]


def browser(page: Path) -> None:
    """Load the page in headless Chromium (when installed) and zoom into a range."""
    import shutil
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
    except ImportError:
        print("Chromium: selenium is not installed; skipped")
        return
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("Chromium: not installed (apt-get install -y chromium chromium-driver); skipped")
        return
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='bench-chromium-')}"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        start = time.perf_counter()
        driver.get(page.as_uri())
        loaded = time.perf_counter() - start
        nav = driver.execute_script("const n = performance.getEntriesByType('navigation')[0];"
                                    "return [n.domContentLoadedEventEnd, n.loadEventEnd];")
        cell = driver.find_elements(By.CSS_SELECTOR, "[data-zoom]")[0]
        start = time.perf_counter()
        driver.execute_script("arguments[0].click()", cell)
        cells = driver.execute_script("return document.querySelectorAll('.level:last-child "
                                      "[data-cidr]').length")
        zoom = time.perf_counter() - start
        print(f"Chromium: page loaded in {loaded:.2f} s (DOMContentLoaded {nav[0] / 1000:.2f} s, "
              f"load event {nav[1] / 1000:.2f} s after navigation start); zoom into "
              f"{cell.get_attribute('data-range')} ({cells} block cells) in {zoom:.2f} s")
    finally:
        driver.quit()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else
               os.path.join(tempfile.mkdtemp(prefix="html-large-"), "bench.html"))
    stacks = Path(tempfile.mkdtemp(prefix="html-large-stacks-"))
    (stacks / "Pulumi.bench.yaml").write_text(yaml.safe_dump(STACK), encoding="utf-8")
    stack = load_stack(stacks / "Pulumi.bench.yaml", "bench")

    with Clock() as sim_clock:
        result, nodes = simulate(stack)
    print(f"simulation: {len(result.pods):,} addresses in {len(result.blocks):,} blocks "
          f"({len(result.failures):,} refused): {sim_clock}")
    with Clock() as forecast_clock:
        outlook = forecast(stack)
    print(f"forecast of the declared load: {forecast_clock}")
    with Clock() as page_clock:
        page = simulation_page(result, stack, nodes=nodes, forecast=outlook,
                               ipam=IpamShown(False, 0, "stack bench"))
    with Clock() as write_clock:
        write_output(out, page)
    size = out.stat().st_size / 1e6
    total = page_clock.wall + write_clock.wall
    print(f"page: built and rendered in {page_clock}; written in {write_clock}; "
          f"{size:.1f} MB ({out})")
    print(f"target <= {TARGET_SECONDS:.0f} s to write (build + render + write: {total:.2f} s "
          f"wall): {'met' if total <= TARGET_SECONDS else 'MISSED'}; <= {TARGET_MB:.0f} MB: "
          f"{'met' if size <= TARGET_MB else 'MISSED'}")
    with Clock() as cli_clock:
        code = cli_main(["simulate", "--stacks", str(stacks), "--stack", "bench",
                         "--format", "html", "--output", str(out)])
    print(f"calico-ipam simulate --format html end to end (exit {code}): {cli_clock}")
    browser(out)


if __name__ == "__main__":
    main()
