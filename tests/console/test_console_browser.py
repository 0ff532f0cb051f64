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
    if abs(n) >= 1:
        return f"${n:,.2f}"
    return f"${abs(n) if float(f'{n:.6f}') == 0 else n:.6f}"  # no "-0.000000"


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


@pytest.fixture
def admin(browser: webdriver.Chrome, console_run: ConsoleRun) -> webdriver.Chrome:
    """The browser signed in with the admin token (again, if a test signed it out)."""
    browser.get(console_run.api + "/")
    login, role = browser.find_element(By.ID, "login"), browser.find_element(By.ID, "role")
    wait(browser, lambda d: login.is_displayed() or role.is_displayed())
    if not (role.is_displayed() and role.text == "admin"):
        sign_in(browser, console_run, ADMIN)
        wait(browser, lambda d: d.find_element(By.ID, "role").text == "admin")
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
    by_tenant = await db(run, "SELECT tenant_id, count(*) AS n, sum(cost_usd) AS cost,"
                              " sum(savings_batch + savings_prompt_cache + savings_response_cache"
                              " + savings_pattern + savings_routing + savings_flex) AS saved"
                              " FROM cost_events GROUP BY 1")  # fmt: skip
    shown = {r[0]: (r[1], r[2], r[4]) for r in table_rows(driver, "top-tenants")}
    assert shown == {
        r["tenant_id"]: (str(r["n"]), money(r["cost"]), money(r["saved"])) for r in by_tenant
    }
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


async def test_tenant_page_shows_budgets_alerts_rejections_and_policy(
    admin: webdriver.Chrome, console_run: ConsoleRun
) -> None:
    driver, run = admin, console_run
    open_page(driver, run, "#/tenant/globex")
    status = api(run, "/v1/tenants/globex/status")
    (budget,) = status["budgets"]
    month = budget["monthly"]
    monthly = driver.find_element(By.CSS_SELECTOR, "[data-budget='//this month']")
    spent = monthly.find_element(By.CSS_SELECTOR, "[data-figure='budget-spent']")
    limit = monthly.find_element(By.CSS_SELECTOR, "[data-figure='budget-limit']")
    assert (spent.get_attribute("data-value"), spent.text) == (
        month["spent_usd"], money(month["spent_usd"]))  # fmt: skip
    assert (limit.get_attribute("data-value"), limit.text) == ("0.0500000000", "$0.050000")
    assert f"forecast for the month {money(month['forecast_usd'])}" in monthly.text
    (mtd,) = await db(run, "SELECT sum(cost_usd) AS s FROM cost_events WHERE tenant_id = 'globex'")
    assert Decimal(month["spent_usd"]) == mtd["s"]

    alerts = await db(run, "SELECT kind FROM alerts WHERE tenant_id = 'globex'"
                           " ORDER BY occurred_at DESC, alert_id")  # fmt: skip
    assert alerts, "the tiny daily budget raised no alert"
    assert [r[1] for r in table_rows(driver, "alerts")] == [r["kind"] for r in alerts]
    # The notifier's state per channel: this run names no channel for globex.
    assert {r[-1] for r in table_rows(driver, "alerts")} == {"no channel"}
    stops = await db(run, "SELECT count(*) AS n FROM rejections WHERE tenant_id = 'globex'"
                          " AND code = 'budget_hard_stop'")  # fmt: skip
    assert stops[0]["n"] > 0, "globex was never stopped at its hard limit"
    assert table_rows(driver, "rate-limit-and-hard-stop") == [
        ["budget_hard_stop", str(stops[0]["n"])]
    ]
    assert "No policy document stored" in driver.find_element(By.ID, "view").text
    shot(driver, "tenant-budgets")

    open_page(driver, run, "#/tenant/initech")
    limited = await db(run, "SELECT code, count(*) AS n FROM rejections"
                            " WHERE tenant_id = 'initech' GROUP BY 1 ORDER BY 1")  # fmt: skip
    expected = {r["code"]: str(r["n"]) for r in limited if r["code"].startswith("rate_limited")}
    assert expected, "the burst hit no rate limit"
    assert {r[0]: r[1] for r in table_rows(driver, "rate-limit-and-hard-stop")} == expected
    document = driver.find_element(By.CSS_SELECTOR, "[data-policy='document']").text
    assert json.loads(document) == {"rate_limits": {"requests_per_minute": 3}}
    shot(driver, "tenant-policy")


