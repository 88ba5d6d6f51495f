"""``manage.py annual_report --year 2020 [--format json|xlsx] [--output FILE]``."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from reports.figures import annual_report, report_json


class Command(BaseCommand):
    help = "年度绩效报告：JSON 输出到标准输出，或 XLSX 写入文件（--output）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--format", choices=["json", "xlsx"], default="json")
        parser.add_argument("--output", help="XLSX: the file to write (default: standard output)")

    def handle(self, *args, year: int, format: str, output: str | None, **options) -> None:
        if not 1990 <= year <= 2100:
            raise CommandError(_("年度无效：%(year)s") % {"year": year})
        report = annual_report(year)
        if format == "json":
            self.stdout.write(json.dumps(report_json(report), ensure_ascii=False, indent=2))
            return
        from reports.exports import annual_report_xlsx

        content = annual_report_xlsx(report)
        if output:
            with open(output, "wb") as fh:
                fh.write(content)
        else:
            sys.stdout.buffer.write(content)
