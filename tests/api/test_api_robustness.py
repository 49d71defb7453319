"""Bad input never produces a server error: every write operation, fed junk, answers in our error shape
(or succeeds where the junk happens to be acceptable, e.g. an empty PATCH of an organisation unit)."""

from api_helpers import assert_error

from qualiflow.accounts.roles import Role


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
    ]


def _resolve(document: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_junk_input_to_every_write_never_fails_on_our_side(api, make_user, plant, make_employee):
    employee = make_employee(position=plant.operator)
    client = api(make_user(Role.SYSTEM_ADMIN, language="zh-hans"))
    document = client.client.get("/api/v1/openapi.json").json()
    checked = 0
    for path, methods in document["paths"].items():
        url = path.removeprefix("/api/v1").replace("{employee_id}", str(employee.pk)).replace(
            "{unit_id}", str(plant.line_a.pk)).replace("{token_id}", str(employee.pk))
        for method, operation in methods.items():
            if method not in ("post", "patch"):
                continue
            body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
            for body in _junk_bodies(_resolve(document, body_schema)):
                response = client._call(method, url, body)
                assert response.status_code < 500, (method, path, body, response.content)
                if response.status_code >= 400:
                    assert set(response.json()) == {"code", "message", "details"}
                    assert response["Content-Language"] == "zh-hans"
                checked += 1
    assert checked == 8 * 23  # 18 organisation writes, 4 employee writes, token issue


def test_junk_query_parameters_give_4xx(api, admin_user):
    client = api(admin_user)
    for path in ("/employees", "/org/sites", "/audit/entries", "/tokens"):
        for params in ({"limit": "-1"}, {"offset": "x"}, {"limit": "100000"}, {"site_id": "nope", "is_active": "maybe"}):
            response = client.get(path, **params)
            if response.status_code != 200:  # parameters a path does not know are ignored
                assert_error(response, 422, "core.validation")
