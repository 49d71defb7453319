"""Bad input never produces a server error: every write operation, fed junk, answers in our error shape
(or succeeds where the junk happens to be acceptable, e.g. an empty PATCH of an organisation unit)."""

import json
import re

from api_helpers import assert_error
from django.core.files.uploadedfile import SimpleUploadedFile

from qualiflow.accounts.roles import Role
from qualiflow.imports import services as import_services


def _junk_bodies(schema: dict) -> list:
    properties = schema.get("properties", {})
    return [
        {},
        {"reason": "x"},
        {name: None for name in properties},
        {name: 12345 for name in properties},
        {name: "x" * 5000 for name in properties},
        {name: {"nested": ["x"]} for name in properties},
        {**{name: "" for name in properties}, "reason": "x"},
        {"external_refs": {"": "", "a__b": "1", "x": 1}, "reason": "x"},
        # Text no database stores (PostgreSQL refuses NUL), also inside JSON values.
        {**{name: "x\x00" for name in properties}, "reason": "x\x00"},
        {name: {"x\x00": ["\x00"]} for name in properties},
    ]


def _resolve(document: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _junk_form(body: dict, file_field: str) -> dict:
    """A junk JSON body as form fields (a form carries strings only), plus a file that is neither a document
    nor a table."""
    fields = {name: "" if value is None else value if isinstance(value, str) else json.dumps(value)
              for name, value in body.items()}
    return {**fields, file_field: SimpleUploadedFile("junk.exe", b"\x00" * 64, content_type="application/x-msdownload")}


# The only operations whose body is a form (a file travels with it), with the file's field; every other
# write takes JSON, or no body at all (its junk body is sent anyway and must be ignored).
MULTIPART_OPERATIONS = {"training_certificate_record": "scan", "imports_batch_create": "file"}


def test_junk_input_to_every_write_never_fails_on_our_side(api, make_user, plant, make_employee):
    employee = make_employee(position=plant.operator)
    admin = make_user(Role.SYSTEM_ADMIN, language="zh-hans")
    client = api(admin)
    # A source system that exists, so its mapping writes reach their checks (a source code is not an id).
    source = import_services.source_system_create(code="junk-src", name="Legacy HR", by=admin)
    document = client.client.get("/api/v1/openapi.json").json()
    checked, multipart = 0, set()
    for path, methods in document["paths"].items():
        url = path.removeprefix("/api/v1").replace("{employee_id}", str(employee.pk)).replace(
            "{unit_id}", str(plant.line_a.pk)).replace("{target_kind}/{target}", f"position/{plant.operator.pk}").replace(
            "{code}", source.code).replace("{kind}", "employees")
        # Any other record id: a well-formed id of no such record (the employee's).
        url = re.sub(r"\{\w+_id\}", str(employee.pk), url)
        for method, operation in methods.items():
            if method not in ("post", "patch", "put"):
                continue
            if "requestBody" in operation:
                (content_type, media), = operation["requestBody"]["content"].items()
                schema = _resolve(document, media["schema"])
            else:
                content_type, schema = "application/json", {}
            if content_type == "multipart/form-data":
                multipart.add(operation["operationId"])
            else:
                assert content_type == "application/json", (method, path)
            for body in _junk_bodies(schema):
                if content_type == "multipart/form-data":
                    form = _junk_form(body, MULTIPART_OPERATIONS[operation["operationId"]])
                    response = client.client.post(f"/api/v1{url}", form, headers=client.headers)
                else:
                    response = client._call(method, url, body)
                assert response.status_code < 500, (method, path, body, response.content)
                if response.status_code >= 400:
                    assert set(response.json()) == {"code", "message", "details"}
                    assert response["Content-Language"] == "zh-hans"
                checked += 1
    assert multipart == set(MULTIPART_OPERATIONS)
    # 18 organisation writes, 4 employee writes, token issue, 3 document writes, 8 training catalogue writes,
    # 11 training loop writes (the certificate upload included) and the reconciliation; 9 production catalogue
    # writes, 6 work-order writes (create and 5 transitions), track-in and track-out, 9 equipment writes and
    # 2 quality event writes; 4 integration writes (webhook create, update, deactivate, redeliver), 5 automation
    # writes (rule create, update, activate, deactivate and the dry run) and 7 import writes (upload, commit,
    # rollback, source create and rename, column and value mapping).
    assert checked == 10 * 90


def test_junk_query_parameters_give_4xx(api, admin_user):
    client = api(admin_user)
    for path in ("/employees", "/org/sites", "/audit/entries", "/tokens"):
        for params in ({"limit": "-1"}, {"offset": "x"}, {"limit": "100000"}, {"site_id": "nope", "is_active": "maybe"}):
            response = client.get(path, **params)
            if response.status_code != 200:  # parameters a path does not know are ignored
                assert_error(response, 422, "core.validation")
