"""Tests of reddit_assets.migrate."""
