"""Layout checks a person would notice: a page that scrolls sideways, a header whose items
run into each other (flexbox shrinks a box below its content, and the text then spills over its
neighbour without any overflow to measure on the page)."""

from __future__ import annotations

from playwright.sync_api import Page

# Widths where the header changes: navigation labels, icons only, then the menu.
HEADER_WIDTHS = (1301, 1300, 641, 390)

_HEADER_PROBLEMS = """() => {
  const problems = [];
  const logo = document.querySelector('a[aria-label="JSONCraft home"]');
  if (logo && logo.scrollWidth > logo.clientWidth + 1) {
    problems.push(`the logo is squeezed: ${logo.scrollWidth}px in ${logo.clientWidth}px`);
  }
  const items = [logo, ...document.querySelectorAll('.nav-link')]
    .filter(e => e && e.getBoundingClientRect().width > 0);
  for (let i = 1; i < items.length; i++) {
    const a = items[i - 1].getBoundingClientRect(), b = items[i].getBoundingClientRect();
    if (a.right > b.left + 1) problems.push(`header items overlap by ${a.right - b.left}px`);
  }
  return problems;
}"""


def assert_fits(page: Page, width: int) -> None:
    """No sideways scrolling, and nothing in the header overlapping at this width."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"at {width}px the page scrolls sideways by {overflow}px"
    problems = page.evaluate(_HEADER_PROBLEMS)
    assert not problems, f"at {width}px: {'; '.join(problems)}"
