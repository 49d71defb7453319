"""The password the shared fixtures give every user (tests/conftest.py)."""

PASSWORD = "Correct-Horse-42"
