"""Hostile and broken config files: every mistake in one run, no blow-up, the file and line named.

Each case runs the real `reddit-assets validate-config` command (the definitions load
through the same `load_config`), and asserts its exact message and, for the blow-ups,
its peak memory measured in the child process.
"""

import os

import pytest

from reddit_assets.config import ConfigError, load_config
from reddit_assets_tests.faults.measured import run_measured
from reddit_assets_tests.harness import CLI

# A bare Python with pydantic and PyYAML loaded peaks near 50 MB; the alias bomb reached 23 GB.
MEMORY_BOUND_MB = 200


def _validate(path, cwd=None, env_config=None):
    env = {k: v for k, v in os.environ.items() if k != "REDDIT_ASSETS_CONFIG"}
    if env_config is not None:
        env["REDDIT_ASSETS_CONFIG"] = str(env_config)
    args = [str(CLI), "validate-config"] + ([str(path)] if path is not None else [])
    return run_measured(args, env=env, cwd=cwd)


def test_validate_config_reports_three_mistakes_in_one_run(tmp_path):
    path = tmp_path / "subreddits.yaml"
    path.write_text(
        "subreddits:\n"
        "  - {name: python, categroy: hot}\n"
        "  - {name: ../etc}\n"
        "  - {name: rust, comments: lots}\n"
        "  - {name: fine_one}\n"
    )
    result = _validate(path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"invalid config: {path}: 3 problems:\n"
        "  subreddits[0] ('python'): field 'categroy': unknown field (known: category, comments, n_results, name, "
        "query, time_filter); did you mean 'category'?\n"
        "  subreddits[1] ('../etc'): field 'name': '../etc' is not a subreddit name: 2 to 21 ASCII letters, "
        "digits or underscores\n"
        "  subreddits[2] ('rust'): field 'comments': 'lots' is not 'all', 'none' or a whole number\n"
    )


def test_validate_config_lists_duplicate_keys_with_the_other_mistakes(tmp_path):
    path = tmp_path / "subreddits.yaml"
    path.write_text(
        "start_date: 2026-02-30\n"
        "subreddits:\n"
        "  - {name: python, category: hot, category: top}\n"
        "  - {name: rust, comments: lots, comments: all}\n"
        "  - {name: go, category: new, query: golang}\n"
        "  - {name: Python}\n"
    )
    result = _validate(path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"invalid config: {path}: 5 problems:\n"
        "  line 3: duplicate key 'category' (first at line 3)\n"
        "  line 4: duplicate key 'comments' (first at line 4)\n"
        "  subreddits[2] ('go'): field 'query': only category 'search' takes a query\n"
        "  subreddits[3] ('Python'): field 'name': same subreddit as subreddits[0] ('python'); Reddit names ignore case\n"
        "  field 'start_date': Input should be a valid date or datetime, day value is outside expected range\n"
    )


def test_typo_in_a_top_level_block_suggests_the_field(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("flags: {master_enabeld: false}\nsubreddits: [{name: python}]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: field 'flags.master_enabeld': unknown field (known: create_archives_enabled, master_enabled, "
        "upload_to_r2_enabled); did you mean 'master_enabled'?"
    )


ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
    "subreddits:\n  - {name: python, comments: *i}\n"
)


def test_alias_bomb_is_refused_in_bounded_memory(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    result = _validate(path)
    assert result.returncode == 1
    assert result.stderr == (
        f"invalid config: {path}:2: alias *a refused: aliases are not accepted (put shared values under 'defaults:')\n"
    )
    assert result.peak_rss_mb < MEMORY_BOUND_MB, result.peak_rss_mb


def test_hundred_thousand_levels_of_nesting_are_refused_without_a_traceback(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("subreddits: " + "[" * 100_000 + "]" * 100_000 + "\n")
    result = _validate(path)
    assert result.returncode == 1
    assert result.stderr == f"invalid config: {path}:1: nested more than 32 levels deep\n"
    assert result.peak_rss_mb < MEMORY_BOUND_MB, result.peak_rss_mb


def test_duplicate_keys_are_refused_naming_both_lines(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("subreddits:\n  - {name: python, category: hot, category: top}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:2: duplicate key 'category' (first at line 2)"
    path.write_text("subreddits: [{name: python}]\nflags: {}\nsubreddits: [{name: rust}]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:3: duplicate key 'subreddits' (first at line 1)"


def test_non_utf8_file_is_one_clear_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("subreddits:\n  - {name: caf\u00e9}\n".encode("latin-1"))
    result = _validate(path)
    assert result.returncode == 1
    assert result.stderr == f"invalid config: {path}:2: not UTF-8 text (byte 26); save the file as UTF-8\n"


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("start_date: 2026-01-01\nsubreddits:\n  - {name: python\n")
    result = _validate(path)
    assert result.returncode == 1
    assert result.stderr == (
        f"invalid config: {path}:4: not valid YAML: while parsing a flow mapping "
        "expected ',' or '}', but got '<stream end>'\n"
    )


def test_missing_explicit_path_is_told_from_missing_default(tmp_path):
    given = _validate(tmp_path / "absent.yaml", cwd=tmp_path)
    assert given.stderr == f"invalid config: config file '{tmp_path / 'absent.yaml'}' not found (the path given)\n"
    from_env = _validate(None, cwd=tmp_path, env_config=tmp_path / "env.yaml")
    assert from_env.stderr == (
        f"invalid config: config file '{tmp_path / 'env.yaml'}' not found (from $REDDIT_ASSETS_CONFIG)\n"
    )
    default = _validate(None, cwd=tmp_path)
    assert default.stderr == (
        "invalid config: no config file: $REDDIT_ASSETS_CONFIG is not set and the default subreddits.yaml is not "
        f"in {tmp_path}; create it, set $REDDIT_ASSETS_CONFIG, or give a path\n"
    )
    assert given.returncode == from_env.returncode == default.returncode == 1


def test_a_huge_value_is_quoted_truncated_never_whole(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(f"subreddits:\n  - {{name: python, comments: {'x' * 500_000}}}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: subreddits[0] ('python'): field 'comments': "
        "'" + "x" * 56 + "... is not 'all', 'none' or a whole number"
    )


def test_an_oversized_config_file_is_not_read(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * (2 << 20) + "\nsubreddits: [{name: python}]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: larger than 1048576 bytes; not read"
