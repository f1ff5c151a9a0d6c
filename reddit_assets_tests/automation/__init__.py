"""Tests of reddit_assets.automation."""
