"""The OpenAPI document matches what the API answers: schemathesis, in-process against the Django app over a
seeded demo plant, calls every read operation with generated input (real record ids and well-formed ids of
no record) and checks that nothing fails on our side and every answer is a documented status, media type
and body. The full run over every operation is `.ci/schemathesis`, against the real server."""

from __future__ import annotations

import pytest
import schemathesis
from django.apps import apps
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis import checks
from schemathesis.core.failures import FailureGroup

from qualiflow.accounts import services as account_services
from qualiflow.accounts.models import User
from qualiflow.api.main import api
from qualiflow.demo import seeding

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 6

# Path parameter -> the model whose records it names, by the path segment before it where one name means
# different records in different places (`record_id` is a training or an equipment record).
RECORD_MODELS = {
    "employee_id": "people.Employee",
    "token_id": "accounts.ApiToken",
    "document_id": "documents.Document",
    "qualification_id": "training.Qualification",
    "course_id": "training.Course",
    "curriculum_id": "training.Curriculum",
    "session_id": "training.TrainingSession",
    "check_id": "training.EffectivenessCheck",
    "assignment_id": "training.TrainingAssignment",
    "equipment_id": "equipment.Equipment",
    "plan_id": "equipment.EquipmentPlan",
    "class_id": "equipment.EquipmentClass",
    "event_id": "quality.QualityEvent",
    "product_id": "production.Product",
    "routing_id": "production.Routing",
    "operation_id": "production.Operation",
    "work_order_id": "production.WorkOrder",
    "run_id": "production.OperationRun",
    "refusal_id": "production.GateRefusal",
    "export_id": "production.DhrExport",
    ("training", "record_id"): "training.TrainingRecord",
    ("equipment", "record_id"): "equipment.EquipmentRecord",
    ("calibration-impact", "record_id"): "equipment.EquipmentRecord",
    ("companies", "unit_id"): "org.Company",
    ("sites", "unit_id"): "org.Site",
    ("departments", "unit_id"): "org.Department",
    ("lines", "unit_id"): "org.ProductionLine",
    ("work-centers", "unit_id"): "org.WorkCenter",
    ("positions", "unit_id"): "org.Position",
}


def _model_for(path: str, name: str):
    segments = path.removeprefix("/api/v1/").split("/")
    for segment in segments:
        if (segment, name) in RECORD_MODELS:
            return apps.get_model(RECORD_MODELS[segment, name])
    label = RECORD_MODELS.get(name)
    return apps.get_model(label) if label else None


def _known_ids(operation) -> dict[str, str]:
    """Real ids for the path parameters this plant has records for (the first few of each kind)."""
    ids = {}
    for parameter in operation.iter_parameters():
        if parameter.location != "path":
            continue
        model = _model_for(operation.path, parameter.name)
        if model is not None:
            first = list(model._default_manager.order_by("pk").values_list("pk", flat=True)[:1])
            if first:
                ids[parameter.name] = str(first[0])
    return ids


def _schema_names(model, names: dict[str, type[BaseModel]], clashes: set[str]) -> None:
    if isinstance(model, type) and issubclass(model, BaseModel):
        seen = names.setdefault(model.__name__, model)
        if seen is not model and seen.model_json_schema() != model.model_json_schema():
            clashes.add(f"{model.__name__}: {seen.__module__} and {model.__module__}")
        for field in model.model_fields.values():
            _schema_names(field.annotation, names, clashes)
        return
    for argument in getattr(model, "__args__", ()):
        _schema_names(argument, names, clashes)


def test_every_schema_name_stands_for_one_shape():
    """The document keeps one component per class name: two different schemas with one name would make
    the document describe one of them wrongly."""
    names: dict[str, type[BaseModel]] = {}
    clashes: set[str] = set()
    for router in api._get_bound_routers():
        for view in router.path_operations.values():
            for operation in view.operations:
                for model in operation.response_models.values():
                    # ninja wraps each response in a model named NinjaResponseSchema; the named shapes are inside.
                    if model is not None:
                        _schema_names(model.model_fields["response"].annotation, names, clashes)
                for params in operation.models:
                    for field in params.model_fields.values():
                        _schema_names(field.annotation, names, clashes)
    assert sorted(clashes) == []


@pytest.fixture
def wsgi_app():
    """The Django app as the server runs it, except that a request does not close the database connection
    (it holds the test's transaction), as in Django's own test client."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
def test_read_operations_answer_as_documented(wsgi_app):
    seeding.seed_plant(seed=13485, employees=43, today=timezone.localdate())
    _token, secret = account_services.api_token_issue(user=User.objects.get(username="admin"), name="conformance")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)

    failures, checked = [], 0
    for result in schema.include(method="GET").get_all_operations():
        operation = result.ok()
        known = _known_ids(operation)
        strategy = operation.as_strategy()
        if known:
            strategy = st.one_of(operation.as_strategy(path_parameters=known), strategy)

        @settings(
            max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
            phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            call()
        except (AssertionError, FailureGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
        checked += 1
    assert failures == []
    assert checked == sum("get" in methods for methods in schema.raw_schema["paths"].values())
