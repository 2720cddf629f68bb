"""Test suite of the titanic package."""
