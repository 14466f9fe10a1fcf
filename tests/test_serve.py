"""`qifu serve` is the production server: gunicorn with threaded workers, one scheduler per server,
database connections bounded by workers × threads. Started here as a real process against a fresh
installation (SQLite, or a new PostgreSQL database when the suite runs on PostgreSQL)."""

import gc
import http.client
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.management import call_command

from qifu.front.worker import freeze_loaded
from tests.served import ON_POSTGRES, Installation, Server, alive, token_of, wait_until

WORKERS, THREADS = 2, 3
PASSWORD = "Serve-test-2026!"


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    inst = Installation(tmp_path_factory.mktemp("serve"), "postgresql" if ON_POSTGRES else "sqlite")
    try:
        inst.migrate()
        inst.qifu("createsuperuser", "--noinput", "--username", "root", "--email", "root@example.org",
                  env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD})
        inst.token = token_of(inst.qifu("token", "create", "root").stdout)
        yield inst
    finally:
        inst.drop()


@pytest.fixture(scope="module")
def server(installation):
    srv = Server(installation, "--workers", str(WORKERS), "--threads", str(THREADS))
    try:
        yield srv
    finally:
        srv.stop()
        srv.kill_group()


def logged_in_opener(base_url: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base_url + "/login/", timeout=30).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": "root", "password": PASSWORD, "csrfmiddlewaretoken": csrf})
    request = urllib.request.Request(base_url + "/login/", data=body.encode(),
                                     headers={"Referer": base_url + "/login/"})
    opener.open(request, timeout=30).read()
    assert any(c.name == "sessionid" for c in jar), "login failed"
    return opener


def test_it_is_gunicorn_with_threaded_workers_and_static_files(server):
    response = urllib.request.urlopen(server.url + "/login/", timeout=30)
    assert response.status == 200 and response.headers["Server"].startswith("gunicorn")
    assert "Using worker: qifu.front.worker.FairThreadWorker" in server.output()  # gthread (qifu/front/worker.py)
    css = urllib.request.urlopen(server.url + "/static/front/qifu.css", timeout=30)  # WhiteNoise
    assert css.status == 200 and "css" in css.headers["Content-Type"]
    head = urllib.request.urlopen(urllib.request.Request(server.url + "/login/", method="HEAD"), timeout=30)
    assert head.status == 200 and head.read() == b"" and int(head.headers["Content-Length"]) > 0
    time.sleep(1)  # gunicorn would log a dropped body just after answering
    assert "no-body response" not in server.output()  # the application itself sends no body for HEAD


def test_one_scheduler_per_server_not_one_per_worker(server):
    children = server.children()
    schedulers = [cmd for cmd in children.values() if " worker --parent " in cmd]
    assert len(children) == WORKERS + 1, children
    assert schedulers == [f"{schedulers[0].split(' -m ')[0]} -m qifu worker --parent {server.process.pid}"]


def test_fifty_concurrent_clients_all_answered_and_connections_bounded(server, installation):
    opener = logged_in_opener(server.url)
    api = urllib.request.Request(server.url + "/api/v1/enterprises?limit=20",
                                 headers={"Authorization": f"Bearer {installation.token}"})
    statuses, peak, done = [], [0], threading.Event()

    def client(i: int) -> None:
        for _ in range(4):
            if i % 2:
                response = opener.open(server.url + "/enterprises/", timeout=60)
                body = response.read().decode()
                statuses.append((response.status, "/logout/" in body))  # a logged-in page
            else:
                response = urllib.request.urlopen(api, timeout=60)
                statuses.append((response.status, "items" in json.loads(response.read())))

    def watch() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], installation.connections())

    watcher = threading.Thread(target=watch) if ON_POSTGRES else None
    if watcher:
        watcher.start()
    try:
        with ThreadPoolExecutor(50) as pool:
            list(pool.map(client, range(50)))
    finally:
        done.set()
        if watcher:
            watcher.join()
    assert len(statuses) == 200 and set(statuses) == {(200, True)}
    if ON_POSTGRES:
        # each thread keeps at most one connection; the scheduler holds one while it runs a pass
        assert 1 <= peak[0] <= WORKERS * THREADS + 1, peak[0]
        assert installation.connections() <= WORKERS * THREADS + 1


def test_a_new_connection_goes_to_the_worker_that_holds_the_fewest(installation):
    """16 clients that keep their connections, one after another, on two workers: 8 each (gunicorn's own gthread
    worker leaves the split to whichever worker wakes first), all answered — also after a worker was killed (its
    place in the table is cleared: a dead worker's count must not keep the others from listening)."""
    srv = Server(installation, "--workers", "2", "--threads", "2", "--no-scheduler")
    clients = []
    try:
        assert wait_until(lambda: srv.output().count("Worker ready") == 2, 60)
        killed = next(iter(srv.children()))
        os.kill(killed, signal.SIGKILL)
        assert wait_until(lambda: srv.output().count("Worker ready") == 3, 60)
        workers = list(srv.children())
        assert len(workers) == 2 and killed not in workers
        for _ in range(16):
            client = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            client.request("GET", "/login/")
            assert client.getresponse().read() and client.sock is not None  # kept alive
            clients.append(client)
        time.sleep(0.3)
        assert sorted(len(connections_of(pid, srv.port)) for pid in workers) == [8, 8]
        for client in clients:  # each worker answers on its own connections again
            client.request("GET", "/login/")
            assert client.getresponse().status == 200
    finally:
        for client in clients:
            client.close()
        srv.stop()
        srv.kill_group()


