"""The config file: its model, its validation, and loading it.

Every entry is checked when the definitions load; a bad one is refused with a
message that names the entry and the field, so nothing half-configured runs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_ENV_VAR = "REDDIT_ASSETS_CONFIG"
DEFAULT_CONFIG_FILE = "subreddits.yaml"

CATEGORY_CODES = {"h": "hot", "n": "new", "t": "top", "c": "controversial", "r": "rising", "s": "search"}
CATEGORIES = tuple(CATEGORY_CODES.values())
TIME_FILTERS = ("hour", "day", "week", "month", "year", "all")
# Reddit's rule: ASCII letters, digits and underscores, at most 21; legacy names such
# as `de` have two letters. re.ASCII keeps unicode look-alikes out.
SUBREDDIT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}", re.ASCII)


class ConfigError(ValueError):
    """The config file is missing or one of its entries is invalid."""


def is_valid_subreddit_name(name: object) -> bool:
    return isinstance(name, str) and SUBREDDIT_NAME_RE.fullmatch(name) is not None


def _category(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be one of {', '.join(CATEGORIES)} or a code {', '.join(CATEGORY_CODES)}")
    value = value.strip().lower()
    value = CATEGORY_CODES.get(value, value)
    if value not in CATEGORIES:
        raise ValueError(
            f"unknown category {value!r}: use one of {', '.join(CATEGORIES)} or a code {', '.join(CATEGORY_CODES)}"
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
    raise ValueError(f"{value!r} is not 'all', 'none' or a whole number")


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
            raise ValueError(f"{value!r} is not a subreddit name: 2 to 21 ASCII letters, digits or underscores")
        return value  # type: ignore[return-value]

    @model_validator(mode="after")
    def _search_needs_query(self) -> SubredditConfig:
        if self.category == "search" and not (self.query and self.query.strip()):
            raise ValueError("query: category 'search' needs a non-empty query")
        return self

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
            raise ValueError(f"{value!r} is not a valid cron string") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
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


class AppConfig(_Strict):
    """The whole config file."""

    start_date: dt.date = dt.date(2026, 1, 1)
    schedule: Schedule = Schedule()
    flags: Flags = Flags()
    defaults: ScrapeDefaults = ScrapeDefaults()
    subreddits: tuple[SubredditConfig, ...]
    second_pass: SecondPass = SecondPass()

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.subreddits]

    def subreddit(self, name: str) -> SubredditConfig:
        for entry in self.subreddits:
            if entry.name == name:
                return entry
        raise KeyError(f"subreddit {name!r} is not in the config file")


def _describe(error: dict) -> str:
    field = ".".join(str(p) for p in error["loc"]) or None
    message = error["msg"].removeprefix("Value error, ")
    if field is None and ": " in message:  # model-level checks name their field first
        field, message = message.split(": ", 1)
    return f"field '{field}': {message}" if field else message


def _entry_error(index: int, raw: object, exc: ValidationError) -> ConfigError:
    name = raw.get("name") if isinstance(raw, dict) else None
    label = f"subreddits[{index}]" + (f" ({name!r})" if name is not None else "")
    details = "; ".join(_describe(e) for e in exc.errors())
    return ConfigError(f"{label}: {details}")


def parse_config(data: object, *, source: str = "config") -> AppConfig:
    """Validate a parsed YAML document; raise ConfigError naming entry and field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with a 'subreddits' list")
    raw_entries = data.get("subreddits")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise ConfigError(f"{source}: field 'subreddits' must be a non-empty list")

    top = {k: v for k, v in data.items() if k != "subreddits"}
    try:
        defaults = ScrapeDefaults.model_validate(top.get("defaults") or {})
    except ValidationError as exc:
        raise ConfigError(f"{source}: defaults: " + "; ".join(_describe(e) for e in exc.errors())) from None

    entries: list[SubredditConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_entries):
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: subreddits[{index}]: must be a mapping with a 'name'")
        try:
            entry = SubredditConfig.model_validate({**defaults.model_dump(), **raw})
        except ValidationError as exc:
            raise ConfigError(f"{source}: {_entry_error(index, raw, exc)}") from None
        if entry.category != "search" and entry.query is not None:
            raise ConfigError(
                f"{source}: subreddits[{index}] ({entry.name!r}): field 'query': only category 'search' takes a query"
            )
        folded = entry.name.lower()
        if folded in seen:
            raise ConfigError(
                f"{source}: subreddits[{index}] ({entry.name!r}): field 'name': same subreddit as "
                f"subreddits[{seen[folded]}] ({raw_entries[seen[folded]]['name']!r}); Reddit names ignore case"
            )
        seen[folded] = index
        entries.append(entry)

    try:
        return AppConfig.model_validate({**top, "defaults": defaults, "subreddits": tuple(entries)})
    except ValidationError as exc:
        raise ConfigError(f"{source}: " + "; ".join(_describe(e) for e in exc.errors())) from None


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_FILE)


def load_config(path: str | os.PathLike | None = None) -> AppConfig:
    """Read and validate the config file (default: $REDDIT_ASSETS_CONFIG or ./subreddits.yaml)."""
    path = Path(path) if path is not None else config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {str(path)!r} not found: set {CONFIG_ENV_VAR} or create {DEFAULT_CONFIG_FILE}"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, source=str(path))
