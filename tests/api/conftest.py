"""API test helpers: a client that calls /api/v1/ with a bearer token, and tokens for users per role."""

from __future__ import annotations

import pytest
from api_helpers import ApiClient

from qualiflow.accounts import services as account_services


@pytest.fixture
def api(client):
    """`api(user)` -> client authenticated with a fresh token of `user`; `api()` -> no credentials."""

    def make(user=None, **headers: str) -> ApiClient:
        token = None
        if user is not None:
            _token, token = account_services.api_token_issue(user=user, name="test")
        return ApiClient(client, token, **headers)

    return make
