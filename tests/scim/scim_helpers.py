"""What the SCIM tests share: an integration client's token, request helpers, and a scim2-client engine
that talks HTTP to a live server with the standard library (module of its own, imported by name)."""

from __future__ import annotations

import http.client
import json
from typing import Any
from wsgiref.headers import Headers

from scim2_client import BaseSyncSCIMClient
from scim2_client.engines.inprocess import (
    InProcessResponse,
    _check_base_url,
    _prepare_request,
    _stays_under_base_url,
)

from qualiflow.accounts import services as account_services
from qualiflow.accounts.roles import Role

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"


def integration_token(*, username: str = "idp", role: str | None = Role.INTEGRATION) -> tuple[Any, str]:
    client = account_services.user_create(username=username, password=None, is_integration=True, language="en")
    if role is not None:
        account_services.role_assign(user=client, role=role)
    _token, secret = account_services.api_token_issue(user=client, name="identity provider")
    return client, secret


def user_body(user_name: str = "wang.fang", *, number: str = "S0001", department: str = "SZ-ASM", **extra) -> dict:
    body = {
        "schemas": [USER, ENTERPRISE],
        "userName": user_name,
        "name": {"familyName": "王", "givenName": "芳"},
        "active": True,
        "emails": [{"value": f"{user_name}@example.com", "type": "work", "primary": True}],
        ENTERPRISE: {"employeeNumber": number, "department": department},
    }
    body.update(extra)
    return body


class Scim:
    """Django test-client calls with the token and the SCIM media type."""

    def __init__(self, client, secret: str) -> None:
        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def get(self, path: str, **params):
        return self.client.get(f"/scim/v2/{path}", params, **self.auth)

    def send(self, method: str, path: str, body: Any, **headers):
        data = json.dumps(body) if not isinstance(body, str) else body
        return getattr(self.client, method)(
            f"/scim/v2/{path}", data=data, content_type=SCIM_JSON, **self.auth, **headers
        )

    def delete(self, path: str, **headers):
        return self.client.delete(f"/scim/v2/{path}", **self.auth, **headers)


class LiveSCIMClient(BaseSyncSCIMClient):
    """scim2-client over real HTTP (http.client) to a running server, like its httpx engine."""

    def __init__(self, base_url: str, headers: dict[str, str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = _check_base_url(base_url)
        self.headers = headers

    def _stays_under_base_url(self, endpoint: str) -> bool:
        return _stays_under_base_url(self.base_url, endpoint)

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> InProcessResponse:
        prepared = _prepare_request(self.base_url, self.headers, method, url, **kwargs)
        target = prepared.url
        path = target.path + (f"?{target.query}" if target.query else "")
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            connection.request(prepared.method, path, body=prepared.body or None,
                               headers={name: value for name, value in prepared.headers if name.lower() != "host"})
            raw = connection.getresponse()
            return InProcessResponse(status_code=raw.status, headers=Headers(list(raw.getheaders())),
                                     content=raw.read())
        finally:
            connection.close()
