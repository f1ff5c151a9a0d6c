"""Launching and following asset backfills through a running Dagster webserver's GraphQL, as the UI does."""

from __future__ import annotations

import time

import requests

_LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}"""

_STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status runs { runId status } }
    ... on PythonError { message }
  }
}"""

FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


class DagsterApiError(RuntimeError):
    """The webserver refused or failed a request."""


def graphql(base_url: str, query: str, variables: dict, timeout: float = 60) -> dict:
    response = requests.post(f"{base_url}/graphql", json={"query": query, "variables": variables}, timeout=timeout)
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise DagsterApiError(str(body["errors"]))
    return body["data"]


def wait_until_up(base_url: str, timeout: float = 180) -> None:
    """Wait for the webserver to answer and its code locations to load."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{base_url}/server_info", timeout=5).ok:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise DagsterApiError(f"the Dagster webserver at {base_url} did not come up within {timeout:.0f} s")
        time.sleep(1)
    wait_for_code_location(base_url, max(deadline - time.monotonic(), 10))


_LOCATIONS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


def wait_for_code_location(base_url: str, timeout: float = 180) -> None:
    """Wait until every code location has loaded; raise with the load error if one failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = graphql(base_url, _LOCATIONS, {})["workspaceOrError"].get("locationEntries") or []
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            errors = [
                e["locationOrLoadError"] for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"
            ]
            if errors:
                raise DagsterApiError(f"code location failed to load: {errors[0]['message']}")
            return
        time.sleep(1)
    raise DagsterApiError(f"code locations at {base_url} did not load within {timeout:.0f} s")


def launch_asset_backfill(
    base_url: str,
    asset_paths: list[list[str]],
    partition_keys: list[str],
    title: str = "",
    run_config: dict | None = None,
) -> str:
    """Start a backfill of these assets over these partition keys; its id."""
    params = {
        "assetSelection": [{"path": path} for path in asset_paths],
        "partitionNames": partition_keys,
        "fromFailure": False,
        "title": title or None,
    }
    if run_config:
        params["runConfigData"] = run_config
    result = graphql(base_url, _LAUNCH, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise DagsterApiError(f"backfill refused ({result['__typename']}): {result.get('message')}")
    return result["backfillId"]


def backfill_status(base_url: str, backfill_id: str) -> dict:
    result = graphql(base_url, _STATUS, {"id": backfill_id})["partitionBackfillOrError"]
    if result["__typename"] != "PartitionBackfill":
        raise DagsterApiError(f"backfill {backfill_id}: {result.get('message')}")
    return result


def wait_for_backfill(base_url: str, backfill_id: str, timeout: float = 900, poll: float = 2) -> dict:
    """Poll until the backfill finishes; its final status with its runs."""
    deadline = time.monotonic() + timeout
    while True:
        status = backfill_status(base_url, backfill_id)
        if status["status"] in FINISHED:
            return status
        if time.monotonic() > deadline:
            raise DagsterApiError(f"backfill {backfill_id} still {status['status']} after {timeout:.0f} s")
        time.sleep(poll)
