"""The config file: its model, its validation, and loading it.

Every entry is checked when the definitions load; a bad one is refused with a
message that names the entry and the field, so nothing half-configured runs.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from pathlib import Path
from typing import Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from reddit_assets.strict_yaml import StrictYamlError, load_strict, short_repr

CONFIG_ENV_VAR = "REDDIT_ASSETS_CONFIG"
DEFAULT_CONFIG_FILE = "subreddits.yaml"

CATEGORY_CODES = {"h": "hot", "n": "new", "t": "top", "c": "controversial", "r": "rising", "s": "search"}
# `stream` has no code: it is not a listing to snapshot but polls that collect a whole day.
STREAM = "stream"
CATEGORIES = (*CATEGORY_CODES.values(), STREAM)
# Fields a stream entry may not give: it takes every item, so there is no count, window or query.
STREAM_REFUSED = ("n_results", "time_filter", "query")
TIME_FILTERS = ("hour", "day", "week", "month", "year", "all")
# Reddit's rule: ASCII letters, digits and underscores, at most 21; legacy names such
# as `de` have two letters. re.ASCII keeps unicode look-alikes out.
SUBREDDIT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}", re.ASCII)


MAX_CONFIG_BYTES = 1 << 20  # a config of 10,000 subreddits is about 500 KB


class ConfigError(ValueError):
    """The config file is missing or invalid; `problems` lists every mistake found, one line each."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


def is_valid_subreddit_name(name: object) -> TypeGuard[str]:
    return isinstance(name, str) and SUBREDDIT_NAME_RE.fullmatch(name) is not None


def _category(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be one of {', '.join(CATEGORIES)} or a code {', '.join(CATEGORY_CODES)}")
    value = value.strip().lower()
    value = CATEGORY_CODES.get(value, value)
    if value not in CATEGORIES:
        raise ValueError(
            f"unknown category {short_repr(value)}: use one of {', '.join(CATEGORIES)} or a code {', '.join(CATEGORY_CODES)}"
        )
    return value


def _comments(value: object) -> str | int:
    if isinstance(value, bool):
        raise ValueError("must be 'all', 'none' or a whole number")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a number of expansions must be 0 or more")
        return value
    if isinstance(value, str) and value.strip().lower() in ("all", "none"):
        return value.strip().lower()
    raise ValueError(f"{short_repr(value)} is not 'all', 'none' or a whole number")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScrapeDefaults(_Strict):
    """Values an entry takes when it does not give its own."""

    category: str = "top"
    n_results: int = Field(25, ge=1, le=1000)
    time_filter: Literal["hour", "day", "week", "month", "year", "all"] = "day"
    comments: str | int = "all"

    _check_category = field_validator("category", mode="before")(lambda v: _category(v))
    _check_comments = field_validator("comments", mode="before")(lambda v: _comments(v))


class SubredditConfig(ScrapeDefaults):
    """One subreddit to scrape every day, and how (fields it does not give come from `defaults`)."""

    name: str
    query: str | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _check_name(cls, value: object) -> str:
        if not is_valid_subreddit_name(value):
            raise ValueError(
                f"{short_repr(value)} is not a subreddit name: 2 to 21 ASCII letters, digits or underscores"
            )
        return value

    @model_validator(mode="after")
    def _search_needs_query(self) -> SubredditConfig:
        if self.category == "search" and not (self.query and self.query.strip()):
            raise ValueError("query: category 'search' needs a non-empty query")
        return self

    @model_validator(mode="after")
    def _stream_comments(self) -> SubredditConfig:
        if self.category == STREAM and self.comments not in ("all", "none"):
            raise ValueError("comments: category 'stream' takes 'all' (the comment listing) or 'none'")
        return self

    @property
    def is_stream(self) -> bool:
        return self.category == STREAM

    @property
    def comment_expansions(self) -> int | None:
        """`replace_more` limit: None expands everything; 0 none."""
        if self.comments == "all":
            return None
        if self.comments == "none":
            return 0
        return int(self.comments)

    def settings(self) -> dict:
        """The scrape settings recorded in each raw file."""
        return self.model_dump()


class Schedule(_Strict):
    cron: str = "30 23 * * *"
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        import dagster as dg  # only here: checking a file's other fields does not load Dagster

        try:  # Dagster's own rule, through its public API: a schedule refuses a cron string it cannot run
            dg.ScheduleDefinition(name="cron_check", cron_schedule=value, job_name="cron_check")
        except dg.DagsterInvalidDefinitionError:
            raise ValueError(f"{short_repr(value)} is not a valid cron string") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {short_repr(value)}") from exc
        return value


class Flags(_Strict):
    """The seed's GLOBAL_SCRAPING_CONFIG switches."""

    master_enabled: bool = True
    upload_to_r2_enabled: bool = True
    create_archives_enabled: bool = True


class SecondPass(_Strict):
    """When each day's items are fetched again (reddit/second_pass): `after_hours` after the day ends."""

    enabled: bool = True
    after_hours: float = Field(36, ge=0, le=24 * 365)

    def possible_from(self, date: dt.date, timezone: str) -> dt.datetime:
        """The moment every item of `date` (in the schedule's timezone) is at least `after_hours` old."""
        from zoneinfo import ZoneInfo

        day_end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))
        return day_end + dt.timedelta(hours=self.after_hours)


