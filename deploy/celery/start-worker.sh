#!/bin/sh
# Start one Dagster Celery worker for reddit_assets (REDDIT_ASSETS_EXECUTOR=celery).
# Needs the same environment as the runs (REDDIT_*, DATABASE_URL, R2_*, DAGSTER_HOME with
# the production dagster.yaml, REDDIT_ASSETS_DATA_DIR) plus CELERY_BROKER_URL and
# CELERY_BACKEND_URL. CELERY_WORKER_CONCURRENCY: processes (default: 2).
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
root=$(dirname -- "$(dirname -- "$here")")
venv=${REDDIT_ASSETS_VENV:-$root/.venv}
: "${CELERY_BROKER_URL:?set CELERY_BROKER_URL}" "${CELERY_BACKEND_URL:?set CELERY_BACKEND_URL}" "${DAGSTER_HOME:?set DAGSTER_HOME}"
# dagster-celery starts `celery` from PATH.
PATH="$venv/bin:$PATH"
export PATH
exec dagster-celery worker start -A dagster_celery.app -y "$here/worker.yaml" \
    -n "${CELERY_WORKER_NAME:-reddit-assets}" -i reddit_assets.definitions -l INFO \
    -- --concurrency="${CELERY_WORKER_CONCURRENCY:-2}"
