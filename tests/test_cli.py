"""The command line as a user runs it: real subprocesses for serve, CliRunner for the rest."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from parkbrain.cli import cli
from tests.conftest import REPO

pytestmark = pytest.mark.xdist_group("demo")
PARKBRAIN = [sys.executable, "-m", "parkbrain.cli"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PARKBRAIN, *args], capture_output=True, text=True, timeout=300)


def test_info_lists_rows_per_table_and_reading_span(demo_db):
    result = CliRunner().invoke(cli, ["info", "--db", str(demo_db)])
    assert result.exit_code == 0, result.output
    assert "readings from" in result.output and "enterprises" in result.output
    data = json.loads(CliRunner().invoke(cli, ["info", "--db", str(demo_db), "--format", "json"]).output)
    assert data["tables"]["enterprises"] >= 400 and data["tables"]["readings"] > 1_000_000
    assert data["schema_version"] >= 3 and data["readings_first_ts"] < data["readings_last_ts"]


def test_sql_json_is_an_array_of_row_objects(demo_db):
    result = CliRunner().invoke(
        cli,
        [
            "sql",
            "SELECT park_id, name, lon, lat FROM parks ORDER BY park_id",
            "--db",
            str(demo_db),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    parks = json.loads(result.output)
    assert isinstance(parks, list) and len(parks) >= 12
    assert set(parks[0]) == {"park_id", "name", "lon", "lat"}
    assert all(104.4 < p["lon"] < 112.1 and 21.0 < p["lat"] < 26.4 for p in parks)


def test_sql_csv_and_table_formats(demo_db):
    csv_out = (
        CliRunner()
        .invoke(
            cli,
            [
                "sql",
                "SELECT region_code, name FROM regions ORDER BY 1",
                "--db",
                str(demo_db),
                "--format",
                "csv",
            ],
        )
        .output
    )
    lines = csv_out.strip().splitlines()
    assert lines[0] == "region_code,name" and lines[1] == "450000,广西壮族自治区" and len(lines) == 16
    table = CliRunner().invoke(
        cli, ["sql", "SELECT name FROM regions WHERE level = 'province'", "--db", str(demo_db)]
    )
    assert "广西壮族自治区" in table.output


@pytest.mark.parametrize(
    "query",
    [
        "DROP TABLE parks",
        "DELETE FROM readings",
        "SELECT 1; DROP TABLE parks",
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY parks TO '/tmp/x.csv'",
    ],
)
def test_sql_refuses_anything_but_a_read_only_select(demo_db, query):
    result = run("sql", query, "--db", str(demo_db))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_user_errors_are_one_line_without_traceback(tmp_path):
    missing = run("info", "--db", str(tmp_path / "nowhere.duckdb"))
    assert (
        missing.returncode == 1 and "no database at" in missing.stderr and "Traceback" not in missing.stderr
    )
    bad_sql = run("sql", "SELEC oops", "--db", str(tmp_path / "nowhere.duckdb"))
    assert bad_sql.returncode == 1 and "Traceback" not in bad_sql.stderr


def test_demo_command_builds_without_serving(tmp_path):
    db = tmp_path / "small.duckdb"
    result = run(
        "demo", "--db", str(db), "--days", "7", "--end", "2026-11-02T12:00", "--no-serve", "--seed", "3"
    )
    assert result.returncode == 0, result.stderr
    assert "parks" in result.stderr and "enterprises" in result.stderr and db.exists()
    span = json.loads(
        run("sql", "SELECT max(ts) AS hi FROM readings", "--db", str(db), "--format", "json").stdout
    )
    assert span[0]["hi"].startswith("2026-11-02T04:00:00")  # 12:00 Asia/Shanghai in UTC


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_the_api_and_the_cli_talks_to_it_while_it_holds_the_db(tmp_path):
    db = tmp_path / "served.duckdb"
    assert (
        run("demo", "--db", str(db), "--days", "7", "--end", "2026-11-02T12:00", "--no-serve").returncode == 0
    )
    port = _free_port()
    server = subprocess.Popen(
        [*PARKBRAIN, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                    assert json.loads(r.read())["status"] == "ok"
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(
                "server did not start: " + server.stderr.read() if server.poll() is not None else "timeout"
            )
        lock = Path(str(db) + ".server.json")
        assert lock.exists() and oct(lock.stat().st_mode & 0o777) == "0o600"
        with pytest.raises(urllib.error.HTTPError) as refused_anon:
            urllib.request.urlopen(base + "/api/parks", timeout=5)
        assert refused_anon.value.code == 401
        # token create goes through the server too (the CLI cannot open the file while it is served)
        made = run("token", "create", "--role", "province_admin", "--format", "json", "--db", str(db))
        assert made.returncode == 0, made.stderr
        token = json.loads(made.stdout)["token"]
        request = urllib.request.Request(
            base + f"/api/parks?token={token}", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as r:
            assert len(json.loads(r.read())) >= 12
        # DuckDB would refuse a second process; the CLI goes through the server instead.
        out = run("sql", "SELECT count(*) AS n FROM enterprises", "--db", str(db), "--format", "json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)[0]["n"] >= 400
        info = run("info", "--db", str(db), "--format", "json")
        assert info.returncode == 0 and json.loads(info.stdout)["tables"]["parks"] >= 12
        refused = run("sql", "DROP TABLE parks", "--db", str(db))
        assert refused.returncode == 1 and "read-only" in refused.stderr
        busy = run("serve", "--db", str(db), "--port", str(port))
        assert busy.returncode == 1 and "in use" in busy.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not Path(str(db) + ".server.json").exists()
    logs = server.stderr.read() + server.stdout.read()
    assert "/api/parks" in logs  # the access log is there, without the token
    secret = token.split("_", 2)[2]  # pbt_<id>_<secret>; the secret itself may hold "_" (URL-safe base64)
    assert token not in logs and secret not in logs and secret[:12] not in logs


def test_every_command_and_option_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert f"parkbrain {name}" in readme, f"README does not mention `parkbrain {name}`"
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in readme, f"README does not document {opt} of `parkbrain {name}`"


def test_help_works_for_every_command():
    for name in cli.commands:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
