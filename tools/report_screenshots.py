"""Screenshots of the sample report's first screen at a laptop and a phone width, for docs/report.md.

Run from the repository root after ``make venv``:  .venv/bin/python tools/report_screenshots.py
It runs ``csat demo`` into a temporary folder and writes docs/screenshots/report-1400.png and
docs/screenshots/report-390.png (headless Chromium, device scale 1).
"""
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image  # pillow comes with matplotlib

from csatlib.report.browser import Chromium

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"

with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([sys.executable, "-m", "csatlib.cli", "demo", "--out", tmp], check=True, cwd=ROOT)
    page = Path(tmp) / "2026Q3" / "report.html"
    OUT.mkdir(parents=True, exist_ok=True)
    with Chromium() as browser:
        for width, height in ((1400, 900), (390, 844)):
            browser.open(page.as_uri(), width=width, height=height)
            shot = browser.screenshot(OUT / f"report-{width}.png")
            Image.open(shot).convert("RGB").quantize(colors=96).save(shot, optimize=True)  # small PNGs
            print(shot, shot.stat().st_size)
