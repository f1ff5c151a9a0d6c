"""The exports `make demo` prints: run in a shell elsewhere, they point `reddit-assets status` at its state."""

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

from reddit_assets_demo.run import CLI_VARS, cli_exports, demo_environment
from reddit_assets_tests.harness import CLI

REPO = Path(__file__).resolve().parents[2]


def test_printed_exports_point_status_at_the_demo_from_another_folder(tmp_path, monkeypatch):
    today = dt.datetime.now(dt.UTC).date()
    config = tmp_path / "the config.yaml"
    config.write_text(f'start_date: "{today}"\nsubreddits:\n  - {{name: python, category: new}}\n')
    monkeypatch.setenv("REDDIT_ASSETS_CONFIG", str(config))
    root = tmp_path / "my demo"  # a space: the values are quoted for the shell
    (root / "dagster_home").mkdir(parents=True)
    shutil.copy(REPO / "dagster.yaml", root / "dagster_home")  # as the demo does
    env = demo_environment(root, "http://127.0.0.1:9")
    lines = cli_exports(env)
    assert lines == [
        f"export DAGSTER_HOME='{root / 'dagster_home'}'",
        f"export REDDIT_ASSETS_DATA_DIR='{root / 'data'}'",
        f"export REDDIT_ASSETS_CONFIG='{config}'",
        "unset DATABASE_URL",
    ]

    elsewhere = tmp_path / "another terminal"
    elsewhere.mkdir()
    shell = {k: v for k, v in os.environ.items() if not k.startswith(("REDDIT_", "DAGSTER_"))}
    shell["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:9/not_the_demo"
    done = subprocess.run(
        [
            "bash",
            "-c",
            "\n".join([*lines, 'env | grep -E "^(DAGSTER_HOME|REDDIT_ASSETS_|DATABASE_URL)"', f"'{CLI}' status"]),
        ],
        env=shell,
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = dict(line.split("=", 1) for line in done.stdout.splitlines()[:3])
    assert shown == {name: env[name] for name in CLI_VARS}  # and DATABASE_URL gone
    assert done.returncode == 1, done.stderr  # the instance is empty: nothing scraped yet
    assert done.stderr == ""
    assert done.stdout.splitlines()[3:] == [
        f"== {today} ==",
        "python (new): not run yet",
        "  scraped:   not run yet",
        "  loaded:    not run yet: waits for the raw file",
        "  archived:  not run yet: waits for the raw file",
        f"  second pass: due from {today + dt.timedelta(days=2)}T12:00+00:00 (36 h after the day)",
        "  checks:    no results",
        "",
        f"{today}: INCOMPLETE, 0 of 1 subreddit(s) scraped, loaded and archived",
    ]