def connections_of(pid: int, port: int) -> set[int]:
    """The inodes of the established TCP connections to `port` that process `pid` holds (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    found = set()
    lines = [line for table in ("tcp", "tcp6") for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]]
    for line in lines:
        cells = line.split()
        if int(cells[1].rsplit(":", 1)[1], 16) == port and cells[3] == "01" and int(cells[9]) in inodes:
            found.add(int(cells[9]))
    return found


def test_the_connection_table_counts_serving_workers_only():
    from qifu.front.worker import STOPPED, ConnectionTable

    table = ConnectionTable(4)
    mine, other, loading = table.give(), table.give(), table.give()
    assert len({mine, other, loading}) == 3
    dead = subprocess.Popen(["true"])
    dead.wait()
    table.hold(mine, 10**6, 5)
    table.hold(other, dead.pid, 0)  # exited, not yet cleared by the master: not in the way
    assert table.fewest(mine)
    table.hold(other, os.getpid(), 0)  # running and holding fewer
    assert not table.fewest(mine) and table.fewest(other)
    table.hold(other, os.getpid(), STOPPED)  # stopping
    assert table.fewest(mine) and table.held() == {10**6: 5, os.getpid(): STOPPED}
    table.clear(other)
    assert table.give() == other and table.held() == {10**6: 5}  # a place given but not serving is not counted


def test_the_loaded_application_is_frozen_out_of_the_collector():
    try:
        freeze_loaded(None)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_stopping_the_server_stops_its_workers_and_scheduler(installation):
    srv = Server(installation, "--workers", "1", "--threads", "2")
    try:
        children = list(srv.children())
        assert len(children) == 2
        assert srv.stop(signal.SIGTERM) == 0
        assert wait_until(lambda: not any(alive(pid) for pid in children), 30)
    finally:
        srv.kill_group()


def test_a_killed_master_leaves_no_scheduler_behind(installation):
    srv = Server(installation, "--workers", "1", "--threads", "2")
    try:
        scheduler = next(pid for pid, cmd in srv.children().items() if " worker --parent " in cmd)
        srv.process.send_signal(signal.SIGKILL)
        srv.process.wait(10)
        assert wait_until(lambda: not alive(scheduler), 30)
    finally:
        srv.kill_group()


def test_serve_options_reach_gunicorn(monkeypatch):
    from qifu.front.management.commands import serve

    started = []
    monkeypatch.setattr(serve, "run_gunicorn", started.append)
    monkeypatch.setenv("QIFU_WEB_WORKERS", "5")
    call_command("serve", "--port", "8765", "--threads", "7", "--no-scheduler")
    call_command("serve", "--host", "::1", "--port", "8766", "--workers", "1")
    first, second = started
    assert first["worker_class"] == "qifu.front.worker.FairThreadWorker"  # gthread's own, fairer
    assert (first["workers"], first["threads"]) == (5, 7) and first["post_worker_init"] is freeze_loaded
    assert first["bind"] == ["127.0.0.1:8765"] and "when_ready" not in first
    assert second["bind"] == ["[::1]:8766"] and (second["workers"], second["threads"]) == (1, 4)
    assert second["when_ready"] is serve._start_scheduler and second["on_exit"] is serve._stop_scheduler


def test_serve_refuses_nonsense_options():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("serve", "--workers", "0")


def test_each_worker_switches_threads_every_half_millisecond_unless_told(monkeypatch):
    import sys

    from django.core.management.base import CommandError

    from qifu.front.management.commands import serve

    started = []
    monkeypatch.setattr(serve, "run_gunicorn", started.append)
    before = sys.getswitchinterval()
    try:
        call_command("serve", "--port", "8767", "--no-scheduler")
        started[-1]["post_fork"](None, None)  # what gunicorn calls in a new worker
        assert sys.getswitchinterval() == pytest.approx(0.0005)
        monkeypatch.setenv("QIFU_WEB_SWITCH_MS", "2")
        call_command("serve", "--port", "8767", "--no-scheduler")
        started[-1]["post_fork"](None, None)
        assert sys.getswitchinterval() == pytest.approx(0.002)
    finally:
        sys.setswitchinterval(before)
    for bad in ("fast", "0", "1000"):
        monkeypatch.setenv("QIFU_WEB_SWITCH_MS", bad)
        with pytest.raises(CommandError, match="QIFU_WEB_SWITCH_MS"):
            call_command("serve", "--port", "8767", "--no-scheduler")


def test_the_scheduler_survives_a_failing_pass(monkeypatch):
    from qifu import jobs
    from qifu.notify.management.commands import worker

    passes = []

    def scheduler_loop(stop, tick):
        passes.append(tick)
        if len(passes) == 1:
            raise RuntimeError("the database went away")
        stop.set()

    monkeypatch.setattr(jobs, "scheduler_loop", scheduler_loop)
    monkeypatch.setattr(worker.signal, "signal", lambda *args: None)  # leave pytest's SIGTERM alone
    call_command("worker", "--tick", "0.01")
    assert passes == [0.01, 0.01]
