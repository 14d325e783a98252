"""Without a configured SECRET_KEY, the first process to start writes one to the instance
folder (mode 600) and every worker and restart after it signs with the same key: logins and
CSRF tokens work across gunicorn workers."""
import multiprocessing
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest

from ticketing import ROOT, create_app
from ticketing.config import persistent_secret_key
from ticketing.extensions import db

PASSWORD = "correct-horse-9"


def _read_key(path):
    return persistent_secret_key(path)


def test_the_key_is_created_once_with_mode_600_and_kept(tmp_path):
    path = str(tmp_path / "instance" / "secret_key")
    key = persistent_secret_key(path)
    assert len(key) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert persistent_secret_key(path) == key
    assert os.listdir(tmp_path / "instance") == ["secret_key"], "no temporary files left"


def test_processes_starting_together_agree_on_one_key(tmp_path):
    path = str(tmp_path / "secret_key")
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        keys = pool.map(_read_key, [path] * 12)
    assert len(set(keys)) == 1


def test_two_apps_without_a_configured_key_share_sessions(database_url, tmp_path):
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": None,
              "SECRET_KEY_FILE": str(tmp_path / "secret_key"), "SERVER_NAME": "localhost"}
    first, second = create_app(config), create_app(config)
    assert first.secret_key == second.secret_key
    assert first.secret_key == (tmp_path / "secret_key").read_text().strip()
    assert create_app({**config, "SECRET_KEY": "configured"}).secret_key == "configured"
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_logins_with_csrf_succeed_across_two_gunicorn_workers(database_url, make_user,
                                                              tmp_path):
    """The issue's probe: with two workers and no SECRET_KEY, 13 of 20 logins failed CSRF."""
    user = make_user("agent")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
                "PYTHONPATH": str(ROOT), "LOGIN_THROTTLE_STORAGE": "database"})
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--timeout", "30", "ticketing.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(process.stderr.read().decode()[-3000:])
                time.sleep(0.2)
        failures = 0
        for _ in range(20):
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
            page = opener.open(base + "/login", timeout=10).read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
            data = urllib.parse.urlencode({"csrf_token": token, "username": user.username,
                                           "password": PASSWORD}).encode()
            try:
                opener.open(base + "/login", data=data, timeout=10)
                home = opener.open(base + "/preferences", timeout=10)
                failures += home.geturl().rstrip("/") != base + "/preferences"
            except urllib.error.HTTPError:
                failures += 1
        assert failures == 0
    finally:
        process.send_signal(signal.SIGTERM)  # only the PID this test started
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        process.stderr.close()
