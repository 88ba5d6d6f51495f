"""Screenshots of the header, the score sheet and the inbox for docs/screens/ (issue 21).

Against a running server holding `manage.py load_demo`'s data:

    .venv/bin/python scripts/take_screens.py http://127.0.0.1:8000 after

writes docs/screens/<what>-<width>-<suffix>.png (PNG, each well under 300 KB).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "screens"
PASSWORD = "Jixiao@2021demo"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]


def main(base: str, suffix: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)

        def page_for(username: str, width: int, height: int):
            page = browser.new_context(
                locale="zh-CN", base_url=base, viewport={"width": width, "height": height}
            ).new_page()
            page.goto("/accounts/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]:has-text('登录')")
            page.wait_for_load_state()
            return page

        for width in (1366, 390):
            page = page_for("finance1", width, 760)
            page.goto("/")
            header = page.locator("header.topbar").bounding_box() or {"height": 60}
            page.screenshot(
                path=OUT / f"header-finance-{width}-{suffix}.png",
                clip={"x": 0, "y": 0, "width": width, "height": header["height"] + 40},
            )
            toggle = page.locator(".nav-toggle")
            if width < 1280 and toggle.is_visible():  # the folded header, opened
                toggle.click()
                page.screenshot(path=OUT / f"header-finance-{width}-menu-{suffix}.png")
        page = page_for("chengguan_staff", 1366, 900)
        page.goto("/evaluations/self/8/")
        page.locator("[data-testid=se-fill]").screenshot(path=OUT / f"score-sheet-1366-{suffix}.png")
        page = page_for("chengguan_staff", 390, 844)
        page.goto("/")
        page.screenshot(path=OUT / f"inbox-390-{suffix}.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