async def test_a_budget_changed_in_the_console_reaches_the_api(
    admin: webdriver.Chrome, console_run: ConsoleRun
) -> None:
    driver, run = admin, console_run
    open_page(driver, run, "#/tenant/acme")
    assert "No budget" in driver.find_element(By.ID, "budgets").text
    form = driver.find_element(By.ID, "budget-form")
    for name, value in (("daily_limit_usd", "2.5"), ("monthly_limit_usd", "60"),
                        ("alert_thresholds", "0.5, 0.9")):  # fmt: skip
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#budgets .notice"))
    stored = api(run, "/v1/budgets/acme", READONLY)
    assert (Decimal(stored["daily_limit_usd"]), Decimal(stored["monthly_limit_usd"])) == (
        Decimal("2.5"), Decimal("60"))  # fmt: skip
    assert [Decimal(t) for t in stored["alert_thresholds"]] == [Decimal("0.5"), Decimal("0.9")]
    shown = driver.find_element(
        By.CSS_SELECTOR, "[data-budget='//today'] [data-figure='budget-limit']"
    )
    assert shown.text == "$2.50"

    # A bad value gets the API's message, on the page.
    form = driver.find_element(By.ID, "budget-form")
    field = form.find_element(By.NAME, "daily_limit_usd")
    field.clear()
    field.send_keys("-1")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    error = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#budgets .error"))
    assert error.text.startswith("the body is invalid: daily_limit_usd")
    assert api(run, "/v1/budgets/acme")["daily_limit_usd"] == stored["daily_limit_usd"]


def test_a_policy_changed_in_the_console_reaches_the_api(
    admin: webdriver.Chrome, console_run: ConsoleRun
) -> None:
    driver, run = admin, console_run
    open_page(driver, run, "#/tenant/initech")

    def save(document: str) -> None:
        editor = driver.find_element(By.ID, "policy-editor")
        editor.clear()
        editor.send_keys(document)
        driver.find_element(By.CSS_SELECTOR, "[data-save='policy']").click()

    save('{"rate_limits": {"requests_per_minute": 5}}')
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-policy-message] .notice"))
    wanted = {"rate_limits": {"requests_per_minute": 5}}
    assert api(run, "/v1/tenants/initech/policy", READONLY)["document"] == wanted
    shown = driver.find_element(By.CSS_SELECTOR, "[data-policy='document']").text
    assert json.loads(shown) == wanted

    save('{"rate_limits": {"requests_per_hour": 5}}')  # no such field: the API's 422
    error = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-policy-message] .error"))
    assert "requests_per_hour" in error.text
    save("{not json")
    error = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-policy-message] .error"))
    assert error.text.startswith("not valid JSON")
    assert api(run, "/v1/tenants/initech/policy")["document"] == wanted


def test_the_read_only_token_views_but_cannot_change(
    browser: webdriver.Chrome, console_run: ConsoleRun
) -> None:
    sign_in(browser, console_run, READONLY)
    wait(browser, lambda d: d.find_element(By.ID, "role").text == "read-only")
    view = open_page(browser, console_run, "#/tenant/globex")
    assert not browser.find_elements(By.ID, "budget-form")
    assert not browser.find_elements(By.ID, "policy-editor")
    assert "read-only token" in view.text
    assert browser.find_elements(By.CSS_SELECTOR, "[data-figure='budget-spent']")


