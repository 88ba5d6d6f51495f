"""Profiling inside a daphne server (`make profile`, bench/profile.py): where a request's
CPU goes in the process that serves it.

bench/profile.py starts daphne on ``bench.profiling:application`` with BENCH_PROFILE=1.
Two cProfile profilers, both timed by the thread's CPU clock (``time.thread_time``:
waiting for the database or the network costs nothing):

- the main thread's (daphne, Twisted, asyncio, the ASGI handler, Channels), enabled when
  daphne imports this module;
- the Django thread's (``ProfileMiddleware``, which config/settings/bench.py installs as
  the outermost middleware in place of the statement counter when BENCH_PROFILE is set):
  every middleware, the view, the ORM and the database driver, per request.

The benchmark asks ``/__profile__/reset`` after its warm-up and ``/__profile__/dump/<name>``
after the measured requests: the two profiles are written to
``$BENCH_PROFILE_DIR/<name>-main.prof`` and ``<name>-django.prof`` (pstats files), and the
answer (JSON) gives the process's CPU since the reset split into the main thread, the
Django middleware stack and the rest (other threads: asgiref's executor outside the
middleware, the connection pool). Neither path exists outside these servers.
"""

from __future__ import annotations

import cProfile
import json
import os
import threading
import time
from pathlib import Path

#: the Django thread(s): one profiler per thread (asgiref runs sync middleware on one)
_workers: dict[int, cProfile.Profile] = {}
_worker_cpu: dict[int, float] = {}
_state: dict[str, float | int | cProfile.Profile | None] = {"main": None}


def _reset() -> None:
    main = _state.get("main")
    if isinstance(main, cProfile.Profile):
        main.disable()
    _workers.clear()
    _worker_cpu.clear()
    _state.update(process=time.process_time(), thread=time.thread_time(), requests=0)
    fresh = cProfile.Profile(time.thread_time)
    _state["main"] = fresh
    fresh.enable()


class ProfileMiddleware:
    """Profiles the rest of the middleware stack and the view, in the thread that runs them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ident = threading.get_ident()
        profile = _workers.get(ident)
        if profile is None:
            profile = _workers[ident] = cProfile.Profile(time.thread_time)
        cpu = time.thread_time()
        profile.enable()
        try:
            return self.get_response(request)
        finally:
            profile.disable()
            _worker_cpu[ident] = _worker_cpu.get(ident, 0.0) + time.thread_time() - cpu
            _state["requests"] = int(_state.get("requests") or 0) + 1


def _dump(name: str) -> dict:
    directory = Path(os.environ.get("BENCH_PROFILE_DIR") or ".")
    directory.mkdir(parents=True, exist_ok=True)
    main = _state["main"]
    assert isinstance(main, cProfile.Profile)
    main.disable()
    process = time.process_time() - float(_state["process"] or 0)
    thread = time.thread_time() - float(_state["thread"] or 0)
    main.dump_stats(directory / f"{name}-main.prof")
    django = None
    for profile in _workers.values():
        profile.create_stats()
        if django is None:
            import pstats

            django = pstats.Stats(profile)
        else:
            django.add(profile)
    if django is not None:
        django.dump_stats(directory / f"{name}-django.prof")
    in_django = sum(_worker_cpu.values())
    figures = {
        "requests": _state["requests"],
        "process_cpu": process,
        "main_thread_cpu": thread,
        "django_cpu": in_django,
        "other_cpu": max(0.0, process - thread - in_django),
    }
    _reset()
    return figures


async def _answer(send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data})


from config.asgi import application as _application  # noqa: E402 (django.setup() first: settings)


async def application(scope, receive, send):
    path = scope.get("path", "") if scope["type"] == "http" else ""
    if path == "/__profile__/reset":
        _reset()
        await _answer(send, 200, {"reset": True})
    elif path.startswith("/__profile__/dump/"):
        await _answer(send, 200, _dump(path.rsplit("/", 1)[1]))
    else:
        await _application(scope, receive, send)


_reset()  # daphne imports this module in its main thread: profile it from now on
