"""In a real browser against the embedded server (jobs run in a thread of the web process):
the finance section uploads a 4,000-row library, watches the job page's progress bar move
without reloading by hand, and reads the counts; a bad file ends in the error table."""

from __future__ import annotations

import re
from io import BytesIO

import openpyxl
import pytest
from playwright.sync_api import expect, sync_playwright

from processes.services.indicators import COLUMNS

from .support import CHROMIUM_ARGS, PASSWORD, log_in, serve

SETUP_SCRIPT = f"""
from django.contrib.auth.models import Group
from accounts.models import Department, User

Department.objects.create(code="A01", name="区农水局")
user = User(username="e2e_finance", full_name="财政绩效科", language="zh-hans")
user.set_password({PASSWORD!r})
user.save()
user.groups.add(Group.objects.get(name="finance_officer"))
"""

pytestmark = pytest.mark.browser


def workbook(path, rows: int, bad_row: int | None = None) -> str:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("绩效指标库")
    sheet.append(list(COLUMNS))
    for i in range(rows):
        department = i % 3 == 0
        sheet.append(
            [
                f"E{i:05d}",
                "产出指标",
                "效益指标" if i == bad_row else "数量指标",
                f"测试指标{i}",
                "个",
                "≥",
                "部门个性化" if department else "通用类",
                "A01" if department else "",
                "说明",
                "评分标准",
                "是",
            ]
        )
    out = BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return str(path)


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("e2e-library"), SETUP_SCRIPT) as (url, _):
        yield url


def test_finance_watches_the_import_progress_and_reads_the_counts(server_url, tmp_path):
    upload = workbook(tmp_path / "library.xlsx", 4000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = log_in(browser, server_url, "e2e_finance")
            page.click("nav a:has-text('指标库')")
            page.click("a:has-text('导入')")
            page.set_input_files("input[name=file]", upload)
            page.click("button:has-text('上传并导入')")
            page.get_by_test_id("confirm-dialog").get_by_role("button", name="确定导入").click()
            expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
            # The page came while the job was still reading the file (4,000 rows take a
            # second or two): what follows is the script's polling and its reload.
            assert page.locator("[data-testid=job]").get_attribute("data-job-finished") == "0"
            expect(page.locator("[data-job-phase]")).not_to_be_empty()
            expect(page.locator("[data-testid=job-result]")).to_contain_text("新增", timeout=60_000)
            expect(page.locator("[data-testid=job-result]")).to_contain_text("4000")
            expect(page.locator("[data-testid=job-status]")).to_have_text("已完成")
            expect(page.locator("[data-job-percent]")).to_have_text("100%")

            page.click("a:has-text('返回')")
            expect(page.locator("[data-testid=counts]")).to_contain_text("共 4000 个指标")
        finally:
            browser.close()


def test_bad_file_ends_in_the_error_table(server_url, tmp_path):
    upload = workbook(tmp_path / "bad.xlsx", 50, bad_row=7)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = log_in(browser, server_url, "e2e_finance")
            page.goto("/library/import/")
            page.set_input_files("input[name=file]", upload)
            page.click("button:has-text('上传并导入')")
            page.get_by_test_id("confirm-dialog").get_by_role("button", name="确定导入").click()
            errors = page.locator("[data-testid=job-errors]")
            expect(errors).to_contain_text("二级指标", timeout=30_000)
            expect(errors.locator("tbody tr")).to_have_count(1)
            expect(errors.locator("tbody tr td").first).to_have_text("9")
        finally:
            browser.close()
