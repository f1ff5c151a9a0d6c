"""Tests of reddit_assets.files."""
