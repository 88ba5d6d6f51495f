"""Write the sample treasury files of docs/processes/execution-data.md into data/samples/
from the demo year's data (workflows/demo_data): payments-2021.xlsx and payments-2021.csv
(GBK, as 数字财政 exports it), payment-plans-2021.xlsx and payment-plans-2021.csv (UTF-8 with
a BOM). Run: .venv/bin/python scripts/execution_samples.py (no Django needed)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

BASE = Path(__file__).resolve().parent.parent
SOURCES = {
    "payments-2021": BASE / "workflows" / "demo_data" / "payments-2021.csv",
    "payment-plans-2021": BASE / "workflows" / "demo_data" / "payment-plans-2021.csv",
}
OUT = BASE / "data" / "samples"
CSV_ENCODING = {"payments-2021": "gbk", "payment-plans-2021": "utf-8-sig"}


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _workbook(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "导出数据"
    sheet.append(rows[0])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows[1:]:
        sheet.append([int(row[0]), row[1], row[2], int(row[3]), float(row[4])])
        sheet.cell(sheet.max_row, 5).number_format = "#,##0.00"
    for column, width in zip("ABCDE", (8, 18, 28, 8, 18), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, source in SOURCES.items():
        rows = _rows(source)
        (OUT / f"{name}.xlsx").write_bytes(_workbook(rows))
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(rows)
        (OUT / f"{name}.csv").write_bytes(text.getvalue().encode(CSV_ENCODING[name]))
        print(f"{name}: {len(rows) - 1} rows")


if __name__ == "__main__":
    main()