async def test_batches_page_lists_the_batches_postgres_has(
    admin: webdriver.Chrome, console_run: ConsoleRun
) -> None:
    driver, run = admin, console_run
    open_page(driver, run, "#/batches")
    done = await db(run, "SELECT provider, provider_batch_id, requests FROM batches"
                         " WHERE state = 'done' ORDER BY updated_at DESC, record_key")  # fmt: skip
    assert done, "the run's batch requests left no batch"
    rows = table_rows(driver, "recent-batches")
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (r["provider"], r["provider_batch_id"], str(r["requests"])) for r in done]  # fmt: skip
    assert all(r["requests"] > 0 for r in done)  # a finished slice keeps its size
    api_rows = api(run, "/v1/batches", state="done")["batches"]
    assert [b["provider_batch_id"] for b in api_rows] == [r[1] for r in rows]
    pending = await db(run, "SELECT provider, state, requests, tenants FROM batches"
                            " WHERE state <> 'done'")  # fmt: skip
    # llm.batches carries a slice as "submitting" until its "done" record (the provider's
    # batch id travels on the latter): pending, of one request of acme's.
    assert [(r["state"], r["requests"], r["tenants"]) for r in pending] == [
        ("submitting", 1, ["acme"])]  # fmt: skip
    (row,) = table_rows(driver, "pending-batches")
    assert (row[0], row[2], row[3], row[4]) == (pending[0]["provider"], "pending", "1", "acme")
    assert row[5].endswith("s") or "m" in row[5]  # its age, e.g. "7s"
    shot(driver, "batches")


def test_recommendations_and_experiments_page(
    admin: webdriver.Chrome, console_run: ConsoleRun
) -> None:
    driver, run = admin, console_run
    open_page(driver, run, "#/insights")
    recs = api(run, "/v1/recommendations")["recommendations"]
    rows = table_rows(driver, "recommendations")
    assert [(r[1], r[4]) for r in rows] == [
        (x["tenant_id"], money(x["estimated_monthly_saving_usd"])) for x in recs]  # fmt: skip
    (experiment,) = api(run, "/v1/experiments")["experiments"]
    assert [r[0] for r in table_rows(driver, "experiments")] == ["haiku-vs-sonnet"]
    analysis = api(run, f"/v1/experiments/{experiment['id']}/analysis")
    counts = table_rows(driver, f"experiment-{experiment['id']}-counts")
    expected = [(c["variant"], str(c["impressions"]), str(c["conversions"]))
                for c in analysis["counts"]]  # fmt: skip
    assert [(r[0], r[1], r[3]) for r in counts] == expected
    assert [(r[1], r[3]) for r in counts] == [("40", "10"), ("40", "16")]  # what was sent
    (conversion,) = [m for m in analysis["metrics"] if m["metric"] == "conversion"]
    shown = table_rows(driver, f"experiment-{experiment['id']}-conversion")
    none = "\N{EN DASH}"  # what the page shows for "no value" (the control's p-value)
    assert [(r[0], r[2], r[4]) for r in shown] == [
        (v["variant"], f"{v['rate']:.4f}", none if v["p_value"] is None else f"{v['p_value']:.4f}")
        for v in conversion["variants"]]  # fmt: skip
    shot(driver, "insights")


