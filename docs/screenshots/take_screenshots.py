"""Take the app's screenshots (1400x900, one per screen) with the system Chromium, and time the cold start.

    .venv/bin/python docs/screenshots/take_screenshots.py [--dataset FOLDER] [--out docs/screenshots]

Starts `streamlit run app.py` on a free port (on the app's default dataset, program126, unless --dataset), opens
each screen in headless Chromium (/usr/bin/chromium; nothing is downloaded) and saves
national.png, solving.png (a new fund solving: the preview and Cancel), carrier.png, compare.png, data.png
and data-upload-errors.png. It prints how long the national screen took to show after a cold start and after
a reload (cached), and how long a new fund took to show its preview and its figures.
The Compare screen solves all four rules, so a cold run takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
SCREENS = ("national", "solving", "carrier", "compare", "data")
LONG_MS = 600_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def broken_upload(folder: Path) -> None:
    """The tiny test dataset with three defects: an unknown carrier, a negative cost, a crew type with no pool."""
    tiny = ROOT / "tests" / "fixtures" / "tiny"
    for name in ("carriers.csv", "crews.csv", "sites.csv"):
        text = (tiny / name).read_text(encoding="utf-8")
        if name == "sites.csv":
            lines = text.splitlines()
            lines[2] = lines[2].replace(",north,", ",nroth,", 1)
            lines[3] = lines[3].replace(",120000,", ",-120000,", 1)
            text = "\n".join(lines) + "\n"
        if name == "crews.csv":
            text = text.replace("south,tower,1,\n", "")
        (folder / name).write_text(text, encoding="utf-8")


def metric(page, label: str) -> str:
    """The value of the metric with this label."""
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def settle(page, charts: int = 0) -> None:
    """Wait until Streamlit stops running and at least `charts` plotly charts are drawn."""
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}", timeout=LONG_MS
    )
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=LONG_MS)
    page.wait_for_timeout(1500)


def figures(page):
    """The national headline's last figure, drawn once the plan is solved (the preview above it says "left
    without service" too, in a sentence, so the metric's own label is looked for)."""
    return page.locator('[data-testid="stMetricLabel"]').get_by_text("Left without service").first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="dataset folder (default: the app's, datasets/program126)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--carrier", default="c023", help="carrier shown on the Carrier screen")
    parser.add_argument(
        "--screens",
        nargs="+",
        default=list(SCREENS),
        choices=SCREENS,
        help="screens to capture (the national screen is always loaded and timed)",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("RRPLAN_DATASET", None)
    if args.dataset:
        env["RRPLAN_DATASET"] = str(Path(args.dataset).resolve())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url)
            page.get_by_text("Preview while the solver works").or_(figures(page)).first.wait_for(timeout=LONG_MS)
            print(f"first figures (the preview) after a cold start: {time.perf_counter() - began:.1f} s", flush=True)
            figures(page).wait_for(timeout=LONG_MS)
            print(f"national screen after a cold start: {time.perf_counter() - began:.1f} s", flush=True)
            settle(page, 3)
            if "national" in args.screens:
                page.screenshot(path=str(out / "national.png"))
            again = time.perf_counter()
            page.reload()
            figures(page).wait_for(timeout=LONG_MS)
            print(f"national screen again (cached): {time.perf_counter() - again:.1f} s", flush=True)

            if "national" in args.screens or "solving" in args.screens:
                factor = metric(page, "Pro-rata factor")
                for preset, what in (
                    ("$1B: 2019 proposal", "another fund (a new solve)"),
                    ("$1.895B: 2020 appropriation", "back to the first fund (cached)"),
                ):
                    settle(page, 3)
                    clicked = time.perf_counter()
                    page.locator('[data-testid="stSidebar"]').get_by_text(preset).click()
                    if what.endswith("(a new solve)"):
                        page.get_by_text("Preview while the solver works").first.wait_for(timeout=LONG_MS)
                        print(f"preview of {what}: {time.perf_counter() - clicked:.1f} s", flush=True)
                        if "solving" in args.screens:
                            page.screenshot(path=str(out / "solving.png"))
                    page.wait_for_function(
                        """old => { const v = [...document.querySelectorAll('[data-testid="stMetric"]')]
                            .find(m => m.innerText.startsWith('Pro-rata factor'));
                            return v && !v.innerText.includes(old); }""",
                        arg=factor,
                        timeout=LONG_MS,
                    )
                    factor = metric(page, "Pro-rata factor")
                    print(
                        f"national figures after switching to {what}: {time.perf_counter() - clicked:.1f} s", flush=True
                    )

            if "carrier" in args.screens:
                page.goto(f"{url}/carrier")
                page.get_by_text("Sites replaced").first.wait_for(timeout=LONG_MS)
                page.locator('[data-testid="stSelectbox"]').last.click()
                page.keyboard.type(args.carrier)  # a long list is drawn only in part: filter it first
                page.get_by_role("option").filter(has_text=f"{args.carrier}:").first.click()
                settle(page, 4)
                page.screenshot(path=str(out / "carrier.png"))

            if "compare" in args.screens:
                page.goto(f"{url}/compare")
                solve = page.get_by_role("button", name="rule(s) and compare")
                solve.or_(page.get_by_text("Headline figures")).first.wait_for(timeout=LONG_MS)
                if solve.count():
                    solve.click()
                page.get_by_text("Headline figures").first.wait_for(timeout=LONG_MS)
                settle(page, 1)
                page.screenshot(path=str(out / "compare.png"))

            if "data" in args.screens:
                page.goto(f"{url}/data")
                page.get_by_text("Upload a dataset").first.wait_for(timeout=LONG_MS)
                settle(page)
                page.screenshot(path=str(out / "data.png"))
                with tempfile.TemporaryDirectory() as bad:
                    broken_upload(Path(bad))
                    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                        [str(p) for p in sorted(Path(bad).glob("*.csv"))]
                    )
                    page.get_by_text("cannot be used").first.wait_for(timeout=LONG_MS)
                    settle(page)
                    page.get_by_text("cannot be used").first.evaluate("e => e.scrollIntoView({block: 'start'})")
                    page.screenshot(path=str(out / "data-upload-errors.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
