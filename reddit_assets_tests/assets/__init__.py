"""Tests of reddit_assets.assets."""
