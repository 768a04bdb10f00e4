"""Headless Chromium through Selenium, for tests/test_report_browser.py: open a page, collect its
console messages and every network request it makes, and take full-page screenshots at a given
width and colour scheme (Chrome DevTools Protocol emulation)."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver",)


def find(names) -> str | None:
    return next((p for p in map(shutil.which, names) if p), None)


def why_unavailable() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not find(CHROMIUM) or not find(DRIVER):
        return "no chromium/chromedriver on PATH (apt-get install chromium chromium-driver; .ci/run does it)"
    return None


class Browser:
    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = find(CHROMIUM)
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--metrics-recording-only"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(find(DRIVER)), options=options)
        self.driver.execute_cdp_cmd("Network.enable", {})

    def open(self, path: Path) -> dict:
        """Load a file; return {"console": [...], "requests": [urls other than the page itself]}."""
        self.driver.get_log("performance")  # drop earlier entries
        self.driver.get_log("browser")
        url = path.resolve().as_uri()
        self.driver.get(url)
        requests = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requested = message["params"]["request"]["url"]
                if requested != url:
                    requests.append(requested)
        return {"console": self.driver.get_log("browser"), "requests": requests}

    def screenshot(self, target: Path, width: int, dark: bool) -> Path:
        cdp = self.driver.execute_cdp_cmd
        cdp("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme",
                                                         "value": "dark" if dark else "light"}]})
        cdp("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1,
                                                    "mobile": width < 600})
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        shot = cdp("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                              "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 16000),
                                                       "scale": 1}})
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(shot["data"]))
        return target

    def close(self) -> None:
        self.driver.quit()
