#!/usr/bin/env python3
"""The seed scenario, played by an operator in a real browser (headless Chromium).

Usage: seed_scenario.py CONSOLE_URL REFUSAL_SWITCH EVENTS [SCREENSHOT_DIR]

Before this runs, EVENTS `deal.won` events have arrived and every one failed at its
`send_welcome_email` step, because the mail server refuses every recipient while the file
REFUSAL_SWITCH exists. The operator:
  1. signs in with the URL that `tracebox console` printed;
  2. finds the failed events by filter;
  3. opens one event (checked payload hash), then its trace, and reads the mail server's
     answer on the failed step;
  4. looks at the replay plan of that event (CRM step skipped, email run);
  5. fixes the mail server (removes REFUSAL_SWITCH);
  6. plans a bulk replay of the failed events, checks the per-step summary, creates the job;
  7. watches the job page update itself until the job has completed;
  8. finds every event succeeded; looks at the DLQ and health pages.
With SCREENSHOT_DIR, a PNG of each page is saved there (docs/console/ in the repository).
Exits 0 when every check held; otherwise prints what failed and exits 1.
"""
import datetime
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

console_url, refusal_switch, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
shots = sys.argv[4] if len(sys.argv) > 4 else None
base = console_url.split("/?", 1)[0]


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1360,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def wait_for(driver, condition, what, timeout=60):
    """Waits for a condition on the page, with a deadline (no fixed sleeps)."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))
    except Exception:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; page {driver.current_url}:\n"
                             + driver.find_element(By.TAG_NAME, "body").text[:3000])


def shot(driver, name):
    if shots:
        os.makedirs(shots, exist_ok=True)
        height = driver.execute_script("return Math.min(document.body.scrollHeight, 2400)")
        driver.set_window_size(1360, max(height + 40, 700))
        driver.save_screenshot(os.path.join(shots, f"{name}.png"))
        driver.set_window_size(1360, 900)


def rows(driver, table_id):
    return driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")


def main():
    driver = browser()
    try:
        # 1. Sign in: the token URL sets the cookie and lands on the events page.
        driver.get(console_url)
        wait_for(driver, lambda d: d.current_url.startswith(base + "/events"), "the events page after sign-in")
        check("token=" not in driver.current_url, "the token stays out of the address bar after sign-in")
        check(driver.find_element(By.ID, "daemon-status").is_displayed(), "the daemon status header is shown")
        shot(driver, "1-events")

        # 2. Filter: failed deal.won events.
        driver.find_element(By.NAME, "type").send_keys("deal.*")
        Select(driver.find_element(By.NAME, "status")).select_by_value("failed")
        driver.find_element(By.ID, "search").click()
        wait_for(driver, lambda d: "status=failed" in d.current_url, "the filtered search")
        check("type=deal.*" in driver.current_url or "type=deal.%2A" in driver.current_url, "the filter is in the URL")
        found = rows(driver, "events")
        check(len(found) == expected, f"{expected} failed events listed, saw {len(found)}")
        shot(driver, "2-events-failed")

        # 3. One event, its payload checked, then its trace with the mail server's answer.
        found[0].find_element(By.CSS_SELECTOR, "a.id").click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "hash-check"), "the event page")
        check("matches the recorded hash" in driver.find_element(By.ID, "hash-check").text, "payload hash checked")
        check("deal.won" in driver.find_element(By.ID, "payload").text, "payload shown")
        shot(driver, "3-event")
        driver.find_element(By.CSS_SELECTOR, "a.trace-link").click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "waterfall"), "the trace page")
        failed = driver.find_element(By.CSS_SELECTOR, "details.step.status-failed")
        check(failed.get_attribute("open") is not None, "the failed step is open by default")
        check(failed.get_attribute("data-step") == "send_welcome_email", "the failed step is the email")
        answer = failed.find_element(By.CSS_SELECTOR, ".destination-error").text
        check("550" in answer or "Relaying denied" in answer, f"the mail server's refusal is shown: {answer!r}")
        check(len(driver.find_elements(By.CSS_SELECTOR, "#waterfall rect.attempt")) >= 2, "attempt bars on the waterfall")
        shot(driver, "4-trace")

        # 4. The replay plan of this one event.
        driver.find_element(By.LINK_TEXT, "plan a replay…").click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "force-replay"), "the replay plan")
        plan = driver.find_element(By.CSS_SELECTOR, "table.plan").text
        check("create_crm_record skip" in plan and "send_welcome_email run" in plan, f"the plan skips the CRM and runs the email: {plan!r}")
        shot(driver, "5-replay-plan")

        # 5. The mail server is fixed.
        os.remove(refusal_switch)

        # 6. Bulk replay of the failed events: count, per-step plan, create the job.
        now = datetime.datetime.now(datetime.timezone.utc)
        driver.get(base + "/replay")
        driver.find_element(By.NAME, "type").send_keys("deal.won")
        Select(driver.find_element(By.NAME, "status")).select_by_value("failed")
        driver.find_element(By.NAME, "from").send_keys((now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        driver.find_element(By.NAME, "to").send_keys((now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        rate = driver.find_element(By.NAME, "rate")
        rate.clear()
        rate.send_keys("50")
        driver.find_element(By.ID, "count").click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "selected-count"), "the bulk replay count")
        check(driver.find_element(By.ID, "selected-count").text == str(expected), "every failed event selected")
        summary = driver.find_element(By.ID, "plan-summary").text
        check(f"deal-won.create_crm_record {expected} 0" in summary, f"CRM step skipped for all: {summary!r}")
        check(f"deal-won.send_welcome_email 0 {expected}" in summary, f"email step run for all: {summary!r}")
        shot(driver, "6-bulk-plan")
        driver.find_element(By.ID, "create-job").click()

        # 7. The job page follows the job by itself (script polling) until it completes.
        wait_for(driver, lambda d: "/jobs/" in d.current_url and d.find_elements(By.ID, "job-status"), "the job page")
        wait_for(driver, lambda d: d.find_element(By.ID, "job-status").text == "completed", "the job to complete", timeout=120)
        check(driver.find_element(By.ID, "job-succeeded").text == str(expected), "every replay succeeded")
        check(driver.find_element(By.ID, "job-percent").text == "100%", "the progress bar is full")
        shot(driver, "7-job")

        # 8. Every event succeeded; DLQ and health pages render.
        driver.get(base + "/events?type=deal.won&status=succeeded")
        wait_for(driver, lambda d: len(rows(d, "events")) == expected, "every event listed as succeeded")
        shot(driver, "8-events-succeeded")
        driver.get(base + "/jobs")
        shot(driver, "9-jobs")
        driver.get(base + "/dlq")
        check("send_welcome_email" in driver.find_element(By.TAG_NAME, "main").text, "the DLQ groups the email failures")
        shot(driver, "10-dlq")
        driver.get(base + "/health")
        check(driver.find_elements(By.CSS_SELECTOR, "svg.chart"), "health charts drawn")
        shot(driver, "11-health")
        print("browser scenario: every check held")
        return 0
    except AssertionError as failure:
        print(f"browser scenario failed: {failure}")
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
