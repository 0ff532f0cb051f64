"""The console in a real browser (Debian's Chromium through WebDriver) against one real
pipeline run: figures equal the API's and Postgres's, user input is shown as text, a wrong
token sees only the sign-in prompt, a budget changed in the page reaches the API, and
every page leaves a screenshot under ``var/test/console``."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.console.conftest import ADMIN, HTML_TENANT, READONLY, SHOTS, ConsoleRun

WAIT_S = 20


def money(value: Decimal | str) -> str:
    """The console's money format (``format.js``)."""
    n = float(value)
    return f"${n:,.2f}" if abs(n) >= 1 else f"${n:.6f}"


def api(run: ConsoleRun, path: str, token: str = ADMIN, **params: Any) -> Any:
    query = f"?{urlencode(params)}" if params else ""
    req = urllib.request.Request(run.api + path + query,
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())


async def db(run: ConsoleRun, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(run.dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def wait(driver: webdriver.Chrome, condition: Callable[[webdriver.Chrome], Any]) -> Any:
    return WebDriverWait(driver, WAIT_S).until(condition)


def sign_in(driver: webdriver.Chrome, run: ConsoleRun, token: str) -> None:
    driver.get(run.api + "/")
    driver.execute_script("sessionStorage.clear()")
    driver.get(run.api + "/")
    field = wait(driver, lambda d: d.find_element(By.ID, "token"))
    wait(driver, lambda d: field.is_displayed())
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


def open_page(driver: webdriver.Chrome, run: ConsoleRun, hash_: str) -> WebElement:
    driver.get(f"{run.api}/{hash_}")
    view = driver.find_element(By.ID, "view")
    wait(driver, lambda d: view.get_attribute("data-state") in ("ready", "error"))
    assert view.get_attribute("data-state") == "ready", view.text
    return view


def figure(driver: webdriver.Chrome, name: str) -> tuple[str, str]:
    el = driver.find_element(By.CSS_SELECTOR, f"[data-figure='{name}']")
    return el.get_attribute("data-value") or "", el.text


def table_rows(driver: webdriver.Chrome, name: str) -> list[list[str]]:
    rows = driver.find_elements(By.CSS_SELECTOR, f"table[data-table='{name}'] tbody tr")
    return [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def shot(driver: webdriver.Chrome, name: str) -> Path:
    """A full-page screenshot (the window grows to the page's height for it)."""
    width = driver.execute_script("return window.innerWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(driver.get_window_size()["width"], min(max(height + 120, 800), 6000))
    time.sleep(0.3)  # charts resize
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(driver.get_window_size()["width"], 1000)
    assert width > 0 and path.stat().st_size > 10_000
    return path


def severe_logs(driver: webdriver.Chrome) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.fixture(scope="module")
def admin(browser: webdriver.Chrome, console_run: ConsoleRun) -> webdriver.Chrome:
    sign_in(browser, console_run, ADMIN)
    wait(browser, lambda d: d.find_element(By.ID, "view").get_attribute("data-state") == "ready")
    browser.get_log("browser")  # from here on, the page must log no error
    return browser


def test_a_wrong_token_sees_the_sign_in_prompt_and_no_data(
    browser: webdriver.Chrome, console_run: ConsoleRun
) -> None:
    sign_in(browser, console_run, "not-the-token")
    error = wait(browser, lambda d: d.find_element(By.ID, "login-error"))
    wait(browser, lambda d: error.is_displayed() and error.text)
    assert error.text == "invalid token"  # the API's own message
    assert browser.find_element(By.ID, "login").is_displayed()
    assert not browser.find_element(By.ID, "nav").is_displayed()
    assert browser.find_element(By.ID, "view").text == ""
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-figure], table")
    assert browser.execute_script("return sessionStorage.length") == 0
    shot(browser, "sign-in-refused")


async def test_overview_shows_the_api_and_postgres_figures(
    admin: webdriver.Chrome, console_run: ConsoleRun
) -> None:
    driver, run = admin, console_run
    open_page(driver, run, "#/overview")
    summary = api(run, "/v1/costs/summary")["totals"]
    savings = api(run, "/v1/costs/savings")
    (row,) = (await db(run, "SELECT count(*) AS n, sum(cost_usd) AS cost,"
                              " sum(baseline_cost_usd) AS baseline FROM cost_events"))  # fmt: skip
    assert row["n"] == summary["requests"] > 0
    assert Decimal(summary["cost_usd"]) == row["cost"]
    assert Decimal(summary["baseline_cost_usd"]) == row["baseline"]
    assert figure(driver, "spend") == (summary["cost_usd"], money(row["cost"]))
    assert figure(driver, "baseline") == (summary["baseline_cost_usd"], money(row["baseline"]))
    assert figure(driver, "savings") == (savings["savings_usd"], money(savings["savings_usd"]))
    assert figure(driver, "requests")[0] == str(row["n"])

    # Per tenant, as Postgres has it; the HTML-looking tenant id is text, not markup.
    by_tenant = (await db(run, "SELECT tenant_id, count(*) AS n, sum(cost_usd) AS cost"
                                    " FROM cost_events GROUP BY 1 ORDER BY 3 DESC, 1"))  # fmt: skip
    shown = {r[0]: (r[1], r[2]) for r in table_rows(driver, "top-tenants")}
    assert shown == {r["tenant_id"]: (str(r["n"]), money(r["cost"])) for r in by_tenant}
    assert HTML_TENANT in shown
    assert not driver.find_elements(By.CSS_SELECTOR, "#view img")

    # Requests by path, as the rollups have them.
    paths = {r[0]: r[1] for r in table_rows(driver, "requests-by-path")}
    by_path = await db(run, "SELECT path, count(*) AS n FROM cost_events GROUP BY 1")
    assert paths == {r["path"]: str(r["n"]) for r in by_path}
    assert "response_cache" in paths and "batch" in paths

    # Hovering the spend chart on today shows today's spend.
    chart = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-chart='spend'] .u-over"))
    ActionChains(driver).move_to_element_with_offset(
        chart, chart.size["width"] // 2 - 2, 0
    ).perform()
    legend = driver.find_elements(By.CSS_SELECTOR, "[data-chart='spend'] .u-legend .u-value")
    assert legend[1].text == money(summary["cost_usd"])  # every answer was billed today
    assert not severe_logs(driver)
    shot(driver, "overview")
