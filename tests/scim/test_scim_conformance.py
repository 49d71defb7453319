"""scim2-tester, the SCIM conformance checker, run against a live Qualiflow server."""

from __future__ import annotations

import pytest
from scim2_tester import Status, check_server
from scim_helpers import LiveSCIMClient, integration_token

from qualiflow.org import services as org_services
from qualiflow.org.models import Company, Department, Site

FAILED = {Status.ERROR, Status.CRITICAL}


@pytest.fixture
def departments(audit_rows_cleared_at_teardown):
    create = org_services.org_unit_create
    company = create(model=Company, data={"code": "QF", "name": "示例医疗器械有限公司"})
    site = create(model=Site, data={"code": "SZ", "name": "苏州工厂", "company": company})
    return [create(model=Department, data={"code": code, "name": name, "site": site})
            for code, name in (("SZ-ASM", "洁净组装车间"), ("SZ-IM", "注塑车间"))]


def test_scim2_tester_passes(live_server, departments):
    _client, secret = integration_token()
    scim = LiveSCIMClient(f"{live_server.url}/scim/v2", headers={"Authorization": f"Bearer {secret}"})

    results = check_server(scim)

    failed = [result for result in results if result.status in FAILED]
    report = "\n".join(f"{r.resource_type or '-'} {r.title}: {r.reason}\n    {r.data!r}"[:2000] for r in failed)
    skipped = [f"{r.resource_type or '-'} {r.title}: {r.reason}" for r in results if r.status == Status.SKIPPED]
    print(f"scim2-tester: {len(results)} checks, {len(failed)} failed, skipped: {skipped}")
    assert not failed, f"{len(failed)} of {len(results)} checks failed:\n{report}"
    titles = {result.title for result in results if result.status == Status.SUCCESS}
    assert {"object_creation", "object_query", "object_replacement", "object_deletion", "check_add_attribute",
            "check_remove_attribute", "check_replace_attribute", "random_url"} <= titles
