"""Chromium and its WebDriver for the console's browser tests -- from Debian's packages.

``ensure_chromium()`` finds ``chromium`` and ``chromedriver`` (Debian's ``chromium`` and
``chromium-driver`` packages, built together so their versions match) and installs both
with ``apt-get`` when either is missing and we are root, as the Postgres and Redis
helpers do. Without root or apt-get it raises ``InfraError`` with what to install.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from frugalflow.infra.process import InfraError, apt_install

PACKAGES = ("chromium", "chromium-driver")
_BROWSERS = ("chromium", "chromium-browser")


@dataclass(frozen=True)
class Chromium:
    browser: str  # the browser's executable
    driver: str  # chromedriver, the WebDriver server for it


def find_chromium() -> Chromium | None:
    browser = next((found for name in _BROWSERS if (found := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    return Chromium(browser, driver) if browser and driver else None


def ensure_chromium() -> Chromium:
    """Chromium and chromedriver, installed from Debian's packages when missing."""
    found = find_chromium()
    if found is not None:
        return found
    apt_install(list(PACKAGES))
    found = find_chromium()
    if found is None:
        raise InfraError(f"apt-get installed {' '.join(PACKAGES)} but chromium or "
                         "chromedriver is still not on PATH")  # fmt: skip
    return found
