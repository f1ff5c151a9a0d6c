"""Helpers for the browser tests: headless Chromium over DevTools, the Dagster webserver."""
