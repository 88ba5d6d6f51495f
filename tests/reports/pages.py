"""Reading the report pages in tests: tables and figure lists by their data-testid, as text."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from io import BytesIO

import openpyxl


def text(response) -> str:
    return html.unescape(response.content.decode())


def squash(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


class _Reader(HTMLParser):
    """Collects every <table data-testid> as rows of cell texts (thead, tbody and tfoot
    alike), every <dl data-testid> as {dt: dd} and every element's text by data-testid."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.lists: dict[str, dict[str, str]] = {}
        self.texts: dict[str, str] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._dl: str | None = None
        self._term: list[str] | None = None
        self._value: list[str] | None = None
        self._last_term = ""
        self._open: list[tuple[str, str | None]] = []  # (tag, testid) of open elements with a testid

    def handle_starttag(self, tag, attrs):
        testid = dict(attrs).get("data-testid")
        if tag in ("br", "input", "link", "meta", "img"):
            return
        self._open.append((tag, testid))
        if testid:
            self.texts.setdefault(testid, "")
        if tag == "table" and testid:
            self._table = testid
            self.tables[testid] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "dl" and testid:
            self._dl = testid
            self.lists[testid] = {}
        elif tag == "dt" and self._dl:
            self._term = []
        elif tag == "dd" and self._dl:
            self._value = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(squash(" ".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "dt" and self._term is not None:
            self._last_term = squash("".join(self._term))
            self._term = None
        elif tag == "dd" and self._value is not None and self._dl:
            self.lists[self._dl][self._last_term] = squash("".join(self._value))
            self._value = None
        elif tag == "dl":
            self._dl = None
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._term is not None:
            self._term.append(data)
        if self._value is not None:
            self._value.append(data)
        for _tag, testid in self._open:
            if testid:
                self.texts[testid] += data


def read(response) -> _Reader:
    reader = _Reader()
    reader.feed(response.content.decode())
    for key, value in reader.texts.items():
        reader.texts[key] = squash(value)
    return reader


def workbook(content: bytes):
    return openpyxl.load_workbook(BytesIO(content))


def sheet_rows(sheet) -> list[tuple]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def summary_figures(sheet) -> dict[tuple[str, str, str], object]:
    """汇总: {(category, item, unit): value} from the rows below the header."""
    return {(row[0], row[1], row[3]): row[2] for row in sheet_rows(sheet)[3:] if row[0]}


def figures_below(sheet) -> dict[str, object]:
    """The label → value figures under an attachment's table (label in column B, value in C)."""
    rows = sheet_rows(sheet)
    totals = next(i for i, row in enumerate(rows) if row[1] and str(row[1]).startswith("合计"))
    return {row[1]: row[2] for row in rows[totals + 1 :] if row[1]}