class StreamSettings(_Strict):
    """How stream subreddits are polled: every `poll_seconds`, in runs of `run_minutes`."""

    poll_seconds: float = Field(60, ge=1, le=3600)
    run_minutes: float = Field(60, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _poll_within_run(self) -> StreamSettings:
        if self.poll_seconds > self.run_minutes * 60:
            raise ValueError("poll_seconds: longer than a run (run_minutes); a run would end before its second poll")
        return self


class AppConfig(_Strict):
    """The whole config file."""

    start_date: dt.date = dt.date(2026, 1, 1)
    schedule: Schedule = Schedule()
    flags: Flags = Flags()
    defaults: ScrapeDefaults = ScrapeDefaults()
    subreddits: tuple[SubredditConfig, ...]
    second_pass: SecondPass = SecondPass()
    stream: StreamSettings = StreamSettings()

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.subreddits]

    @property
    def stream_entries(self) -> list[SubredditConfig]:
        return [s for s in self.subreddits if s.is_stream]

    def subreddit(self, name: str) -> SubredditConfig:
        for entry in self.subreddits:
            if entry.name == name:
                return entry
        raise KeyError(f"subreddit {name!r} is not in the config file")


def _suggestion(model: type[BaseModel], field: str) -> str:
    """'; did you mean 'category'?' for a near miss of one of the model's field names, else ''."""
    close = difflib.get_close_matches(field, list(model.model_fields), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel]:
    """The nested model a pydantic error location points into (`schedule.crn` -> Schedule)."""
    for part in loc[:-1]:
        annotation = model.model_fields.get(str(part))
        nested = getattr(annotation, "annotation", None)
        if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
            break
        model = nested
    return model


def _describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    field = ".".join(str(p) for p in loc) or None
    if error["type"] == "extra_forbidden":
        target = _model_at(model, loc)
        known = ", ".join(sorted(target.model_fields))
        return f"field '{field}': unknown field (known: {known}){_suggestion(target, str(loc[-1]))}"
    message = error["msg"].removeprefix("Value error, ")
    if field is None and ": " in message:  # model-level checks name their field first
        field, message = message.split(": ", 1)
    return f"field '{field}': {message}" if field else message


def _entry_label(index: int, raw: object) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"subreddits[{index}]" + (f" ({short_repr(name)})" if name is not None else "")


def _check_entries(raw_entries: list, defaults: ScrapeDefaults | None) -> tuple[list[SubredditConfig], list[str]]:
    """Every entry validated; (the good ones, one problem line per mistake in the others).

    An entry with a bad field is still checked for its other mistakes (a query or stream field
    its category refuses, a repeated name), so one run lists them all.
    """
    base = defaults.model_dump() if defaults is not None else {}
    entries: list[SubredditConfig] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_entries):
        if not isinstance(raw, dict):
            problems.append(f"subreddits[{index}]: must be a mapping with a 'name'")
            continue
        label = _entry_label(index, raw)
        entry: SubredditConfig | None = None
        found: list[str] = []
        try:
            entry = SubredditConfig.model_validate({**base, **raw})
        except ValidationError as exc:
            found.extend(f"{label}: {_describe(e, SubredditConfig)}" for e in exc.errors())
        found.extend(_category_problems(label, raw, _given_category(entry, {**base, **raw})))
        name = raw.get("name")
        if is_valid_subreddit_name(name):
            first = seen.setdefault(name.lower(), index)
            if first != index:
                found.append(
                    f"{label}: field 'name': same subreddit as "
                    f"{_entry_label(first, raw_entries[first])}; Reddit names ignore case"
                )
        problems.extend(found)
        if entry is not None and not found:
            entries.append(entry)
    return entries, problems


