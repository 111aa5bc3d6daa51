"""Flower as a user sees it: Debian's Chromium, driven by Playwright."""

import pytest
from celery.exceptions import TaskRevokedError
from playwright.sync_api import expect, sync_playwright

import flower_process as flower
from conftest import RUN, WORKER
from helpers import wait_for

# Headless, as root, on a machine whose only network is this one.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(tmp_path, worker):
    """A logged-in browser tab, with Flower running."""
    process = flower.start(tmp_path / "flower")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            context = browser.new_context(
                http_credentials={"username": flower.USER, "password": flower.PASSWORD},
                viewport={"width": 1440, "height": 560},
            )
            yield context.new_page()
            browser.close()
    finally:
        process.stop()


@pytest.fixture
def screenshot(request):
    """Where the picture of the Tasks page goes: `make screenshot` names the README's."""
    return request.config.getoption("--screenshot") or RUN / "flower-tasks.png"


def test_a_user_watches_tasks_and_terminates_one_in_flower(page, slow_worker, screenshot):
    from hard_tasks import flaky
    from tasks import add

    retried = flaky.delay(2)  # docs/hard-tasks.md: it fails twice, then answers
    done = add.delay(2, 3)
    failed = add.delay("a", 1)
    running = add.apply_async((2, 3), queue="slow")
    assert done.get(timeout=10) == 5
    assert isinstance(failed.get(propagate=False, timeout=10), TypeError)
    flower.wait_for_state(running.id, "STARTED")

    page.goto(f"{flower.URL}/workers")
    expect(page.get_by_role("row").filter(has_text=WORKER)).to_be_visible()

    page.goto(f"{flower.URL}/tasks")
    rows = {r: page.get_by_role("row").filter(has_text=r.id) for r in (done, failed, running)}
    expect(rows[done]).to_contain_text("SUCCESS")
    expect(rows[done]).to_contain_text("(2, 3)")
    # The columns of flowerconfig.py's tasks_columns: name, uuid, state, args, result, ...
    expect(rows[done].get_by_role("cell").nth(4)).to_have_text("5")
    expect(rows[failed]).to_contain_text("FAILURE")
    expect(rows[running]).to_contain_text("STARTED")

    assert retried.get(timeout=10) == "answered after 2 retries"
    page.goto(f"{flower.URL}/task/{retried.id}")
    details = page.locator("#task-page")
    expect(details).to_contain_text("SUCCESS")
    for term, shown in (("Retries", "2"), ("Retried", " UTC")):  # the time of the last
        row = details.locator(".detail-row").filter(has=page.get_by_text(term, exact=True))
        expect(row.locator("dd")).to_contain_text(shown)

    page.goto(f"{flower.URL}/task/{running.id}")
    page.get_by_role("button", name="Terminate").click()
    expect(page.get_by_text(f"Revoked '{running.id}'")).to_be_visible()
    with pytest.raises(TaskRevokedError, match="terminated"):
        running.get(timeout=10)
    # The page reloads itself 5 s after the click; a user in a hurry reloads it.
    wait_for(lambda: page.reload() and "REVOKED" in page.locator("#task-page").inner_text())

    page.goto(f"{flower.URL}/tasks")
    expect(rows[running]).to_contain_text("REVOKED")
    page.screenshot(path=screenshot)