def test_tables_export_csv_and_the_cost_export_is_the_apis(
    admin: webdriver.Chrome, console_run: ConsoleRun, downloads: Path
) -> None:
    driver, run = admin, console_run
    for old in downloads.iterdir():
        old.unlink()
    open_page(driver, run, "#/overview")
    driver.find_element(By.CSS_SELECTOR, "button[data-csv='top-tenants']").click()
    driver.find_element(By.CSS_SELECTOR, "button[data-export='costs']").click()
    today = api(run, "/v1/costs/summary")
    name = f"costs-{today['start']}-{today['end']}.csv"
    wait(driver, lambda d: (downloads / name).exists() and (downloads / "top-tenants.csv").exists())
    req = urllib.request.Request(
        f"{run.api}/v1/costs/export.csv?start={today['start']}&end={today['end']}",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        assert (downloads / name).read_bytes() == response.read()
    tenants = (downloads / "top-tenants.csv").read_text().splitlines()
    assert tenants[0] == "tenant,requests,spend,baseline,saved"
    assert any(line.startswith(f'"{HTML_TENANT}",') or line.startswith(f"{HTML_TENANT},")
               for line in tenants)  # fmt: skip


def set_range(driver: webdriver.Chrome, start: str, end: str) -> None:
    """Type a range as a user would pick it (date inputs' keyboard entry is locale-bound)."""
    driver.execute_script(
        "const [s, e] = [document.getElementById('start'), document.getElementById('end')];"
        "s.value = arguments[0]; e.value = arguments[1];"
        "e.dispatchEvent(new Event('change', {bubbles: true}));",
        start, end,
    )  # fmt: skip


def test_an_empty_range_explains_and_a_bad_one_shows_the_apis_message(
    admin: webdriver.Chrome, console_run: ConsoleRun
) -> None:
    driver, run = admin, console_run
    open_page(driver, run, "#/overview")
    view = driver.find_element(By.ID, "view")
    set_range(driver, "2020-01-01", "2020-01-31")
    wait(
        driver, lambda d: view.get_attribute("data-state") == "ready" and "2020-01-01" in view.text
    )
    assert "No billed answer between 2020-01-01 and 2020-01-31" in view.text
    assert "make demo" in view.text
    assert figure(driver, "spend") == ("0", "$0.000000")
    assert not driver.find_elements(By.CSS_SELECTOR, "table[data-table='top-tenants']")

    set_range(driver, "2026-02-01", "2026-01-01")
    wait(driver, lambda d: view.get_attribute("data-state") == "error")
    message = driver.find_element(By.CSS_SELECTOR, "#view .error").text
    assert message.startswith("invalid query parameters")
    assert "start 2026-02-01 is after end 2026-01-01" in message
    driver.get(run.api + "/")  # the default range again (the page starts on 30 days)


def test_pages_fit_a_phone(admin: webdriver.Chrome, console_run: ConsoleRun) -> None:
    driver = admin
    driver.set_window_size(390, 1000)
    try:
        for page in ("#/overview", f"#/tenant/{quote('globex')}", "#/batches"):
            open_page(driver, console_run, page)
            time.sleep(0.3)
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            wide = driver.execute_script(
                "const w = document.documentElement.clientWidth;"
                "return [...document.querySelectorAll('body *')]"
                ".filter((e) => e.getBoundingClientRect().right > w + 1)"
                ".slice(0, 5).map((e) => e.tagName + '.' + e.className);"
            )
            assert overflow <= 0, f"{page} scrolls sideways by {overflow}px: {wide}"
        open_page(driver, console_run, "#/overview")
        shot(driver, "overview-phone")
    finally:
        driver.set_window_size(1280, 1000)
    assert not severe_logs(driver)


def test_console_files_carry_a_strict_csp_and_data_needs_a_token(console_run: ConsoleRun) -> None:
    with urllib.request.urlopen(console_run.api + "/", timeout=10) as response:
        csp = response.headers["Content-Security-Policy"]
        page = response.read().decode()
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "<script>" not in page and " style=" not in page
    with urllib.request.urlopen(console_run.api + "/console/js/app.js", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
    for path in ("/v1/costs/summary", "/v1/alerts"):
        try:
            urllib.request.urlopen(console_run.api + path, timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
            assert json.loads(exc.read())["error"]["code"] == "unauthorized"
        else:
            raise AssertionError(f"{path} answered without a token")
    try:
        urllib.request.urlopen(console_run.api + "/console/../app/settings.py", timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