def _given_category(entry: SubredditConfig | None, merged: dict) -> str | None:
    """The entry's category, also when another of its fields is bad; None when it is bad itself."""
    if entry is not None:
        return entry.category
    try:
        return _category(merged.get("category", ScrapeDefaults().category))
    except ValueError:
        return None


def _category_problems(label: str, raw: dict, category: str | None) -> list[str]:
    """Fields the entry writes (not those from `defaults`) that its category refuses."""
    if category == STREAM:
        return [
            f"{label}: field '{field}': category 'stream' collects every item; it takes no {field}"
            for field in STREAM_REFUSED
            if field in raw
        ]
    if category not in (None, "search") and raw.get("query") is not None:
        return [f"{label}: field 'query': only category 'search' takes a query"]
    return []


def parse_config(data: object, *, source: str = "config") -> AppConfig:
    """Validate a parsed YAML document; ConfigError lists every mistake, each naming entry and field."""
    if not isinstance(data, dict):
        raise _config_error(source, ["the top level must be a mapping with a 'subreddits' list"])
    problems: list[str] = []
    raw_entries = data.get("subreddits")
    if not isinstance(raw_entries, list) or not raw_entries:
        problems.append("field 'subreddits' must be a non-empty list")
        raw_entries = []

    top = {k: v for k, v in data.items() if k != "subreddits"}
    defaults = None
    try:
        defaults = ScrapeDefaults.model_validate(top.get("defaults") or {})
    except ValidationError as exc:
        problems.extend(f"defaults: {_describe(e, ScrapeDefaults)}" for e in exc.errors())

    entries, entry_problems = _check_entries(raw_entries, defaults)
    problems.extend(entry_problems)

    # The top level without its lists: a placeholder entry stands in for the subreddits.
    rest = {**top, "defaults": defaults or ScrapeDefaults(), "subreddits": tuple(entries) or ({"name": "placeholder"},)}
    config = None
    try:
        config = AppConfig.model_validate(rest)
    except ValidationError as exc:
        problems.extend(_describe(e, AppConfig) for e in exc.errors())
    if problems or config is None:  # no config without problems saying why
        raise _config_error(source, problems)
    return config


def _config_error(source: str, problems: list[str]) -> ConfigError:
    if len(problems) == 1:
        return ConfigError(f"{source}: {problems[0]}", problems)
    listed = "\n".join(f"  {p}" for p in problems)
    return ConfigError(f"{source}: {len(problems)} problems:\n{listed}", problems)


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_FILE)


def _missing(path: Path, explicit: bool) -> ConfigError:
    if explicit:
        return ConfigError(f"config file {str(path)!r} not found (the path given)")
    if os.environ.get(CONFIG_ENV_VAR):
        return ConfigError(f"config file {str(path)!r} not found (from ${CONFIG_ENV_VAR})")
    return ConfigError(
        f"no config file: ${CONFIG_ENV_VAR} is not set and the default {DEFAULT_CONFIG_FILE} is not in "
        f"{Path.cwd()}; create it, set ${CONFIG_ENV_VAR}, or give a path"
    )


def read_config_text(path: Path, *, explicit: bool) -> str:
    """The file's text: at most MAX_CONFIG_BYTES of UTF-8; ConfigError says what is wrong, with the path."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise _missing(path, explicit) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes; not read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None


def load_config(path: str | os.PathLike | None = None) -> AppConfig:
    """Read and validate the config file (default: $REDDIT_ASSETS_CONFIG or ./subreddits.yaml)."""
    explicit = path is not None
    path = Path(path) if path is not None else config_path()
    text = read_config_text(path, explicit=explicit)
    try:
        data, duplicates = load_strict(text)
    except StrictYamlError as exc:
        raise ConfigError(_at_line(path, exc)) from None
    try:
        config = parse_config(data, source=str(path))
    except ConfigError as exc:
        if not duplicates:
            raise
        problems = [str(d) for d in duplicates] + exc.problems
        raise _config_error(str(path), problems) from None
    if len(duplicates) == 1:
        raise ConfigError(_at_line(path, duplicates[0]))
    if duplicates:
        raise _config_error(str(path), [str(d) for d in duplicates])
    return config


def _at_line(path: Path, exc: StrictYamlError) -> str:
    return f"{path}:{exc.line}: {exc.problem}" if exc.line else f"{path}: {exc.problem}"
