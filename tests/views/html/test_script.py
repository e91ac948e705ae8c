"""The page in a real browser: headless Chromium driven by Selenium.

One test, in steps: the page loads from disk with no console error and no
network request; hovering a block cell shows its CIDR, node, allocated n of
N and pods; the keyboard moves through a grid (one tab stop per grid, the
tooltip follows the focus); a range of a large pool zooms in (its block
cells carry the template's ``data-*``) and Escape zooms out; screenshots in
light and dark mode are not uniform; the plan page (every change type, a
gate) loads as cleanly and shows its tooltips.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y
chromium chromium-driver``) and selenium. Without them the test skips and
says why, unless ``CALICO_IPAM_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which
makes a missing browser a failure. ``CALICO_IPAM_SCREENSHOTS=DIR`` keeps the
screenshots there.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from html_helpers import plan_every_change, run_cli

from ipam_model.views.plan import PlanView, render

REQUIRE = os.environ.get("CALICO_IPAM_REQUIRE_BROWSER") == "1"
# The flags that work in containers and CI: no sandbox, no GPU, nothing phoning home.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1000")


def _missing() -> str | None:
    try:
        import PIL  # noqa: F401
        import selenium  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[test]')"
    for name in (("chromium", "chromium-browser"), ("chromedriver",)):
        if not any(shutil.which(n) for n in name):
            return f"no {name[0]} on PATH"
    return None


@pytest.fixture
def chromium():
    reason = _missing()
    if reason is not None:
        if REQUIRE:
            pytest.fail(f"CALICO_IPAM_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(f"the browser test needs headless Chromium: {reason}; install it with "
                    "apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="calico-ipam-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # The Debian driver by path: Selenium Manager would try to download one.
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_the_page_in_headless_chromium(chromium, tmp_path, capsys):
    pages = {}
    for name, argv in {"borrowing": ["--stack", "dev", "--nodes", "10",
                                     "--pods", "external-ns=30"],
                       "prod": ["--stack", "prod"]}.items():
        pages[name] = tmp_path / f"{name}.html"
        code, _ = run_cli(capsys, "simulate", *argv, "--format", "html",
                          "--output", str(pages[name]))
        assert code == 0
    loads_cleanly(chromium, pages["borrowing"])
    hover_shows_the_tooltip(chromium)
    keyboard_moves_and_the_tooltip_follows(chromium)
    loads_cleanly(chromium, pages["prod"])
    zooms_into_a_range_and_back(chromium)
    screenshots_are_not_uniform(chromium, tmp_path)
    declared, live, plan = plan_every_change()  # the plan page: every change type, a gate
    pages["plan"] = tmp_path / "plan.html"
    pages["plan"].write_text(render(PlanView(plan, live=live, stack=declared), "html"),
                             encoding="utf-8")
    loads_cleanly(chromium, pages["plan"])
    hover_shows_the_tooltip(chromium)


def loads_cleanly(driver, page: Path) -> None:
    url = page.as_uri()
    driver.get_log("performance")  # drop what came before
    driver.get(url)
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    events = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    requests = [m["params"] for m in events if m["method"] == "Network.requestWillBeSent"]
    fetched = {r["request"]["url"] for r in requests if r.get("documentURL") == url}
    assert fetched == {url}, f"the page fetched {fetched - {url}}: {requests}"


def hover_shows_the_tooltip(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    cell = next(c for c in driver.find_elements(By.CSS_SELECTOR, "[data-cidr]")
                if c.get_attribute("data-borrowed"))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    ActionChains(driver).move_to_element(cell).perform()
    tip = driver.find_element(By.ID, "tip")
    assert tip.is_displayed()
    text = tip.text.replace("\n", " ")
    data = {k: cell.get_attribute(f"data-{k}") for k in ("cidr", "node", "allocated", "size",
                                                         "pods", "borrowed")}
    assert f"block {data['cidr']}" in text and f"node {data['node']} (workers)" in text
    assert f"allocated {data['allocated']} of {data['size']}" in text
    assert f"pods {data['pods']}" in text
    assert f"borrowed {data['borrowed']} addresses held by other nodes" in text


def keyboard_moves_and_the_tooltip_follows(driver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.find_element(By.TAG_NAME, "body").click()
    driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    first = driver.switch_to.active_element
    grid = first.find_element(By.XPATH, "ancestor::*[@role='grid']")
    cells = grid.find_elements(By.CSS_SELECTOR, "[role=gridcell]")
    assert first == cells[0]
    first.send_keys(Keys.ARROW_RIGHT)
    second = driver.switch_to.active_element
    assert second == cells[1] and second.get_attribute("tabindex") == "0"
    assert first.get_attribute("tabindex") == "-1"
    assert second.get_attribute("aria-describedby") == "tip"
    where = second.get_attribute("data-cidr") or second.get_attribute("data-slot")
    assert where in driver.find_element(By.ID, "tip").text
    assert second.get_attribute("aria-label").startswith("block " + where)
    second.send_keys(Keys.END)
    cols = int(grid.get_attribute("data-cols"))
    assert driver.switch_to.active_element == cells[min(cols, len(cells)) - 1]
    driver.switch_to.active_element.send_keys(Keys.TAB)  # one tab stop per grid
    nxt = driver.switch_to.active_element
    assert nxt.get_attribute("role") == "gridcell"
    assert nxt.find_element(By.XPATH, "ancestor::*[@role='grid']") != grid


def zooms_into_a_range_and_back(driver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cell = driver.find_elements(By.CSS_SELECTOR, "[data-zoom]")[0]
    range_cidr, zoom = cell.get_attribute("data-range"), cell.get_attribute("data-zoom")
    inside = driver.execute_script(
        "return Array.from(document.getElementById(arguments[0]).content"
        ".querySelectorAll('[data-cidr]'), c => [c.dataset.cidr, c.dataset.node, "
        "c.dataset.allocated, c.dataset.size])", zoom)
    assert inside and len(inside) == int(cell.get_attribute("data-claimed"))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    level = cell.find_element(By.XPATH, "ancestor::*[@class='map']/*[@class='level'][last()]")
    shown = [[c.get_attribute(f"data-{k}") for k in ("cidr", "node", "allocated", "size")]
             for c in level.find_elements(By.CSS_SELECTOR, "[data-cidr]")]
    assert shown == inside
    assert not cell.is_displayed()
    trail = cell.find_element(By.XPATH, "ancestor::*[@class='map']/nav")
    assert trail.is_displayed() and range_cidr in trail.text
    focused = driver.switch_to.active_element
    assert focused.get_attribute("role") == "gridcell" and focused.is_displayed()
    focused.send_keys(Keys.ESCAPE)
    back = driver.switch_to.active_element
    assert back.get_attribute("data-range") == range_cidr and back.is_displayed()
    assert not trail.is_displayed()
    back.send_keys(Keys.ENTER)  # the keyboard zooms too
    assert driver.switch_to.active_element.find_element(
        By.XPATH, "ancestor::*[@class='level']").get_attribute("data-range") == range_cidr


def screenshots_are_not_uniform(driver, tmp_path: Path) -> None:
    from PIL import Image

    keep = os.environ.get("CALICO_IPAM_SCREENSHOTS")
    backgrounds = {}
    for scheme in ("light", "dark"):
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": scheme}]})
        driver.execute_script("window.scrollTo(0, 0)")
        backgrounds[scheme] = driver.execute_script(
            "return getComputedStyle(document.body).backgroundColor")
        png = driver.get_screenshot_as_png()
        (tmp_path / f"page-{scheme}.png").write_bytes(png)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            (Path(keep) / f"page-{scheme}.png").write_bytes(png)
        image = Image.open(io.BytesIO(png)).convert("RGB")
        pixels = Counter(image.get_flattened_data())
        assert len(pixels) > 50, f"{scheme}: {len(pixels)} colours"
        # The page is drawn in the scheme asked for: most of the screen is its background.
        ((most, _),) = pixels.most_common(1)
        assert f"rgb{most}" == backgrounds[scheme], (scheme, most)
    assert backgrounds == {"light": "rgb(255, 255, 255)", "dark": "rgb(13, 17, 23)"}
