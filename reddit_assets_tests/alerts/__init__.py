"""Tests of reddit_assets.alerts."""
