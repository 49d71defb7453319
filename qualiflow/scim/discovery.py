"""What `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` publish (RFC 7643 §5-7)."""

from __future__ import annotations

from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Meta,
    Patch,
    ServiceProviderConfig,
    Sort,
)

from qualiflow.org.models import Department

from .resources import ENTERPRISE_SCHEMA, PROVIDER


def service_provider_config(location: str, *, max_results: int) -> dict[str, Any]:
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=max_results),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        authentication_schemes=[AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="Qualiflow API token",
            description="Authorization: Bearer qf_… issued to an integration client holding integration.provision",
            primary=True,
        )],
        meta=Meta(resource_type="ServiceProviderConfig", location=location),
    )
    return config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def resource_types(base: str) -> list[dict[str, Any]]:
    found = []
    for resource_type in PROVIDER.resource_types:
        body = resource_type.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        body["meta"] = {"resourceType": "ResourceType", "location": f"{base}/{resource_type.id}"}
        found.append(body)
    return found


def schemas(base: str) -> list[dict[str, Any]]:
    """The schemas; the enterprise `department` lists the active department codes as its canonical values."""
    codes = list(Department.objects.filter(is_active=True).order_by("code").values_list("code", flat=True))
    found = []
    for schema in PROVIDER.schemas:
        body = schema.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        body["meta"] = {"resourceType": "Schema", "location": f"{base}/{schema.id}"}
        if schema.id == ENTERPRISE_SCHEMA:
            for attribute in body["attributes"]:
                if attribute["name"] == "department" and codes:
                    attribute["canonicalValues"] = codes
        found.append(body)
    return found
