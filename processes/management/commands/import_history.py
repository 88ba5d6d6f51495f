"""``manage.py import_history FILE.xlsx [--user USERNAME]``: bring in past years."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from processes.services.history import HistoryImportRejected, history_import


class Command(BaseCommand):
    help = "导入历史年度数据工作簿（.xlsx）：全部校验通过才写入；同一文件重复导入不改变任何数据。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the workbook (.xlsx); its sheets are described in docs/reports.md")
        parser.add_argument("--user", help="the finance officer recorded as importing (default: the operator)")

    def handle(self, *args, file: str, user: str | None, **options) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("找不到文件：%(file)s") % {"file": file})
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(_("没有账号「%(user)s」。") % {"user": user})
        try:
            with path.open("rb") as handle:
                result = history_import(
                    file=handle,
                    file_name=path.name,
                    actor=actor,
                    progress=lambda step: self.stderr.write(step) if options["verbosity"] > 1 else None,
                )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        except HistoryImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(_("导入未完成，没有写入任何数据：共 %(n)s 处问题。") % {"n": len(exc.errors)}) from exc
        years = "、".join(str(y) for y in result.history.years)
        if not result.created:
            self.stdout.write(
                _("该文件已于 %(when)s 导入（%(years)s 年度），没有任何改变。")
                % {
                    "when": timezone.localtime(result.history.imported_at).strftime("%Y-%m-%d %H:%M"),
                    "years": years,
                }
            )
            return
        counts = "，".join(f"{sheet} {n}" for sheet, n in result.counts.items())
        self.stdout.write(_("已导入 %(years)s 年度：%(counts)s。") % {"years": years, "counts": counts})
