"""The config file: the seed's entries pass, every bad entry is refused by name and field."""

import pytest

from reddit_assets.config import ConfigError, load_config, parse_config


def _parse(*entries, **top):
    return parse_config({"subreddits": list(entries), **top})


def test_seed_entries_are_valid_as_written():
    config = _parse({"name": "CreditCardsIndia", "category": "t", "n_results": 25})
    entry = config.subreddits[0]
    assert (entry.name, entry.category, entry.n_results) == ("CreditCardsIndia", "top", 25)
    assert entry.comments == "all" and entry.comment_expansions is None


@pytest.mark.parametrize(
    "code,category", [("h", "hot"), ("n", "new"), ("t", "top"), ("c", "controversial"), ("r", "rising")]
)
def test_one_letter_codes(code, category):
    assert _parse({"name": "abc", "category": code}).subreddits[0].category == category


def test_defaults_apply_and_entries_override():
    config = _parse(
        {"name": "abc"},
        {"name": "de", "comments": 10},
        defaults={"category": "hot", "n_results": 7, "comments": "none"},
    )
    assert [(s.category, s.n_results, s.comments) for s in config.subreddits] == [("hot", 7, "none"), ("hot", 7, 10)]
    assert config.subreddits[1].comment_expansions == 10
    assert config.subreddits[0].comment_expansions == 0


def test_repository_config_file_loads():
    config = load_config("subreddits.yaml")
    assert config.names == ["CreditCardsIndia", "dataengineering", "python"]
    assert config.schedule.cron == "30 23 * * *"


@pytest.mark.parametrize(
    "entry,field",
    [
        ({"name": "abc", "category": "best"}, "category"),
        ({"name": "abc", "n_results": 0}, "n_results"),
        ({"name": "abc", "n_results": 1001}, "n_results"),
        ({"name": "abc", "category": "search"}, "query"),
        ({"name": "abc", "category": "s", "query": "  "}, "query"),
        ({"name": "abc", "query": "x"}, "query"),
        ({"name": "abc", "time_filter": "decade"}, "time_filter"),
        ({"name": "abc", "comments": "many"}, "comments"),
        ({"name": "abc", "comments": -1}, "comments"),
        ({"name": "abc", "colour": "red"}, "colour"),
        ({"name": "../etc"}, "name"),
        ({"name": "a/b"}, "name"),
        ({"name": "x'; DROP TABLE reddit_submissions;--"}, "name"),
        ({"name": "pythοn"}, "name"),  # Greek omicron
        ({"name": "py\nthon"}, "name"),
        ({"name": "python\n"}, "name"),
        ({"name": "a"}, "name"),
        ({"name": "a" * 22}, "name"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_entry_is_refused_naming_entry_and_field(entry, field):
    with pytest.raises(ConfigError) as info:
        _parse({"name": "first_ok"}, entry)
    message = str(info.value)
    assert "subreddits[1]" in message
    assert f"field '{field}'" in message


def test_two_letter_and_21_letter_names_are_valid():
    assert _parse({"name": "de"}, {"name": "a" * 21}).names == ["de", "a" * 21]


def test_names_differing_only_in_case_are_refused():
    with pytest.raises(ConfigError, match=r"subreddits\[1\] \('python'\): field 'name'.*subreddits\[0\] \('Python'\)"):
        _parse({"name": "Python"}, {"name": "python"})


def test_an_entry_with_a_bad_field_is_still_checked_for_its_other_mistakes():
    with pytest.raises(ConfigError) as info:
        _parse(
            {"name": "python", "category": "best"},
            {"name": "rust", "n_results": 0, "query": "q"},
            {"name": "Python"},
            {"name": "go", "category": "stream", "comments": 3, "time_filter": "decade"},
        )
    assert info.value.problems == [
        "subreddits[0] ('python'): field 'category': unknown category 'best': use one of hot, new, top, "
        "controversial, rising, search, stream or a code h, n, t, c, r, s",
        "subreddits[1] ('rust'): field 'n_results': Input should be greater than or equal to 1",
        "subreddits[1] ('rust'): field 'query': only category 'search' takes a query",
        "subreddits[2] ('Python'): field 'name': same subreddit as subreddits[0] ('python'); Reddit names ignore case",
        "subreddits[3] ('go'): field 'time_filter': Input should be 'hour', 'day', 'week', 'month', 'year' or 'all'",
        "subreddits[3] ('go'): field 'time_filter': category 'stream' collects every item; it takes no time_filter",
    ]


@pytest.mark.parametrize(
    "top,field",
    [
        ({"schedule": {"cron": "every day"}}, "schedule.cron"),
        ({"schedule": {"timezone": "Mars/Olympus"}}, "schedule.timezone"),
        ({"flags": {"master_enabled": "perhaps"}}, "flags.master_enabled"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"unknown_key": 1}, "unknown_key"),
    ],
)
def test_bad_top_level_field_is_named(top, field):
    with pytest.raises(ConfigError, match=f"field '{field}'"):
        _parse({"name": "abc"}, **top)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("subreddits: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="'subreddits' must be a non-empty list"):
        parse_config({"subreddits": []})
