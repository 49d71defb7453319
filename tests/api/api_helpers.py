"""Helpers for API tests: a JSON client with bearer-token credentials, and the error-shape assertion."""

from __future__ import annotations

import json


class ApiClient:
    """Django's test client speaking JSON with `Authorization: Bearer <token>` (or no credentials)."""

    def __init__(self, client, token: str | None = None, **headers: str):
        self.client = client
        self.headers = dict(headers)
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, body=None, **params):
        kwargs = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=json.dumps(body, default=str), content_type="application/json")
        if params:
            kwargs["query_params"] = params
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path: str, **params):
        return self._call("get", path, **params)

    def post(self, path: str, body=None):
        return self._call("post", path, {} if body is None else body)

    def patch(self, path: str, body):
        return self._call("patch", path, body)

    def delete(self, path: str):
        return self._call("delete", path)


def assert_error(response, status: int, code: str) -> dict:
    """The response is our error shape with `status` and `code`; returns the body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body
