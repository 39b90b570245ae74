"""Editors refine a prompt: form edits with live validation, save, diff, revert, conflicts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import RunningApp, shot
from tests.browser.test_shell import PASSWORD, new_email, sign_in, sign_up

pytestmark = pytest.mark.browser


def _own_copy(page: Page) -> str:
    """Open the first demo prompt, duplicate it, and return the copy's URL."""
    page.goto("/gallery")
    page.locator(".prompt-card").first.locator("h3").click()
    expect(page.get_by_role("button", name="Duplicate")).to_be_visible()
    page.get_by_role("button", name="Duplicate").click()
    expect(page.get_by_role("heading", name=re.compile("^Copy of"))).to_be_visible()
    return page.url


def test_edit_validate_save_diff_and_revert(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    _own_copy(page)
    page.get_by_role("tab", name="Edit").click()

    temperature = page.get_by_label("Color temperature (K)")
    temperature.fill("99999")
    expect(page.get_by_role("alert").filter(has_text="12000")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("need attention")
    temperature.fill("4100")
    expect(page.get_by_role("status")).to_have_count(0)
    page.get_by_label("Mood").fill("quiet, nocturnal")
    page.get_by_label("Version message").fill("Cooler, calmer")
    page.get_by_role("button", name="Save version").click()
    expect(page.get_by_text("Saved version 2.")).to_be_visible()
    shot(page, "editor-form")

    page.get_by_role("tab", name="History").click()
    expect(page.get_by_role("cell", name="Cooler, calmer")).to_be_visible()
    page.get_by_label("Compare from").click()
    page.get_by_role("option", name="v1").click()
    page.get_by_label("Compare to").click()
    page.get_by_role("option", name="v2").click()
    page.get_by_role("button", name="Compare").click()
    diff = page.get_by_label("Diff")
    expect(diff).to_contain_text("lighting.color_temperature_k")
    expect(diff).to_contain_text("mood")
    shot(page, "editor-diff")

    page.get_by_role("button", name="Revert").click()
    expect(page.get_by_text("Reverted to version 1 (saved as a new version).")).to_be_visible()
    expect(page.get_by_role("cell", name="v3")).to_be_visible()


def test_raw_json_mode_stays_in_sync_and_reports_bad_json(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    _own_copy(page)
    page.get_by_role("tab", name="Edit").click()
    page.get_by_role("tab", name="JSON").click()
    raw = page.get_by_label("Raw JSON")
    raw.fill('{"scene": "unfinished"')
    expect(page.get_by_role("alert").filter(has_text="Not valid JSON yet")).to_be_visible()
    raw.fill(
        '{"schema_version": "1.0", "scene": "A lighthouse", "subjects": [], "style": {}, '
        '"color_palette": [{"hex": "navy"}], "lighting": {}, "composition": {}}'
    )
    expect(page.get_by_role("alert").filter(has_text="Not valid JSON yet")).to_have_count(0)
    page.get_by_role("tab", name="Form").click()
    expect(page.get_by_label("Scene")).to_have_value("A lighthouse")
    issue = page.locator(".lint-issue").filter(has_text="color_palette")
    expect(issue.first).to_be_visible()
    issue.first.get_by_role("button", name="Fix").click()
    expect(page.get_by_text("Fixed.")).to_be_visible()
    shot(page, "editor-lint")


def test_a_second_save_on_the_same_version_is_a_conflict(
    browser: Browser, page: Page, app_server: RunningApp
) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    url = _own_copy(page)
    page.get_by_role("tab", name="Edit").click()

    other = browser.new_context(base_url=app_server.url).new_page()
    other.goto("/login")
    sign_in(other, email, PASSWORD)
    expect(other.get_by_role("button", name="Account menu")).to_be_visible()
    other.goto(url)
    other.get_by_role("tab", name="Edit").click()
    other.get_by_label("Mood").fill("theirs")
    other.get_by_role("button", name="Save version").click()
    expect(other.get_by_text("Saved version 2.")).to_be_visible()
    other.context.close()

    page.get_by_label("Mood").fill("mine")
    page.get_by_role("button", name="Save version").click()
    conflict = page.get_by_role("alert").filter(has_text="Someone else saved version 2")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("mood")
    shot(page, "editor-conflict")
    page.get_by_role("button", name="Save mine on top").click()
    expect(page.get_by_text("Saved version 3.")).to_be_visible()


def test_moving_to_another_prompt_never_shows_or_duplicates_the_previous_one(page: Page) -> None:
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    page.goto("/gallery")
    cards = page.locator(".prompt-card")
    expect(cards.nth(1)).to_be_visible()
    first_title = cards.nth(0).locator("h3").inner_text()
    second_title = cards.nth(1).locator("h3").inner_text()
    second_path = cards.nth(1).locator("a").first.get_attribute("href")
    assert first_title != second_title and second_path
    cards.nth(0).locator("h3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first_title)
    first_path = page.evaluate("location.pathname")
    # Note, on every frame the browser paints, the address and the prompt heading on screen.
    page.evaluate(
        """() => {
        window.__frames = [];
        const note = () => {
          const h1 = document.querySelector('h1');
          window.__frames.push([location.pathname, h1 ? h1.innerText : '']);
          requestAnimationFrame(note);
        };
        note();
    }"""
    )
    # Links all the way: the pages change in the browser, with no reload.
    page.get_by_role("link", name="Gallery").first.click()
    cards.nth(1).locator("h3").click()
    # At once, as a hurried person would: the button acts on the prompt in the address.
    page.get_by_role("button", name="Duplicate").click()
    expect(page.get_by_role("heading", name=f"Copy of {second_title}")).to_be_visible()
    frames = page.evaluate("window.__frames")
    assert any(p == second_path for p, _ in frames), "the second prompt's address never showed"
    stale = [h for p, h in frames if p == second_path and h == first_title]
    assert not stale, f"the previous prompt was shown at the new address {len(stale)} times"
    assert page.evaluate("location.pathname") not in (first_path, second_path)  # the copy


def test_the_owner_marks_tags_shares_applies_a_preset_edits_a_list_and_exports(
    page: Page,
) -> None:
    """One pass over every part of the prompt page that has its own state."""
    sign_up(page, new_email())
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    _own_copy(page)

    page.get_by_role("button", name="Add to favourites").click()
    expect(page.get_by_text("Added to favourites.")).to_be_visible()
    expect(page.get_by_role("button", name="Remove from favourites")).to_be_visible()
    page.get_by_role("button", name="Rate 4 stars").click()
    expect(page.get_by_text("Rating saved.")).to_be_visible()
    page.get_by_label("New tag").fill("harbour")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Tagged “harbour”.")).to_be_visible()
    page.get_by_label("Remove tag harbour").click()
    expect(page.get_by_text("Tag removed.")).to_be_visible()
    expect(page.get_by_label("Remove tag harbour")).to_have_count(0)
    page.get_by_role("button", name="Create share link").click()
    expect(page.locator(".share-link")).to_contain_text("/share/")
    shot(page, "prompt-overview-owner")
    page.get_by_role("button", name="Revoke link").click()
    expect(page.get_by_text("Share link revoked.")).to_be_visible()
    expect(page.get_by_role("button", name="Create share link")).to_be_visible()

    page.get_by_role("tab", name="Edit").click()
    page.get_by_label("Preset", exact=True).click()
    page.get_by_role("option", name="style: Film noir").click()
    preview = page.get_by_label("Preset preview")
    expect(preview).to_contain_text("mood")
    shot(page, "prompt-preset-preview")
    page.get_by_role("button", name="Apply preset").click()
    expect(preview).to_have_count(0)
    expect(page.get_by_label("Mood")).to_have_value("tense and mysterious")
    remove_subject = page.get_by_role("button", name="Remove Subjects item")
    subjects = remove_subject.count()
    page.get_by_role("button", name="Add to subjects").click()
    expect(remove_subject).to_have_count(subjects + 1)
    remove_subject.last.click()
    expect(remove_subject).to_have_count(subjects)
    expect(page.get_by_role("button", name="Save version")).to_be_enabled()

    page.get_by_role("tab", name="Export").click()
    page.get_by_role("button", name="Prose").click()
    expect(page.get_by_text("Plain prose")).to_be_visible()
    expect(page.get_by_text("tense and mysterious").first).to_be_visible()  # unsaved, as edited
