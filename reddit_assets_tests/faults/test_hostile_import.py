"""Hostile folders given to `reddit-assets import`: links out of the folder, forged report lines,
files that crashed the import, and files over the size maximum.

Each test runs the real command (`--dry-run`: nothing needs a Dagster instance) and asserts
its exact report lines; the rest of the folder is always still read.
"""

import json
import os

from reddit_assets_tests.faults.measured import run_measured
from reddit_assets_tests.faults.support import synthetic_document
from reddit_assets_tests.harness import CLI
from reddit_assets_tests.migrate.test_import import DAY1, our_document, urs_document, write_json, write_ours

SECRET_KEYS = {"aws_secret_access_key": "AKIA-not-yours", "db": "prod", "password": "hunter2"}


def _import(tmp_path, folder, **env):
    config = tmp_path / "subreddits.yaml"
    config.write_text('start_date: "2026-01-01"\nsubreddits: [{name: alpha}, {name: beta}]\n')
    environment = {**os.environ, "REDDIT_ASSETS_DATA_DIR": str(tmp_path / "data"), **env}
    environment.pop("DAGSTER_HOME", None)
    return run_measured([str(CLI), "import", str(folder), "--dry-run", "--config", str(config)], env=environment)


def _lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line]


def test_links_out_of_the_folder_are_reported_and_never_read(tmp_path):
    outside = tmp_path / "outside"
    write_ours(outside / "alpha.json", our_document("alpha", DAY1))
    write_json(outside / "secrets.json", SECRET_KEYS)
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "stolen.json").symlink_to(outside / "alpha.json")
    (folder / "keys.json").symlink_to(outside / "secrets.json")
    (folder / "elsewhere").symlink_to(outside, target_is_directory=True)

    result = _import(tmp_path, folder)

    assert _lines(result) == [
        f"skipped       {folder / 'elsewhere'}: symbolic link to a folder: not followed",
        f"skipped       {folder / 'keys.json'}: symbolic link: not followed, not read",
        f"skipped       {folder / 'stolen.json'}: symbolic link: not followed, not read",
        "3 skipped (dry run: nothing written or recorded)",
    ]
    assert result.returncode == 0
    assert not any(word in result.stdout + result.stderr for word in [*SECRET_KEYS, *SECRET_KEYS.values()])


def test_a_file_that_is_not_a_scrape_is_refused_without_quoting_it(tmp_path):
    folder = tmp_path / "old"
    write_json(folder / "config.json", SECRET_KEYS)
    write_json(folder / "tagged.json", {"format": "password=hunter2"})

    result = _import(tmp_path, folder)

    assert _lines(result)[:2] == [
        f"BAD           {folder / 'config.json'}: unknown format: no 'format' tag and not a URS subreddit scrape",
        f"BAD           {folder / 'tagged.json'}: unknown format: its 'format' tag is not "
        "'reddit_assets/raw-scrape@1' (this version reads that and URS subreddit scrapes)",
    ]
    assert "hunter2" not in result.stdout and "aws_secret" not in result.stdout
    assert result.returncode == 1


def test_control_characters_in_a_file_name_cannot_forge_a_report_line(tmp_path):
    folder = tmp_path / "old"
    forged = folder / "x\x1b[2K\rimported      FAKE -> \n/etc/shadow\u202e.json"
    write_json(forged, [1, 2])

    result = _import(tmp_path, folder)

    escaped = f"{folder}/x\\x1b[2K\\x0dimported      FAKE -> \\x0a/etc/shadow\\u202e.json"
    assert _lines(result) == [
        f"BAD           {escaped}: unknown format: the top level is a JSON list, not an object",
        "1 bad (dry run: nothing written or recorded)",
        "1 file(s) not imported; see the BAD and CONFLICT lines above.",
    ]
    assert "\x1b" not in result.stdout


def _urs_with_time(value):
    document = urs_document("beta", DAY1, n=2)
    document["data"][1]["created_utc"] = value
    return document


def test_files_that_crashed_the_import_are_one_line_each_and_the_rest_is_imported(tmp_path):
    folder = tmp_path / "old"
    (folder / "2026-03-01").mkdir(parents=True)
    (folder / "2026-03-01" / "a_deep.json").write_text("[" * 100_000 + "]" * 100_000)
    for name, value in [("b_nan", "NaN"), ("c_inf", "Infinity"), ("d_huge", "1e30"), ("e_y10k", '"10000-01-01"')]:
        text = json.dumps(_urs_with_time("PLACEHOLDER")).replace('"PLACEHOLDER"', value)
        (folder / "2026-03-01" / f"{name}.json").write_text(text)
    write_ours(folder / "z_good.json", our_document("alpha", DAY1))

    result = _import(tmp_path, folder)

    day = folder / "2026-03-01"
    lines = _lines(result)
    assert lines[:5] == [
        f"BAD           {day / 'a_deep.json'}: nested too deeply to be a scrape file",
        f"BAD           {day / 'b_nan.json'}: data[1].created_utc nan is outside 2005-01-01 .. now + 1 day",
        f"BAD           {day / 'c_inf.json'}: data[1].created_utc inf is outside 2005-01-01 .. now + 1 day",
        f"BAD           {day / 'd_huge.json'}: data[1].created_utc 1e+30 is outside 2005-01-01 .. now + 1 day",
        f"BAD           {day / 'e_y10k.json'}: data[1].created_utc '10000-01-01' is not a time",
    ]
    assert lines[5].startswith(f"would import  {folder / 'z_good.json'} -> ")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1


def test_a_file_over_the_maximum_is_refused_with_its_size(tmp_path):
    folder = tmp_path / "old"
    big = write_ours(folder / "alpha.json", our_document("alpha", DAY1))
    size = big.stat().st_size

    result = _import(tmp_path, folder, REDDIT_ASSETS_MAX_RAW_BYTES=str(size - 1))

    assert _lines(result)[0] == (
        f"BAD           {big}: is {size} bytes, over the {size - 1}-byte maximum ($REDDIT_ASSETS_MAX_RAW_BYTES); not read"
    )


def test_a_big_import_file_costs_a_bounded_multiple_of_its_size(tmp_path):
    folder = tmp_path / "old"
    big = write_ours(folder / "alpha.json", synthetic_document("alpha", DAY1, 1_000, 50_000))
    size_mb = big.stat().st_size / 2**20
    empty = tmp_path / "empty"
    empty.mkdir()

    baseline = _import(tmp_path, empty).peak_rss_mb  # the command itself, with nothing to read
    result = _import(tmp_path, folder)

    assert _lines(result)[0].startswith(f"would import  {big} -> ")
    # Measured: about 5.4x the file above the baseline (19 MB file: 115 -> 219 MB); the maximum
    # file size ($REDDIT_ASSETS_MAX_RAW_BYTES) is what bounds it in absolute terms.
    assert result.peak_rss_mb < baseline + 8 * size_mb, (result.peak_rss_mb, baseline, size_mb)
