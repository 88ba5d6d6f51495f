"""Browser tests fail on any Content-Security-Policy violation (decision 0015): every page
made through tests/e2e/support.py reports them to CSP_VIOLATIONS."""

from __future__ import annotations

import pytest

from .support import CSP_VIOLATIONS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    CSP_VIOLATIONS.clear()
    result = yield
    if CSP_VIOLATIONS:
        seen = "\n".join(CSP_VIOLATIONS)
        CSP_VIOLATIONS.clear()
        pytest.fail(f"Content-Security-Policy violations:\n{seen}", pytrace=False)
    return result
