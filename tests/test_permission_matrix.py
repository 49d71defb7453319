"""Permission matrix: every role against every page and every API operation, and the line scope.

The expected tables below are written out by hand (from DESIGN.md §5 and the role descriptions), not
computed from `ROLE_PERMISSIONS`: a change to a role, or a page / operation without a row, fails here.

One plant, one user (and API token) per role and the target records are built once for the module inside
an outer transaction; each test runs in a savepoint of it (pytest-django's `db`) and is rolled back.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from qualiflow.accounts import services as account_services
from qualiflow.accounts.models import ApiToken, ESignature, Notification, User
from qualiflow.accounts.roles import Role, ScopeKind
from qualiflow.audit.models import AuditEntry
from qualiflow.automation import engine as automation_engine
from qualiflow.automation import services as automation_services
from qualiflow.automation.models import AutomationRule, RuleFiring
from qualiflow.documents import services as document_services
from qualiflow.documents.models import Document, DocumentRevision
from qualiflow.equipment import services as equipment_services
from qualiflow.equipment.models import Equipment, EquipmentClass, EquipmentPlan, EquipmentRecord
from qualiflow.imports import services as import_services
from qualiflow.imports.models import ColumnMapping, ImportBatch, ImportRowError, SourceSystem, ValueMapping
from qualiflow.integration import dispatch
from qualiflow.integration import services as integration_services
from qualiflow.integration.models import Delivery, DeliveryStatus, OutboxEvent, Webhook
from qualiflow.org import services as org_services
from qualiflow.org.models import Company, Department, Position, ProductionLine, Site, WorkCenter
from qualiflow.people import services as people_services
from qualiflow.people.models import Employee, PositionAssignment
from qualiflow.production.models import (
    DhrExport,
    GateRefusal,
    Operation,
    OperationRun,
    Product,
    Routing,
    WorkOrder,
    WorkOrderOperation,
)
from qualiflow.production.services import catalogue as production_catalogue
from qualiflow.production.services import dhr as dhr_services
from qualiflow.production.services import orders as order_services
from qualiflow.production.services import station as station_services
from qualiflow.quality import services as quality_services
from qualiflow.quality.models import QualityEvent
from qualiflow.scim import services as scim_services
from qualiflow.scim.domain.mapping import GroupState
from qualiflow.scim.models import ScimAccount, ScimGroup, ScimGroupMembership
from qualiflow.shell.navigation import DOMAINS
from qualiflow.training import services as training_services
from qualiflow.training.models import (
    Attendance,
    Certificate,
    Course,
    Curriculum,
    EffectivenessCheck,
    Qualification,
    QualificationGrant,
    Requirement,
    TrainingAssignment,
    TrainingRecord,
    TrainingSession,
)
from qualiflow.training.services import catalogue as catalogue_services
from qualiflow.training.services import loop as loop_services

PASSWORD = "Correct-Horse-42"
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ANONYMOUS = "anonymous"
ROLES = (
    "system_admin", "hr_admin", "training_coordinator", "production_supervisor", "operator", "qa",
    "maintenance", "auditor", "integration",
)
CALLERS = (*ROLES, ANONYMOUS)


def test_the_matrix_knows_every_role():
    assert set(ROLES) == set(Role.values)


# --------------------------------------------------------------------------------------------------------
# The expected tables
# --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """Who is let through. Everyone else is refused: 403 when signed in (401 / 403 on the API), the login
    redirect for an anonymous page request, 401 for an API call without credentials."""

    allowed: frozenset[str]
    ok: int = 200  # the status an allowed caller gets
    ok_when_signed_in: int | None = None  # when it differs for a signed-in caller (the login page)
    hidden: frozenset[str] = frozenset()  # signed-in callers answered 404: the record is not theirs to see
    refused_on_form: frozenset[str] = frozenset()  # 200, the service's refusal shown on the form
    writes: bool = False  # an allowed call changes data (an audit entry appears, or see `written`)
    # Where an allowed write shows: "audit" (an entry appears), or for records kept outside the audit trail
    # (webhooks, deliveries, import batches) the key of their rows in `state()`, which must change.
    written: str = "audit"
    # The form (context name) and its errors a `refused_on_form` caller sees.
    form_errors: tuple[str, dict] = ("sign_form", {"__all__": ["You are not allowed to sign records."]})
    # API callers ("role" or "role/auth") answered otherwise than plainly refused: (caller, status, error code).
    answers: tuple[tuple[str, int, str], ...] = ()


def expect(allowed, **kwargs) -> Expect:
    return Expect(frozenset(allowed), **{k: frozenset(v) if isinstance(v, set) else v for k, v in kwargs.items()})


# The integration client has no usable password (API tokens only): the login form refuses it, so in the
# UI it is never signed in and is treated as anonymous (see the accounts:login POST row).
UI_SIGNED_IN = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "operator", "qa",
                "maintenance", "auditor"}
UI_ORG_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa",
                  "maintenance", "auditor"}
UI_ORG_MANAGERS = {"system_admin", "hr_admin"}
UI_PEOPLE_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa",
                     "maintenance", "auditor"}
# The line supervisor manages the employees of line A, where the target employee works.
UI_PEOPLE_MANAGERS = {"system_admin", "hr_admin", "production_supervisor"}
UI_SIGNERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa", "maintenance"}
UI_AUDIT_READERS = {"system_admin", "hr_admin", "qa", "auditor"}
UI_AUDIT_EXPORTERS = {"system_admin", "qa", "auditor"}
EVERYONE = set(CALLERS)
UI_TRAINING_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa", "auditor"}
UI_TRAINING_MANAGERS = {"system_admin", "hr_admin", "training_coordinator"}
UI_NO_TRAINING_VIEW = {"operator", "maintenance"}
UI_EVALUATORS = {"system_admin", "hr_admin", "training_coordinator", "maintenance"}
UI_DOCUMENT_MANAGERS = {"system_admin", "qa"}
# An operator holds no people.view: an employee record (not their own) is a 404, like a record of another line.
NOT_VISIBLE = {"operator"}

# Production (the supervisor's role assignment is scoped to line A, where every production record here is).
UI_PRODUCTION_READERS = {"system_admin", "production_supervisor", "qa", "auditor"}
UI_PRODUCTION_MANAGERS = {"system_admin", "production_supervisor"}
UI_PRODUCTION_EXECUTORS = {"system_admin", "production_supervisor", "operator"}
UI_PRODUCTION_OVERRIDERS = {"system_admin", "production_supervisor"}
UI_PRODUCTION_EXPORTERS = {"system_admin", "production_supervisor", "qa"}
UI_EQUIPMENT_READERS = {"system_admin", "production_supervisor", "qa", "maintenance", "auditor"}
UI_EQUIPMENT_MANAGERS = {"system_admin", "maintenance"}
UI_EQUIPMENT_SERVICERS = {"system_admin", "maintenance"}
UI_QUALITY_READERS = {"system_admin", "production_supervisor", "qa", "auditor"}
UI_QUALITY_MANAGERS = {"system_admin", "qa"}
UI_QUALITY_APPROVERS = {"system_admin", "qa"}
# The integration hub: integration.view (webhooks, deliveries, events, rules, firings, import batches) is held by
# both administrators and the auditor, integration.manage (webhooks, rules, redelivery) by the system
# administrator only, integration.import (imports, source systems and mappings) by both administrators.
UI_INTEGRATION_READERS = {"system_admin", "hr_admin", "auditor"}
UI_INTEGRATION_MANAGERS = {"system_admin"}
UI_IMPORTERS = {"system_admin", "hr_admin"}

# (URL name, method) -> expectation. Org pages are generic over the kind of unit; they are exercised with
# production lines.
UI_TABLE: dict[tuple[str, str], Expect] = {
    ("shell:home", "GET"): expect(UI_SIGNED_IN),
    ("shell:coming", "GET"): expect(UI_SIGNED_IN),
    ("accounts:login", "GET"): expect(EVERYONE, ok_when_signed_in=302),
    # The role is whose credentials are posted (from a fresh, anonymous client); anonymous posts a stranger's.
    ("accounts:login", "POST"): expect(UI_SIGNED_IN, ok=302, refused_on_form={"integration", ANONYMOUS}),
    ("accounts:logout", "POST"): expect(EVERYONE, ok=302),
    ("accounts:language", "POST"): expect(EVERYONE, ok=302),
    ("org:overview", "GET"): expect(UI_ORG_READERS),
    ("org:unit_list", "GET"): expect(UI_ORG_READERS),
    ("org:unit_detail", "GET"): expect(UI_ORG_READERS),
    ("org:unit_create", "GET"): expect(UI_ORG_MANAGERS),
    ("org:unit_create", "POST"): expect(UI_ORG_MANAGERS, ok=302, writes=True),
    ("org:unit_edit", "GET"): expect(UI_ORG_MANAGERS),
    ("org:unit_edit", "POST"): expect(UI_ORG_MANAGERS, ok=302, writes=True),
    ("org:unit_deactivate", "GET"): expect(UI_ORG_MANAGERS),
    ("org:unit_deactivate", "POST"): expect(UI_ORG_MANAGERS, ok=302, writes=True),
    ("people:employee_list", "GET"): expect(UI_PEOPLE_READERS),
    ("people:employee_export", "GET"): expect(UI_PEOPLE_READERS),
    ("people:employee_detail", "GET"): expect(UI_PEOPLE_READERS, hidden=NOT_VISIBLE),
    ("people:employee_create", "GET"): expect(UI_PEOPLE_MANAGERS),
    ("people:employee_create", "POST"): expect(UI_PEOPLE_MANAGERS, ok=302, writes=True),
    ("people:employee_edit", "GET"): expect(UI_PEOPLE_MANAGERS, hidden=NOT_VISIBLE),
    ("people:employee_edit", "POST"): expect(UI_PEOPLE_MANAGERS, ok=302, hidden=NOT_VISIBLE, writes=True),
    ("people:employee_deactivate", "GET"): expect(UI_PEOPLE_MANAGERS, hidden=NOT_VISIBLE),
    ("people:employee_deactivate", "POST"): expect(UI_PEOPLE_MANAGERS, ok=302, hidden=NOT_VISIBLE, writes=True),
    ("people:employee_change_position", "GET"): expect(UI_PEOPLE_MANAGERS, hidden=NOT_VISIBLE),
    ("people:employee_change_position", "POST"): expect(UI_PEOPLE_MANAGERS, ok=302, hidden=NOT_VISIBLE,
                                                        writes=True),
    # The signing service refuses a role without accounts.esign; the page shows that on the form.
    ("people:employee_sign", "POST"): expect(UI_SIGNERS, ok=302, hidden=NOT_VISIBLE, refused_on_form={"auditor"},
                                             writes=True),
    ("audit:entry_list", "GET"): expect(UI_AUDIT_READERS),
    ("audit:entry_export", "GET"): expect(UI_AUDIT_EXPORTERS),
    ("audit:object_history", "GET"): expect(UI_AUDIT_READERS),
    ("audit:verify", "GET"): expect(UI_AUDIT_READERS),
    ("audit:verify", "POST"): expect(UI_AUDIT_READERS),  # re-hashes the chain; writes nothing
    ("audit:trace", "GET"): expect(UI_AUDIT_READERS),
    # Notifications: everyone signed in reads and clears their own (nobody else's: see test_notifications_*).
    ("accounts:notifications", "GET"): expect(UI_SIGNED_IN),
    ("accounts:notifications_read", "POST"): expect(UI_SIGNED_IN, ok=302),
    # The training catalogue.
    ("training:qualification_list", "GET"): expect(UI_TRAINING_READERS),
    ("training:qualification_detail", "GET"): expect(UI_TRAINING_READERS),
    ("training:qualification_create", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:qualification_create", "POST"): expect(UI_TRAINING_MANAGERS, ok=302, writes=True),
    ("training:qualification_edit", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:qualification_deactivate", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:course_list", "GET"): expect(UI_TRAINING_READERS),
    ("training:course_detail", "GET"): expect(UI_TRAINING_READERS),
    ("training:course_create", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:course_edit", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:curriculum_list", "GET"): expect(UI_TRAINING_READERS),
    ("training:curriculum_create", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:curriculum_edit", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:requirement_overview", "GET"): expect(UI_TRAINING_READERS),
    # Readers see a position's requirements; only training managers get the form.
    ("training:position_requirements", "GET"): expect(UI_TRAINING_READERS),
    ("training:capability_requirements", "GET"): expect(UI_TRAINING_READERS),
    ("training:requirement_edit", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:requirement_remove", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:requirement_remove", "POST"): expect(UI_TRAINING_MANAGERS, ok=302, writes=True),
    # The training loop. One's own assignments, sessions one teaches, one's own records and the checks one
    # evaluates are open to everyone signed in; the rest needs training.view / training.manage.
    ("training:assignment_list", "GET"): expect(UI_SIGNED_IN),
    ("training:assignment_create", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:assignment_cancel", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:assignment_cancel", "POST"): expect(UI_TRAINING_MANAGERS, ok=302, writes=True),
    ("training:session_list", "GET"): expect(UI_SIGNED_IN),
    ("training:session_create", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:session_detail", "GET"): expect(UI_TRAINING_READERS, hidden=UI_NO_TRAINING_VIEW),
    ("training:session_enrol", "POST"): expect(UI_TRAINING_MANAGERS, ok=302, writes=True),
    ("training:attendance_edit", "GET"): expect(UI_TRAINING_MANAGERS),
    # Completion is signed by a training manager (the session has no trainer of ours); a reader who may see
    # the session is refused by the service, on the form.
    ("training:session_complete", "POST"): expect(
        UI_TRAINING_MANAGERS, ok=302, hidden=UI_NO_TRAINING_VIEW, refused_on_form={"production_supervisor", "qa",
                                                                                   "auditor"},
        form_errors=("complete_form", {"__all__": ["You are not allowed to manage the qualifications of this employee."]}),
        writes=True),
    ("training:session_cancel", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:my_records", "GET"): expect(UI_SIGNED_IN),
    # Only the trainee signs their record: to anyone else it does not exist.
    ("training:record_sign", "GET"): expect({"operator"}, hidden=UI_SIGNED_IN - {"operator"}),
    ("training:record_sign", "POST"): expect({"operator"}, ok=302, hidden=UI_SIGNED_IN - {"operator"}, writes=True),
    ("training:effectiveness_list", "GET"): expect(UI_SIGNED_IN),
    # The trainee's manager (the maintenance user) and the training managers over the trainee evaluate.
    ("training:effectiveness_evaluate", "GET"): expect(UI_EVALUATORS, hidden=UI_SIGNED_IN - UI_EVALUATORS),
    ("training:effectiveness_evaluate", "POST"): expect(UI_EVALUATORS, ok=302, hidden=UI_SIGNED_IN - UI_EVALUATORS,
                                                        writes=True),
    ("training:certificate_upload", "GET"): expect(UI_TRAINING_MANAGERS),
    ("training:certificate_upload", "POST"): expect(UI_TRAINING_MANAGERS, ok=302, writes=True),
    # Training reports and the expiry list.
    ("training:matrix", "GET"): expect(UI_TRAINING_READERS),
    ("training:matrix_export", "GET"): expect(UI_TRAINING_READERS),
    # Everyone signed in is sent on: to the matrix, or to their own records.
    ("training:home", "GET"): expect(UI_SIGNED_IN, ok=302),
    ("training:employee_training", "GET"): expect(UI_TRAINING_READERS),
    ("training:passport", "GET"): expect(UI_TRAINING_READERS),
    ("training:traceability", "GET"): expect(UI_TRAINING_READERS),
    ("training:traceability_export", "GET"): expect(UI_TRAINING_READERS),
    ("training:calendar", "GET"): expect(UI_TRAINING_READERS),
    ("training:calendar_ics", "GET"): expect(UI_TRAINING_READERS),
    ("training:expiring", "GET"): expect(UI_TRAINING_READERS),
    ("training:expiring_export", "GET"): expect(UI_TRAINING_READERS),
    # Controlled documents.
    ("documents:document_list", "GET"): expect(UI_SIGNED_IN),
    ("documents:document_detail", "GET"): expect(UI_SIGNED_IN),
    ("documents:document_create", "GET"): expect(UI_DOCUMENT_MANAGERS),
    ("documents:document_create", "POST"): expect(UI_DOCUMENT_MANAGERS, ok=302, writes=True),
    ("documents:document_edit", "GET"): expect(UI_DOCUMENT_MANAGERS),
    ("documents:revision_create", "GET"): expect(UI_DOCUMENT_MANAGERS),
    ("documents:revision_create", "POST"): expect(UI_DOCUMENT_MANAGERS, ok=302, writes=True),
    # The API's own pages: the OpenAPI document and its viewer are public (no data in them); the API root
    # and any unknown path under /api/v1/ are a JSON 404 for every caller.
    # The production catalogue: products, routing versions and their operations (not scoped to a line).
    ("production:product_list", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:product_create", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:product_create", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    ("production:product_detail", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:product_edit", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:product_edit", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    ("production:routing_create", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:routing_create", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    ("production:routing_detail", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:routing_copy", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:routing_copy", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    # Approval is the manager's e-signature (both managers may sign).
    ("production:routing_approve", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:routing_approve", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    ("production:routing_retire", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:routing_retire", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    ("production:operation_create", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:operation_create", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    ("production:operation_edit", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:operation_edit", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    ("production:operation_remove", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:operation_remove", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    # Work orders, all on line A (the line supervisor's); see test_production_line_scope for line B.
    ("production:work_order_list", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:work_order_create", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:work_order_create", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    ("production:work_order_detail", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:work_order_action", "GET"): expect(UI_PRODUCTION_MANAGERS),
    ("production:work_order_action", "POST"): expect(UI_PRODUCTION_MANAGERS, ok=302, writes=True),
    ("production:run_detail", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:refusal_list", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:refusal_detail", "GET"): expect(UI_PRODUCTION_READERS),
    # The supervisor signs the override as the signed-in user, QA (the qa user) with their own password.
    ("production:refusal_override", "GET"): expect(UI_PRODUCTION_OVERRIDERS),
    ("production:refusal_override", "POST"): expect(UI_PRODUCTION_OVERRIDERS, ok=302, writes=True),
    ("production:calibration_impact", "GET"): expect(UI_PRODUCTION_READERS),
    # The shop-floor station: a track-in is recorded (run or refusal) and shown on the page.
    ("production:station", "GET"): expect(UI_PRODUCTION_EXECUTORS),
    ("production:station", "POST"): expect(UI_PRODUCTION_EXECUTORS, writes=True),
    ("production:station_track_out", "GET"): expect(UI_PRODUCTION_EXECUTORS),
    ("production:station_track_out", "POST"): expect(UI_PRODUCTION_EXECUTORS, ok=302, writes=True),
    # Device history records: read with production.view, exported (signed) with production.export.
    ("production:dhr_view", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:dhr_export", "GET"): expect(UI_PRODUCTION_EXPORTERS),
    ("production:dhr_export", "POST"): expect(UI_PRODUCTION_EXPORTERS, ok=302, writes=True),
    ("production:dhr_export_detail", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:dhr_pdf", "GET"): expect(UI_PRODUCTION_READERS),
    ("production:dhr_json", "GET"): expect(UI_PRODUCTION_READERS),
    # Equipment on line A; maintenance / metrology manage and service it.
    ("equipment:equipment_list", "GET"): expect(UI_EQUIPMENT_READERS),
    ("equipment:equipment_export", "GET"): expect(UI_EQUIPMENT_READERS),
    ("equipment:equipment_create", "GET"): expect(UI_EQUIPMENT_MANAGERS),
    ("equipment:equipment_create", "POST"): expect(UI_EQUIPMENT_MANAGERS, ok=302, writes=True),
    ("equipment:equipment_detail", "GET"): expect(UI_EQUIPMENT_READERS),
    ("equipment:equipment_edit", "GET"): expect(UI_EQUIPMENT_MANAGERS),
    ("equipment:equipment_edit", "POST"): expect(UI_EQUIPMENT_MANAGERS, ok=302, writes=True),
    ("equipment:plan_create", "GET"): expect(UI_EQUIPMENT_MANAGERS),
    ("equipment:plan_create", "POST"): expect(UI_EQUIPMENT_MANAGERS, ok=302, writes=True),
    ("equipment:plan_edit", "GET"): expect(UI_EQUIPMENT_MANAGERS),
    ("equipment:record_start", "GET"): expect(UI_EQUIPMENT_SERVICERS),
    ("equipment:record_start", "POST"): expect(UI_EQUIPMENT_SERVICERS, ok=302, writes=True),
    ("equipment:record_detail", "GET"): expect(UI_EQUIPMENT_READERS),
    ("equipment:record_complete", "GET"): expect(UI_EQUIPMENT_SERVICERS),
    ("equipment:record_complete", "POST"): expect(UI_EQUIPMENT_SERVICERS, ok=302, writes=True),
    ("equipment:class_list", "GET"): expect(UI_EQUIPMENT_READERS),
    ("equipment:class_create", "GET"): expect(UI_EQUIPMENT_MANAGERS),
    ("equipment:class_create", "POST"): expect(UI_EQUIPMENT_MANAGERS, ok=302, writes=True),
    ("equipment:class_edit", "GET"): expect(UI_EQUIPMENT_MANAGERS),
    # Quality events belong to a site: the line A supervisor (quality.view on a line) sees none of them.
    ("quality:event_list", "GET"): expect(UI_QUALITY_READERS),
    ("quality:event_export", "GET"): expect(UI_QUALITY_READERS),
    ("quality:event_create", "GET"): expect(UI_QUALITY_MANAGERS),
    ("quality:event_create", "POST"): expect(UI_QUALITY_MANAGERS, ok=302, writes=True),
    ("quality:event_detail", "GET"): expect(UI_QUALITY_READERS - {"production_supervisor"},
                                            hidden={"production_supervisor"}),
    ("quality:event_edit", "GET"): expect(UI_QUALITY_MANAGERS, hidden={"production_supervisor"}),
    ("quality:event_edit", "POST"): expect(UI_QUALITY_MANAGERS, ok=302, hidden={"production_supervisor"}, writes=True),
    # Closing is QA's e-signed decision.
    ("quality:event_close", "GET"): expect(UI_QUALITY_APPROVERS, hidden={"production_supervisor"}),
    ("quality:event_close", "POST"): expect(UI_QUALITY_APPROVERS, ok=302, hidden={"production_supervisor"},
                                            writes=True),
    # Integration: webhooks (kept outside the audit trail: their rows show the write), deliveries, the event log.
    ("integration:overview", "GET"): expect(UI_INTEGRATION_READERS),
    ("integration:webhook_list", "GET"): expect(UI_INTEGRATION_READERS),
    ("integration:webhook_create", "GET"): expect(UI_INTEGRATION_MANAGERS),
    ("integration:webhook_create", "POST"): expect(UI_INTEGRATION_MANAGERS, ok=302, writes=True, written="Webhook"),
    ("integration:webhook_detail", "GET"): expect(UI_INTEGRATION_READERS),
    ("integration:webhook_edit", "GET"): expect(UI_INTEGRATION_MANAGERS),
    ("integration:webhook_edit", "POST"): expect(UI_INTEGRATION_MANAGERS, ok=302, writes=True, written="Webhook"),
    ("integration:webhook_deactivate", "POST"): expect(UI_INTEGRATION_MANAGERS, ok=302, writes=True,
                                                       written="Webhook"),
    ("integration:delivery_list", "GET"): expect(UI_INTEGRATION_READERS),
    ("integration:delivery_detail", "GET"): expect(UI_INTEGRATION_READERS),
    # The dead letter is queued again.
    ("integration:delivery_redeliver", "POST"): expect(UI_INTEGRATION_MANAGERS, ok=302, writes=True,
                                                       written="Delivery"),
    ("integration:event_list", "GET"): expect(UI_INTEGRATION_READERS),
    ("integration:event_detail", "GET"): expect(UI_INTEGRATION_READERS),
    # Automation rules: the active rule is edited, deactivated and tried (a dry run writes nothing); the
    # inactive one, which needs no signature, is activated.
    ("automation:rule_list", "GET"): expect(UI_INTEGRATION_READERS),
    ("automation:rules", "GET"): expect(UI_INTEGRATION_READERS),
    ("automation:rule_create", "GET"): expect(UI_INTEGRATION_MANAGERS),
    ("automation:rule_create", "POST"): expect(UI_INTEGRATION_MANAGERS, ok=302, writes=True),
    ("automation:rule_detail", "GET"): expect(UI_INTEGRATION_READERS),
    ("automation:rule_edit", "GET"): expect(UI_INTEGRATION_MANAGERS),
    ("automation:rule_edit", "POST"): expect(UI_INTEGRATION_MANAGERS, ok=302, writes=True),
    ("automation:rule_activate", "GET"): expect(UI_INTEGRATION_MANAGERS),
    ("automation:rule_activate", "POST"): expect(UI_INTEGRATION_MANAGERS, ok=302, writes=True),
    ("automation:rule_deactivate", "POST"): expect(UI_INTEGRATION_MANAGERS, ok=302, writes=True),
    ("automation:rule_test", "GET"): expect(UI_INTEGRATION_READERS),
    ("automation:firing_list", "GET"): expect(UI_INTEGRATION_READERS),
    ("automation:event_detail", "GET"): expect(UI_INTEGRATION_READERS),
    # Imports: the validated batch is committed (queued: its row shows it), the committed one rolled back.
    ("imports:batch_list", "GET"): expect(UI_INTEGRATION_READERS),
    ("imports:batch_upload", "GET"): expect(UI_IMPORTERS),
    ("imports:batch_upload", "POST"): expect(UI_IMPORTERS, ok=302, writes=True, written="ImportBatch"),
    ("imports:batch_detail", "GET"): expect(UI_INTEGRATION_READERS),
    ("imports:batch_progress", "GET"): expect(UI_INTEGRATION_READERS),
    ("imports:batch_commit", "POST"): expect(UI_IMPORTERS, ok=302, writes=True, written="ImportBatch"),
    ("imports:batch_rollback", "GET"): expect(UI_IMPORTERS),
    ("imports:batch_rollback", "POST"): expect(UI_IMPORTERS, ok=302, writes=True),
    ("imports:batch_errors_csv", "GET"): expect(UI_INTEGRATION_READERS),
    ("imports:batch_errors_xlsx", "GET"): expect(UI_INTEGRATION_READERS),
    ("imports:source_list", "GET"): expect(UI_INTEGRATION_READERS),
    ("imports:source_list", "POST"): expect(UI_IMPORTERS, ok=302, writes=True),
    ("imports:source_detail", "GET"): expect(UI_INTEGRATION_READERS),
    ("imports:column_mapping_edit", "POST"): expect(UI_IMPORTERS, ok=302, writes=True),
    ("imports:value_mapping_add", "POST"): expect(UI_IMPORTERS, ok=302, writes=True),
    ("imports:value_mapping_delete", "POST"): expect(UI_IMPORTERS, ok=302, writes=True),
    ("api-v1:openapi-json", "GET"): expect(EVERYONE),
    ("api-v1:openapi-view", "GET"): expect(EVERYONE),
    ("api-v1:api-root", "GET"): expect(EVERYONE, ok=404),
    ("api/v1/^", "GET"): expect(EVERYONE, ok=404),
}

API_ALL_ROLES = set(ROLES)
API_ORG_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa",
                   "maintenance", "auditor", "integration"}
API_ORG_MANAGERS = {"system_admin", "hr_admin", "integration"}
API_PEOPLE_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa",
                      "maintenance", "auditor", "integration"}
API_PEOPLE_MANAGERS = {"system_admin", "hr_admin", "production_supervisor", "integration"}
API_AUDIT_READERS = {"system_admin", "hr_admin", "qa", "auditor"}
API_TOKEN_MANAGERS = {"system_admin"}
API_TRAINING_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa", "auditor"}
API_TRAINING_MANAGERS = {"system_admin", "hr_admin", "training_coordinator"}
API_DOCUMENT_READERS = {"system_admin", "hr_admin", "training_coordinator", "production_supervisor", "operator", "qa",
                        "maintenance", "auditor"}
API_DOCUMENT_MANAGERS = {"system_admin", "qa"}
# Signatures are given in one's own browser session: every signer's token is refused with this code.
TOKEN_SIGNS = tuple((f"{role}/token", 403, "accounts.signature_not_allowed") for role in (
    "system_admin", "hr_admin", "training_coordinator", "production_supervisor", "operator", "qa", "maintenance"))

API_PRODUCTION_READERS = {"system_admin", "production_supervisor", "qa", "auditor", "integration"}
API_PRODUCTION_MANAGERS = {"system_admin", "production_supervisor", "integration"}
API_PRODUCTION_EXECUTORS = {"system_admin", "production_supervisor", "operator", "integration"}
API_EQUIPMENT_READERS = {"system_admin", "production_supervisor", "qa", "maintenance", "auditor", "integration"}
API_EQUIPMENT_MANAGERS = {"system_admin", "maintenance"}
API_EQUIPMENT_SERVICERS = {"system_admin", "maintenance"}
API_QUALITY_READERS = {"system_admin", "production_supervisor", "qa", "auditor"}
API_QUALITY_MANAGERS = {"system_admin", "qa"}
# The integration hub, as in the UI: the integration client (an ERP / MES, an identity provider) holds none of
# integration.view / manage / import.
API_INTEGRATION_READERS = {"system_admin", "hr_admin", "auditor"}
API_INTEGRATION_MANAGERS = {"system_admin"}
API_IMPORTERS = {"system_admin", "hr_admin"}
# Approving a routing is signed in one's own session: the managers' tokens are refused with this code (the
# other tokens lack production.manage and are refused before that).
ROUTING_TOKEN_SIGNS = tuple((f"{role}/token", 403, "accounts.signature_not_allowed")
                            for role in ("system_admin", "production_supervisor", "integration"))
# A work order completes at its last track-out: completing one with operations still open is a conflict, for
# every caller allowed to try (the order in progress is the target).
COMPLETE_CONFLICTS = tuple((caller, 409, "production.work_order_state") for caller in (
    "system_admin/token", "system_admin/session", "production_supervisor/token", "production_supervisor/session",
    "integration/token"))

# OpenAPI operationId -> expectation.
API_TABLE: dict[str, Expect] = {
    "me": expect(API_ALL_ROLES),
    "token_issue": expect(API_TOKEN_MANAGERS, ok=201, writes=True),
    "token_list": expect(API_TOKEN_MANAGERS),
    "token_revoke": expect(API_TOKEN_MANAGERS, writes=True),
    "org_company_list": expect(API_ORG_READERS),
    "org_company_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_company_get": expect(API_ORG_READERS),
    "org_company_update": expect(API_ORG_MANAGERS, writes=True),
    "org_company_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_site_list": expect(API_ORG_READERS),
    "org_site_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_site_get": expect(API_ORG_READERS),
    "org_site_update": expect(API_ORG_MANAGERS, writes=True),
    "org_site_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_department_list": expect(API_ORG_READERS),
    "org_department_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_department_get": expect(API_ORG_READERS),
    "org_department_update": expect(API_ORG_MANAGERS, writes=True),
    "org_department_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_productionline_list": expect(API_ORG_READERS),
    "org_productionline_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_productionline_get": expect(API_ORG_READERS),
    "org_productionline_update": expect(API_ORG_MANAGERS, writes=True),
    "org_productionline_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_workcenter_list": expect(API_ORG_READERS),
    "org_workcenter_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_workcenter_get": expect(API_ORG_READERS),
    "org_workcenter_update": expect(API_ORG_MANAGERS, writes=True),
    "org_workcenter_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "org_position_list": expect(API_ORG_READERS),
    "org_position_create": expect(API_ORG_MANAGERS, ok=201, writes=True),
    "org_position_get": expect(API_ORG_READERS),
    "org_position_update": expect(API_ORG_MANAGERS, writes=True),
    "org_position_deactivate": expect(API_ORG_MANAGERS, writes=True),
    "employee_list": expect(API_PEOPLE_READERS),
    "employee_create": expect(API_PEOPLE_MANAGERS, ok=201, writes=True),
    "employee_get": expect(API_PEOPLE_READERS),
    "employee_update": expect(API_PEOPLE_MANAGERS, writes=True),
    "employee_deactivate": expect(API_PEOPLE_MANAGERS, writes=True),
    "employee_change_position": expect(API_PEOPLE_MANAGERS, ok=201, writes=True),
    "employee_positions": expect(API_PEOPLE_READERS),
    "audit_entry_list": expect(API_AUDIT_READERS),
    "audit_verify": expect(API_AUDIT_READERS),
    "training_qualification_list": expect(API_TRAINING_READERS),
    "training_qualification_create": expect(API_TRAINING_MANAGERS, ok=201, writes=True),
    "training_qualification_get": expect(API_TRAINING_READERS),
    "training_qualification_update": expect(API_TRAINING_MANAGERS, writes=True),
    "training_qualification_deactivate": expect(API_TRAINING_MANAGERS, writes=True),
    "training_course_list": expect(API_TRAINING_READERS),
    "training_course_create": expect(API_TRAINING_MANAGERS, ok=201, writes=True),
    "training_course_get": expect(API_TRAINING_READERS),
    "training_course_update": expect(API_TRAINING_MANAGERS, writes=True),
    "training_curriculum_list": expect(API_TRAINING_READERS),
    "training_curriculum_create": expect(API_TRAINING_MANAGERS, ok=201, writes=True),
    "training_curriculum_get": expect(API_TRAINING_READERS),
    "training_curriculum_update": expect(API_TRAINING_MANAGERS, writes=True),
    "training_requirement_list": expect(API_TRAINING_READERS),
    "training_target_requirements_get": expect(API_TRAINING_READERS),
    "training_target_requirements_set": expect(API_TRAINING_MANAGERS, writes=True),
    "training_assignment_list": expect(API_TRAINING_READERS),
    "training_assignment_create": expect(API_TRAINING_MANAGERS, ok=201, writes=True),
    "training_assignment_cancel": expect(API_TRAINING_MANAGERS, writes=True),
    "training_session_list": expect(API_TRAINING_READERS),
    "training_session_schedule": expect(API_TRAINING_MANAGERS, ok=201, writes=True),
    "training_session_get": expect(API_TRAINING_READERS),
    "training_session_cancel": expect(API_TRAINING_MANAGERS, writes=True),
    "training_session_enrol": expect(API_TRAINING_MANAGERS, writes=True),
    "training_attendance_record": expect(API_TRAINING_MANAGERS, writes=True),
    "training_assessment_record": expect(API_TRAINING_MANAGERS, ok=201, writes=True),
    # Signed in one's own session by a training manager (the session has no trainer of ours).
    "training_session_complete": expect(
        {"system_admin", "hr_admin", "training_coordinator"}, writes=True, answers=(*TOKEN_SIGNS, *(
            ("production_supervisor/session", 403, "training.out_of_scope"), ("qa/session", 403, "training.out_of_scope"),
            ("operator/session", 404, "core.not_found"), ("maintenance/session", 404, "core.not_found")))),
    "training_record_list": expect(API_TRAINING_READERS),
    # The record is of a line B2 trainee: outside the line A supervisor's scope.
    "training_record_get": expect(API_TRAINING_READERS - {"production_supervisor"},
                                  hidden={"production_supervisor"}),
    # Only the trainee (the operator) signs their record, in their own session.
    "training_record_sign": expect({"operator"}, writes=True, answers=(*TOKEN_SIGNS, *(
        (f"{role}/session", 404, "core.not_found") for role in (
            "system_admin", "hr_admin", "training_coordinator", "production_supervisor", "qa", "maintenance")))),
    "training_effectiveness_list": expect(API_TRAINING_READERS),
    # The trainee's manager (the maintenance user) or a training manager over the trainee evaluates.
    "training_effectiveness_evaluate": expect({"system_admin", "hr_admin", "training_coordinator", "maintenance"},
                                              writes=True, answers=(*TOKEN_SIGNS, *(
        ("production_supervisor/session", 404, "core.not_found"), ("operator/session", 404, "core.not_found"),
        ("qa/session", 403, "training.out_of_scope")))),
    "training_certificate_list": expect(API_TRAINING_READERS),
    "training_certificate_record": expect(API_TRAINING_MANAGERS, ok=201, writes=True),
    "training_matrix": expect(API_TRAINING_READERS),
    # Open to every signed-in caller for their own record (not the target here).
    "training_employee_status": expect(API_TRAINING_READERS),
    "training_passport": expect(API_TRAINING_READERS),
    "training_traceability": expect(API_TRAINING_READERS),
    "training_expiring_list": expect(API_TRAINING_READERS),
    "training_reconcile": expect(API_TRAINING_MANAGERS),
    "document_list": expect(API_DOCUMENT_READERS),
    "document_create": expect(API_DOCUMENT_MANAGERS, ok=201, writes=True),
    "document_get": expect(API_DOCUMENT_READERS),
    "document_update": expect(API_DOCUMENT_MANAGERS, writes=True),
    "document_revision_list": expect(API_DOCUMENT_READERS),
    "document_revision_create": expect(API_DOCUMENT_MANAGERS, ok=201, writes=True),
    # The production catalogue.
    "product_list": expect(API_PRODUCTION_READERS),
    "product_create": expect(API_PRODUCTION_MANAGERS, ok=201, writes=True),
    "product_get": expect(API_PRODUCTION_READERS),
    "product_update": expect(API_PRODUCTION_MANAGERS, writes=True),
    "routing_list": expect(API_PRODUCTION_READERS),
    "routing_create": expect(API_PRODUCTION_MANAGERS, ok=201, writes=True),
    "routing_get": expect(API_PRODUCTION_READERS),
    "routing_update": expect(API_PRODUCTION_MANAGERS, writes=True),
    "routing_copy": expect(API_PRODUCTION_MANAGERS, ok=201, writes=True),
    "routing_approve": expect({"system_admin", "production_supervisor"}, writes=True, answers=ROUTING_TOKEN_SIGNS),
    "routing_retire": expect(API_PRODUCTION_MANAGERS, writes=True),
    "operation_create": expect(API_PRODUCTION_MANAGERS, ok=201, writes=True),
    "operation_update": expect(API_PRODUCTION_MANAGERS, writes=True),
    "operation_delete": expect(API_PRODUCTION_MANAGERS, writes=True),
    # Work orders (line A) and their lifecycle.
    "work_order_list": expect(API_PRODUCTION_READERS),
    "work_order_create": expect(API_PRODUCTION_MANAGERS, ok=201, writes=True),
    "work_order_get": expect(API_PRODUCTION_READERS),
    "work_order_release": expect(API_PRODUCTION_MANAGERS, writes=True),
    "work_order_start": expect(API_PRODUCTION_MANAGERS, writes=True),
    "work_order_complete": expect(API_PRODUCTION_MANAGERS, answers=COMPLETE_CONFLICTS),
    "work_order_close": expect(API_PRODUCTION_MANAGERS, writes=True),
    "work_order_cancel": expect(API_PRODUCTION_MANAGERS, writes=True),
    # The station: an MES terminal (the integration client) tracks in and out like the tablet page.
    "operation_track_in": expect(API_PRODUCTION_EXECUTORS, ok=201, writes=True),
    "operation_track_out": expect(API_PRODUCTION_EXECUTORS, writes=True),
    "operation_run_get": expect(API_PRODUCTION_READERS),
    "gate_refusal_get": expect(API_PRODUCTION_READERS),
    "calibration_impact_get": expect(API_PRODUCTION_READERS),
    # Device history records (exports are signed in the browser only: no export operation).
    "production_dhr_content": expect(API_PRODUCTION_READERS),
    "production_dhr_export": expect(API_PRODUCTION_READERS),
    "production_dhr_export_pdf": expect(API_PRODUCTION_READERS),
    # Equipment.
    "equipment_class_list": expect(API_EQUIPMENT_READERS),
    "equipment_class_create": expect(API_EQUIPMENT_MANAGERS, ok=201, writes=True),
    "equipment_class_get": expect(API_EQUIPMENT_READERS),
    "equipment_class_update": expect(API_EQUIPMENT_MANAGERS, writes=True),
    "equipment_list": expect(API_EQUIPMENT_READERS),
    "equipment_create": expect(API_EQUIPMENT_MANAGERS, ok=201, writes=True),
    "equipment_get": expect(API_EQUIPMENT_READERS),
    "equipment_update": expect(API_EQUIPMENT_MANAGERS, writes=True),
    "equipment_availability": expect(API_EQUIPMENT_READERS),
    "equipment_plan_list": expect(API_EQUIPMENT_READERS),
    "equipment_plan_create": expect(API_EQUIPMENT_MANAGERS, ok=201, writes=True),
    "equipment_plan_update": expect(API_EQUIPMENT_MANAGERS, writes=True),
    "equipment_record_list": expect(API_EQUIPMENT_READERS),
    "equipment_record_get": expect(API_EQUIPMENT_READERS),
    "equipment_record_start": expect(API_EQUIPMENT_SERVICERS, ok=201, writes=True),
    "equipment_record_create": expect(API_EQUIPMENT_SERVICERS, ok=201, writes=True),
    "equipment_record_complete": expect(API_EQUIPMENT_SERVICERS, writes=True),
    # Quality events (of site A: the line A supervisor sees none; closing is signed in the browser only).
    "quality_event_list": expect(API_QUALITY_READERS),
    "quality_event_open": expect(API_QUALITY_MANAGERS, ok=201, writes=True),
    "quality_event_get": expect(API_QUALITY_READERS - {"production_supervisor"}, hidden={"production_supervisor"}),
    "quality_event_update": expect(API_QUALITY_MANAGERS, writes=True),
    # Integration: webhooks, deliveries and the event log.
    "integration_webhook_list": expect(API_INTEGRATION_READERS),
    "integration_webhook_create": expect(API_INTEGRATION_MANAGERS, ok=201, writes=True, written="Webhook"),
    "integration_webhook_get": expect(API_INTEGRATION_READERS),
    "integration_webhook_update": expect(API_INTEGRATION_MANAGERS, writes=True, written="Webhook"),
    "integration_webhook_deactivate": expect(API_INTEGRATION_MANAGERS, writes=True, written="Webhook"),
    "integration_delivery_list": expect(API_INTEGRATION_READERS),
    "integration_delivery_redeliver": expect(API_INTEGRATION_MANAGERS, writes=True, written="Delivery"),
    "integration_event_list": expect(API_INTEGRATION_READERS),
    "integration_event_get": expect(API_INTEGRATION_READERS),
    # Automation rules and their firings (the dry run writes nothing).
    "automation_rule_list": expect(API_INTEGRATION_READERS),
    "automation_rule_create": expect(API_INTEGRATION_MANAGERS, ok=201, writes=True),
    "automation_rule_get": expect(API_INTEGRATION_READERS),
    "automation_rule_update": expect(API_INTEGRATION_MANAGERS, writes=True),
    "automation_rule_activate": expect(API_INTEGRATION_MANAGERS, writes=True),
    "automation_rule_deactivate": expect(API_INTEGRATION_MANAGERS, writes=True),
    "automation_rule_test": expect(API_INTEGRATION_READERS),
    "automation_firing_list": expect(API_INTEGRATION_READERS),
    # Imports: batches, source systems and their mappings.
    "imports_batch_create": expect(API_IMPORTERS, ok=201, writes=True, written="ImportBatch"),
    "imports_batch_list": expect(API_INTEGRATION_READERS),
    "imports_batch_get": expect(API_INTEGRATION_READERS),
    "imports_batch_errors": expect(API_INTEGRATION_READERS),
    "imports_batch_commit": expect(API_IMPORTERS, ok=202, writes=True, written="ImportBatch"),
    "imports_batch_rollback": expect(API_IMPORTERS, writes=True),
    "imports_source_list": expect(API_INTEGRATION_READERS),
    "imports_source_create": expect(API_IMPORTERS, ok=201, writes=True),
    "imports_source_update": expect(API_IMPORTERS, writes=True),
    "imports_column_mapping_list": expect(API_INTEGRATION_READERS),
    "imports_column_mapping_set": expect(API_IMPORTERS, writes=True),
    "imports_value_mapping_list": expect(API_INTEGRATION_READERS),
    "imports_value_mapping_set": expect(API_IMPORTERS, ok=201, writes=True),
    "imports_value_mapping_delete": expect(API_IMPORTERS, ok=204, writes=True),
}
PDF_OPERATIONS = {"training_passport", "production_dhr_export_pdf"}

# SCIM 2.0 under /scim/v2/ takes API tokens only: a token of a holder of integration.provision (the system
# administrator, the integration client) is served, any other token refused (403); a browser session is no
# credential there and is answered like none at all (401). (URL name, method) -> expectation for tokens.
SCIM_PROVISIONERS = {"system_admin", "integration"}
SCIM_TABLE: dict[tuple[str, str], Expect] = {
    ("scim:service_provider_config", "GET"): expect(SCIM_PROVISIONERS),
    ("scim:resource_types", "GET"): expect(SCIM_PROVISIONERS),
    ("scim:resource_type", "GET"): expect(SCIM_PROVISIONERS),
    ("scim:schemas", "GET"): expect(SCIM_PROVISIONERS),
    ("scim:schema", "GET"): expect(SCIM_PROVISIONERS),
    ("scim:users", "GET"): expect(SCIM_PROVISIONERS),
    ("scim:users", "POST"): expect(SCIM_PROVISIONERS, ok=201, writes=True),
    ("scim:users_search", "POST"): expect(SCIM_PROVISIONERS),
    # The operator's login (linked to their employee record).
    ("scim:user", "GET"): expect(SCIM_PROVISIONERS),
    ("scim:user", "PATCH"): expect(SCIM_PROVISIONERS, writes=True),
    ("scim:user", "DELETE"): expect(SCIM_PROVISIONERS, ok=204, writes=True),
    ("scim:groups", "GET"): expect(SCIM_PROVISIONERS),
    ("scim:groups", "POST"): expect(SCIM_PROVISIONERS, ok=201, writes=True),
    ("scim:groups_search", "POST"): expect(SCIM_PROVISIONERS),
    ("scim:group", "GET"): expect(SCIM_PROVISIONERS),
    ("scim:group", "PATCH"): expect(SCIM_PROVISIONERS, writes=True),
    ("scim:group", "DELETE"): expect(SCIM_PROVISIONERS, ok=204, writes=True),
    # Searching every resource type at once is not supported: 501 for those let in.
    ("scim:search", "POST"): expect(SCIM_PROVISIONERS, ok=501),
    # Any other path under /scim/v2/: SCIM's own 404 for those let in.
    ("scim:not_found", "GET"): expect(SCIM_PROVISIONERS, ok=404),
}


# --------------------------------------------------------------------------------------------------------
# Coverage: a page or an operation without a row fails the suite
# --------------------------------------------------------------------------------------------------------

# admin/ is Django's admin (is_staff and model permissions; its audit behaviour is tested in tests/audit);
# i18n/ is Django's stock set_language view, which touches no data. Neither is a Qualiflow page.
SKIPPED_PREFIXES = ("admin/", "i18n/")


def _url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, key) of every URL pattern: key is `namespace:name`, or the route when it has no name."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_patterns(pattern.url_patterns, route, inner)
        else:
            assert isinstance(pattern, URLPattern)
            yield route, f"{namespace}{pattern.name}" if pattern.name else route


def _openapi_operations(client: Client) -> dict[str, tuple[str, str]]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return {
        operation["operationId"]: (method, path)
        for path, methods in response.json()["paths"].items()
        for method, operation in methods.items()
    }


@pytest.fixture(scope="module")
def operations(django_db_setup, django_db_blocker) -> dict[str, tuple[str, str]]:
    with django_db_blocker.unblock():
        return _openapi_operations(Client())


def test_every_api_operation_has_a_row(operations):
    assert sorted(set(operations) - set(API_TABLE)) == [], "API operations without a row in API_TABLE"
    assert sorted(set(API_TABLE) - set(operations)) == [], "rows in API_TABLE for operations that do not exist"


def test_every_url_pattern_has_a_row(operations):
    ui_keys = {name for name, _method in (*UI_TABLE, *SCIM_TABLE)}
    api_paths = {path for _method, path in operations.values()}
    seen_ui, missing = set(), []
    for route, key in _url_patterns():
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route) in api_paths:
            # An API operation's route: its operations' rows are in API_TABLE (checked above).
            continue
        if key in ui_keys:
            seen_ui.add(key)
        else:
            missing.append((route, key))
    assert missing == [], "URL patterns without a row in UI_TABLE"
    assert sorted(ui_keys - seen_ui) == [], "rows in UI_TABLE for URL patterns that do not exist"


# --------------------------------------------------------------------------------------------------------
# The plant, built once
# --------------------------------------------------------------------------------------------------------

@dataclass
class World:
    company: Company
    site_a: Site
    site_b: Site
    assembly: Department
    moulding: Department
    packaging_b: Department
    line_a: ProductionLine
    line_b: ProductionLine
    line_b2: ProductionLine
    work_center: WorkCenter
    operator_position: Position
    supervisor_position: Position
    employee: Employee  # on line A: the target of every employee row
    outsider: Employee  # on line B: outside the line supervisor's scope
    spare_token: ApiToken  # the target of token_revoke
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    t: Training | None = None  # the training and document records every training / documents row acts on
    p: Production | None = None  # the production, equipment and quality records their rows act on
    h: Hub | None = None  # the integration, automation, import and SCIM records their rows act on


@dataclass
class Training:
    qualification: Qualification
    course: Course
    curriculum: Curriculum
    requirement: Requirement  # the supervisor position requires the qualification
    document: Document
    assignment: TrainingAssignment  # open, of the line A employee
    planned: TrainingSession  # upcoming; the line A employee enrolled
    attendance: Attendance  # the line A employee's in `planned`
    held: TrainingSession  # over, the line A employee attended and passed: ready to complete
    held_attendance: Attendance
    trainee: Employee  # on line B2, the operator's own employee record
    record: TrainingRecord  # the trainee's, completed and not signed by them yet
    check: EffectivenessCheck  # of `record`, evaluated by the trainee's manager (the maintenance user)
    notification: Notification  # the operator's


@dataclass
class Production:
    product: Product
    routing: Routing  # version 1, approved and in effect: operations 10 and 20 at line A's work center
    draft: Routing  # version 2, a draft with one operation
    draft_operation: Operation
    created: WorkOrder  # created: the target of release and cancel
    released: WorkOrder  # released, nothing done yet: the target of start
    order: WorkOrder  # in progress: the line A employee tracked in at 10, the line B employee refused at 20
    run: OperationRun  # the line A employee's, open
    refusal: GateRefusal  # the line B employee's (operation 10 is not done yet), not overridden
    done: WorkOrder  # completed: the target of close and of the DHR export
    export: DhrExport  # of `done`, signed by the system administrator
    equipment_class: EquipmentClass
    equipment: Equipment  # on line A, with a calibration plan and a passing calibration under it
    plan: EquipmentPlan
    calibration: EquipmentRecord
    failed: EquipmentRecord  # a failed calibration of a second line A asset
    open_record: EquipmentRecord  # open maintenance of that second asset
    event: QualityEvent  # a nonconformance of site A
    outside_order: WorkOrder  # released, on line B: outside the line supervisor's scope
    outside_equipment: Equipment  # on line B


def _build_production(w: World) -> Production:
    """A product with an approved routing and a draft, work orders in each state the rows act on (with a
    run, a refusal and a signed DHR export), equipment with calibrations and open maintenance, and a quality
    event. Everything the line supervisor may see is on line A; one order and one asset are on line B."""
    reason, admin, now = "set-up", w.users["system_admin"], timezone.now()
    product = production_catalogue.product_create(
        data={"code": "PM-P", "name": "输液器", "name_en": "Infusion set", "device_class": "II"}, reason=reason)

    def routing_with(*sequences: int) -> tuple[Routing, list[Operation]]:
        routing = production_catalogue.routing_create(product=product, reason=reason)
        return routing, [production_catalogue.operation_create(routing=routing, data={
            "sequence": sequence, "name": f"工序{sequence}", "work_center": w.work_center, "standard_minutes": 1,
        }, reason=reason) for sequence in sequences]

    routing, _operations = routing_with(10, 20)
    routing = production_catalogue.routing_approve(routing=routing, signer=admin, password=PASSWORD, reason=reason)
    draft, (draft_operation,) = routing_with(10)

    def order(number: str, line: ProductionLine | None = None, release: bool = True) -> WorkOrder:
        made = order_services.work_order_create(
            number=number, product=product, routing=routing, line=line or w.line_a, quantity=2,
            lot_number=f"L-{number}", planned_start=now, planned_end=now + dt.timedelta(hours=8), reason=reason)
        return order_services.work_order_release(work_order=made, reason=reason) if release else made

    def track_in(badge: Employee, number: str, sequence: int) -> station_services.TrackIn:
        return station_services.operation_track_in(badge=badge.employee_number, work_order=number, sequence=sequence)

    created, released, in_progress = order("PM-WO-C", release=False), order("PM-WO-R"), order("PM-WO-M")
    run = track_in(w.employee, in_progress.number, 10).run
    refusal = track_in(w.outsider, in_progress.number, 20).refusal
    assert run is not None and refusal is not None
    done = order("PM-WO-D")
    for sequence in (10, 20):
        station_services.operation_track_out(run=track_in(w.employee, done.number, sequence).run, good_quantity=2)
    done.refresh_from_db()
    assert done.status == "completed"
    export = dhr_services.dhr_export(work_order=done, signer=admin, password=PASSWORD, reason=reason)

    equipment_class = equipment_services.equipment_class_create(data={"code": "PM-EQC", "name": "灭菌柜"},
                                                                reason=reason)

    def asset(number: str, line: ProductionLine) -> Equipment:
        return equipment_services.equipment_create(data={
            "asset_number": number, "name": "灭菌柜", "equipment_class": equipment_class, "site": line.site,
            "line": line}, reason=reason)

    def calibrated(equipment: Equipment, result: str, plan: EquipmentPlan | None = None) -> EquipmentRecord:
        return equipment_services.equipment_record_create(
            equipment=equipment, plan=plan, kind="calibration", external_lab="SIMT",
            started_at=now - dt.timedelta(days=2), completed_at=now - dt.timedelta(days=1), result=result,
            certificate_number=f"CAL-{equipment.asset_number}", reason=reason)

    equipment = asset("PM-EQ-1", w.line_a)
    plan = equipment_services.equipment_plan_create(equipment=equipment, data={
        "kind": "calibration", "title": "温度校准", "interval_days": 180, "first_due": now + dt.timedelta(days=30)},
        reason=reason)
    calibration = calibrated(equipment, "pass", plan)
    second = asset("PM-EQ-2", w.line_a)
    failed = calibrated(second, "fail")
    open_record = equipment_services.equipment_record_start(equipment=second, kind="maintenance",
                                                            external_lab="SIMT", reason=reason)
    event = quality_services.quality_event_open(kind="nonconformance", title="毛刺超标", site=w.site_a, reason=reason)
    return Production(product, routing, draft, draft_operation, created, released, in_progress, run, refusal, done,
                      export, equipment_class, equipment, plan, calibration, failed, open_record, event,
                      order("PM-WO-B", w.line_b), asset("PM-EQ-B", w.line_b))


@dataclass
class Hub:
    webhook: Webhook  # active, for the automation's events; nothing listens at its address
    delivery: Delivery  # the webhook's, dead after its one failed attempt: the target of redelivery
    event: OutboxEvent  # the delivery's event
    rule: AutomationRule  # active, on gate refusals; edited, deactivated and tried
    draft_rule: AutomationRule  # inactive, needs no signature: the target of activation
    firing: RuleFiring  # of `rule` on the gate refusal's event (skipped: its condition does not hold)
    source: SourceSystem  # with a column mapping for positions and one value mapping
    value_mapping: ValueMapping
    batch: ImportBatch  # positions, validated without errors: the target of commit
    committed: ImportBatch  # positions, committed: the target of rollback
    group: ScimGroup


def _positions_file(code: str) -> bytes:
    """A legacy export of one position, in the headers the source system's column mapping names."""
    return f"岗位编码,岗位名称,部门\n{code},质检员,ASM\n".encode()


def _build_hub(w: World) -> Hub:
    """A webhook with a dead delivery, an active and an inactive automation rule with a firing, a source
    system with its mappings, a validated and a committed import batch, and a SCIM group."""
    # Nothing listens on port 9 here: the one attempt allowed fails at once and the delivery is dead.
    webhook = integration_services.webhook_create(data={
        "name": "PM-Hook", "url": "http://127.0.0.1:9/hook", "event_types": ["automation.rule.*"], "max_attempts": 1})
    notify = [{"type": "notify", "to": ["person"], "subject": "提醒", "body": "{data.employee_number}"}]
    rule = automation_services.rule_activate(rule=automation_services.rule_create(data={
        "name": "PM 拒绝提醒", "triggers": ["production.operation.refused"],
        "condition": {"eq": ["data.employee_number", "nobody"]}, "actions": notify}))
    draft_rule = automation_services.rule_create(data={"name": "PM 草稿规则", "triggers": ["quality.event.*"],
                                                       "actions": notify})
    firing = automation_engine.fire(rule, OutboxEvent.objects.filter(type="production.operation.refused").get())
    while dispatch.fan_out():
        pass
    assert dispatch.send_due()
    delivery = Delivery.objects.filter(webhook=webhook, status=DeliveryStatus.DEAD).select_related("event").first()
    assert delivery is not None

    source = import_services.source_system_create(code="pm-hr", name="旧HR系统")
    import_services.column_mapping_set(source=source, kind="positions",
                                       columns={"code": "岗位编码", "name": "岗位名称", "department": "部门"})
    value_mapping = import_services.value_mapping_set(source=source, field="department", legacy_value="ASM",
                                                      value=w.assembly.code)

    def validated(code: str) -> ImportBatch:
        batch = import_services.batch_upload(kind="positions", source=source, file=ContentFile(_positions_file(code)),
                                             file_name="positions.csv")
        batch = import_services.batch_validate(batch=batch)
        assert (batch.status, batch.error_count, batch.created_count) == ("validated", 0, 1)
        return batch

    committed = import_services.batch_commit(batch=validated("PM-POS-1"))
    assert committed.status == "committed"
    group = scim_services.group_create(state=GroupState(display_name="PM 组", external_id=None, member_ids=()))
    return Hub(webhook, delivery, delivery.event, rule, draft_rule, firing, source, value_mapping,
               validated("PM-POS-2"), committed, group)


def _build_world() -> World:
    create = org_services.org_unit_create
    company = create(model=Company, data={"code": "PM", "name": "矩阵医疗", "name_en": "Matrix Medical"})
    site_a = create(model=Site, data={"code": "PM-SZ", "name": "苏州工厂", "name_en": "Suzhou", "company": company})
    site_b = create(model=Site, data={"code": "PM-CZ", "name": "常州工厂", "name_en": "Changzhou", "company": company})
    assembly = create(model=Department, data={"code": "PM-ASM", "name": "组装车间", "site": site_a})
    moulding = create(model=Department, data={"code": "PM-IM", "name": "注塑车间", "site": site_a})
    packaging_b = create(model=Department, data={"code": "PM-PK", "name": "包装车间", "site": site_b})
    line = ProductionLine
    line_a = create(model=line, data={"code": "PM-LA", "name": "组装线A", "site": site_a, "department": assembly})
    line_b = create(model=line, data={"code": "PM-LB", "name": "组装线B", "site": site_a, "department": assembly})
    line_b2 = create(model=line, data={"code": "PM-LP", "name": "包装线", "site": site_b, "department": packaging_b})
    work_center = create(model=WorkCenter, data={"code": "PM-WC1", "name": "焊接工位", "line": line_a})
    operator_position = create(model=Position, data={"code": "PM-OP", "name": "操作工", "department": assembly})
    supervisor_position = create(model=Position, data={"code": "PM-SUP", "name": "主管", "department": assembly})

    def hire(number: str, on: ProductionLine) -> Employee:
        return people_services.employee_create(data={
            "employee_number": number, "family_name": "王", "given_name": "芳", "hire_date": dt.date(2022, 3, 1),
            "birth_date": dt.date(1990, 1, 2), "site": on.site, "department": on.department, "line": on,
        }, position=supervisor_position, reason="hired")

    employee, outsider = hire("PM-E-A", line_a), hire("PM-E-B", line_b)
    users: dict[str, User] = {}
    tokens: dict[str, str] = {}
    for role in ROLES:
        integration = role == Role.INTEGRATION
        user = account_services.user_create(
            username=f"pm-{role}", password=None if integration else PASSWORD, language="en",
            is_integration=integration,
        )
        if role == Role.PRODUCTION_SUPERVISOR:
            account_services.role_assign(user=user, role=role, scope_kind=ScopeKind.LINE, scope_id=line_a.pk)
        else:
            account_services.role_assign(user=user, role=role)
        users[role] = user
        tokens[role] = account_services.api_token_issue(user=user, name="matrix")[1]
    spare_token, _secret = account_services.api_token_issue(user=users["hr_admin"], name="spare")
    w = World(company, site_a, site_b, assembly, moulding, packaging_b, line_a, line_b, line_b2, work_center,
              operator_position, supervisor_position, employee, outsider, spare_token, users, tokens)
    w.t = _build_training(w)
    w.p = _build_production(w)
    w.h = _build_hub(w)
    return w


def _build_training(w: World) -> Training:
    """The training loop's records: a catalogue, an open assignment, a planned and a held session, and a
    completed record of the operator's own, with its effectiveness check for the maintenance user."""
    qualification = training_services.qualification_create(
        data={"code": "PM-Q", "name": "灭菌操作资质", "validity_days": 365, "renewal_lead_days": 30},
        reason="set-up")
    course = training_services.course_create(
        data={"code": "PM-C", "name": "灭菌培训", "duration_hours": 8, "max_score": 100, "pass_mark": 80,
              "effectiveness_check_days": 30}, confers=[qualification], reason="set-up")
    curriculum = catalogue_services.curriculum_create(data={"code": "PM-CUR", "name": "新员工课程"},
                                                      courses=[course], reason="set-up")
    requirement = training_services.requirement_set(
        qualification=qualification, target_kind="position", target_id=w.supervisor_position.pk, reason="set-up")
    document = document_services.document_create(data={"code": "PM-SOP-1", "title": "灭菌规程"}, reason="set-up")
    coordinator = w.users["training_coordinator"]
    assignment = loop_services.assignment_create(
        employee=w.employee, course=course, reason="onboarding", due_on=dt.date.today() + dt.timedelta(days=30),
        by=coordinator)
    now = timezone.now()

    def schedule(starts_at: dt.datetime) -> TrainingSession:
        return loop_services.session_schedule(
            course=course, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), capacity=10,
            place="培训室", external_trainer="外部讲师", by=coordinator, reason="set-up")

    def attend(session: TrainingSession, employee: Employee) -> Attendance:
        (attendance,) = loop_services.session_enrol(session=session, employees=[employee], by=coordinator,
                                                    reason="set-up")
        loop_services.attendance_record(attendance=attendance, attended=True, by=coordinator, reason="set-up")
        loop_services.assessment_record(attendance=attendance, kind="written", score=90, by=coordinator,
                                        reason="set-up")
        return attendance

    planned = schedule(now + dt.timedelta(days=7))
    (attendance,) = loop_services.session_enrol(session=planned, employees=[w.employee], by=coordinator,
                                                reason="set-up")
    held = schedule(now - dt.timedelta(hours=3))
    held_attendance = attend(held, w.employee)

    def hire(number: str, user: User, manager: Employee | None = None) -> Employee:
        return people_services.employee_create(data={
            "employee_number": number, "family_name": "赵", "given_name": "敏", "hire_date": dt.date(2022, 3, 1),
            "site": w.line_b2.site, "department": w.line_b2.department, "line": w.line_b2, "user": user,
            "manager": manager}, position=w.operator_position, reason="hired")

    manager = hire("PM-E-M", w.users["maintenance"])
    trainee = hire("PM-E-T", w.users["operator"], manager)
    done = schedule(now - dt.timedelta(days=1))
    attend(done, trainee)
    (record,) = loop_services.session_complete(session=done, by=coordinator, reason="held", signer=coordinator,
                                               password=PASSWORD)
    notification = account_services.notification_send(
        recipient=w.users["operator"], kind="training.expiring", subject="到期提醒", url="/", email=False)
    return Training(qualification, course, curriculum, requirement, document, assignment, planned, attendance, held,
                    held_attendance, trainee, record, EffectivenessCheck.objects.get(record=record), notification)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once in an outer transaction; each test's own transaction is a savepoint inside it. Uploaded
    files (import batches) go to a directory of the module's own."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def w(world, db) -> World:
    return world


def state() -> dict[str, Any]:
    """Everything a request could have written: the audit trail, the outbox and the regulated records."""
    snapshot: dict[str, Any] = {"audit": AuditEntry.objects.count(), "outbox": OutboxEvent.objects.count()}
    for model in (Employee, PositionAssignment, ESignature, Company, Site, Department, ProductionLine,
                  WorkCenter, Position, Qualification, Course, Curriculum, Requirement, QualificationGrant,
                  TrainingAssignment, TrainingSession, Attendance, TrainingRecord, EffectivenessCheck, Certificate,
                  Document, DocumentRevision, Notification, Product, Routing, Operation, WorkOrder,
                  WorkOrderOperation, OperationRun, GateRefusal, DhrExport, EquipmentClass, Equipment, EquipmentPlan,
                  EquipmentRecord, QualityEvent, Webhook, Delivery, AutomationRule, RuleFiring, SourceSystem,
                  ColumnMapping, ValueMapping, ImportBatch, ImportRowError, ScimGroup, ScimGroupMembership,
                  ScimAccount):
        snapshot[model.__name__] = list(model.objects.order_by("pk").values())
    snapshot["ApiToken"] = list(ApiToken.objects.order_by("pk").values("pk", "user_id", "name", "expires_at",
                                                                        "revoked_at"))
    return snapshot


# --------------------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------------------

def _employee_form(employee: Employee, **overrides) -> dict:
    line = employee.line
    data = {
        "employee_number": employee.employee_number, "family_name": employee.family_name,
        "given_name": employee.given_name, "latin_name": "", "employment_type": employee.employment_type,
        "hire_date": f"{employee.hire_date:%Y-%m-%d}", "birth_date": f"{employee.birth_date:%Y-%m-%d}", "site": line.site_id,
        "department": line.department_id, "line": line.pk, "manager": "", "email": "", "phone": "13800000000",
        "external_refs": "", "reason": "Permission matrix",
    }
    data.update(overrides)
    return data


def _line_form(line: ProductionLine, **overrides) -> dict:
    data = {"code": line.code, "name": "改名的线", "name_en": "", "site": line.site_id,
            "department": line.department_id, "clean_room_class": "", "external_refs": "", "reason": "Matrix"}
    data.update(overrides)
    return data


def ui_request(key: tuple[str, str], w: World) -> tuple[str, dict | None]:
    """The URL (and POST data) that exercises a UI_TABLE row against the plant's records."""
    name, method = key
    line = {"kind": "line", "pk": w.line_b2.pk}
    person = {"pk": w.employee.pk}
    urls: dict[str, str] = {
        # Any domain that is not built yet (its page says what is coming).
        "shell:coming": reverse("shell:coming", kwargs={"key": next(d.key for d in DOMAINS if d.url_name is None)}),
        "org:unit_list": reverse("org:unit_list", kwargs={"kind": "line"}),
        "org:unit_create": reverse("org:unit_create", kwargs={"kind": "line"}),
        "audit:object_history": reverse(
            "audit:object_history", kwargs={"object_type": "people.employee", "object_id": w.employee.pk}),
        "api/v1/^": "/api/v1/no-such-endpoint",
    }
    if name in ("org:unit_detail", "org:unit_edit", "org:unit_deactivate"):
        urls[name] = reverse(name, kwargs=line)
    if name in ("people:employee_detail", "people:employee_edit", "people:employee_deactivate",
                "people:employee_change_position", "people:employee_sign", "training:employee_training",
                "training:passport"):
        urls[name] = reverse(name, kwargs=person)
    t = w.t
    # Pages on one record: the record their URL name is about.
    targets = {
        "training:qualification_": t.qualification, "training:course_": t.course, "training:curriculum_": t.curriculum,
        "training:requirement_": t.requirement, "training:assignment_": t.assignment, "training:record_": t.record,
        "training:effectiveness_": t.check, "documents:": t.document,
    }
    if name.startswith(tuple(targets)) and name.endswith(
            ("_detail", "_edit", "_deactivate", "_remove", "_cancel", "_sign", "_evaluate", "revision_create")):
        urls[name] = reverse(name, kwargs={"pk": next(v for k, v in targets.items() if name.startswith(k)).pk})
    # The planned session is enrolled in, cancelled and its attendance edited; the held one is completed.
    session_pages = {"training:session_detail": t.planned, "training:session_enrol": t.planned,
                     "training:session_cancel": t.planned, "training:session_complete": t.held}
    if name in session_pages:
        urls[name] = reverse(name, kwargs={"pk": session_pages[name].pk})
    elif name == "training:attendance_edit":
        urls[name] = reverse(name, kwargs={"pk": t.planned.pk, "attendance_pk": t.attendance.pk})
    elif name == "training:position_requirements":
        urls[name] = reverse(name, kwargs={"pk": w.supervisor_position.pk})
    elif name == "training:certificate_upload":
        urls[name] = reverse(name, kwargs={"employee_pk": w.employee.pk})
    p = w.p
    # Production, equipment and quality pages on one record: the record each is about.
    record_pages = {
        "production:product_detail": p.product, "production:product_edit": p.product,
        "production:routing_create": p.product, "production:routing_detail": p.routing,
        "production:routing_copy": p.routing, "production:routing_retire": p.routing,
        "production:routing_approve": p.draft, "production:operation_create": p.draft,
        "production:operation_edit": p.draft_operation, "production:operation_remove": p.draft_operation,
        "production:work_order_detail": p.order, "production:run_detail": p.run,
        "production:refusal_detail": p.refusal, "production:refusal_override": p.refusal,
        "production:calibration_impact": p.failed, "production:station_track_out": p.run,
        "production:dhr_view": p.order, "production:dhr_export": p.done, "production:dhr_export_detail": p.export,
        "production:dhr_pdf": p.export, "production:dhr_json": p.export,
        "equipment:equipment_detail": p.equipment, "equipment:equipment_edit": p.equipment,
        "equipment:plan_create": p.equipment, "equipment:record_start": p.equipment,
        "quality:event_detail": p.event, "quality:event_edit": p.event, "quality:event_close": p.event,
    }
    if name in record_pages:
        urls[name] = reverse(name, kwargs={"pk": record_pages[name].pk})
    elif name == "production:work_order_action":
        urls[name] = reverse(name, kwargs={"pk": str(p.created.pk), "action": "release"})
    elif name == "equipment:plan_edit":
        urls[name] = reverse(name, kwargs={"pk": p.equipment.pk, "plan_pk": p.plan.pk})
    elif name in ("equipment:record_detail", "equipment:record_complete"):
        record = p.calibration if name == "equipment:record_detail" else p.open_record
        urls[name] = reverse(name, kwargs={"record_pk": record.pk})
    elif name == "equipment:class_edit":
        urls[name] = reverse(name, kwargs={"class_pk": p.equipment_class.pk})
    h = w.h
    # Integration, automation and import pages on one record: the record each is about.
    hub_pages = {
        "integration:webhook_detail": h.webhook, "integration:webhook_edit": h.webhook,
        "integration:webhook_deactivate": h.webhook, "integration:delivery_detail": h.delivery,
        "integration:delivery_redeliver": h.delivery, "automation:rule_detail": h.rule, "automation:rule_edit": h.rule,
        "automation:rule_deactivate": h.rule, "automation:rule_test": h.rule, "automation:rule_activate": h.draft_rule,
        "imports:batch_detail": h.batch, "imports:batch_progress": h.batch, "imports:batch_commit": h.batch,
        "imports:batch_errors_csv": h.batch, "imports:batch_errors_xlsx": h.batch,
        "imports:batch_rollback": h.committed, "imports:source_detail": h.source,
        "imports:value_mapping_add": h.source,
    }
    if name in hub_pages:
        urls[name] = reverse(name, kwargs={"pk": hub_pages[name].pk})
    elif name in ("integration:event_detail", "automation:event_detail"):
        urls[name] = reverse(name, kwargs={"event_id": h.event.id})
    elif name == "imports:column_mapping_edit":
        urls[name] = reverse(name, kwargs={"pk": h.source.pk, "kind": "positions"})
    elif name == "imports:value_mapping_delete":
        urls[name] = reverse(name, kwargs={"pk": h.source.pk, "mapping_pk": h.value_mapping.pk})
    if name == "automation:rule_test":  # the dry run against a stored event
        urls[name] += f"?event={h.event.id}"
    url = urls.get(name) or reverse(name)
    if method == "GET":
        return url, None
    bodies: dict[str, dict] = {
        "accounts:logout": {},
        "accounts:language": {"language": "zh-hans", "next": "/"},
        "org:unit_create": _line_form(w.line_a, code="PM-NEW", name="新线"),
        "org:unit_edit": _line_form(w.line_b2),
        "org:unit_deactivate": {"reason": "Matrix"},
        "people:employee_create": {
            **_employee_form(w.employee, employee_number="PM-E-NEW"), "position": w.operator_position.pk},
        "people:employee_edit": _employee_form(w.employee),
        "people:employee_deactivate": {"termination_date": "2025-01-01", "reason": "Matrix"},
        "people:employee_change_position": {
            "position": w.operator_position.pk, "start_date": "2025-01-01", "reason": "Matrix"},
        "people:employee_sign": {"meaning": "reviewed", "password": PASSWORD, "reason": ""},
        "audit:verify": {},
        "accounts:notifications_read": {},
        "training:qualification_create": {"code": "PM-Q-NEW", "name": "新资质", "name_en": "", "kind": "internal",
                                          "validity_days": "", "renewal_lead_days": "0", "min_skill_level": "",
                                          "description": "", "reason": "Matrix"},
        "training:requirement_remove": {"reason": "Matrix"},
        "training:assignment_cancel": {"reason": "Matrix"},
        "training:session_enrol": {"employees": w.outsider.employee_number, "reason": "Matrix"},
        "training:session_complete": {"password": PASSWORD, "reason": "Matrix"},
        "training:record_sign": {"password": PASSWORD, "reason": ""},
        "training:effectiveness_evaluate": {"effective": "yes", "comment": "Works safely", "password": PASSWORD},
        "training:certificate_upload": {"qualification": str(w.t.qualification.pk), "number": "PM-CERT-1",
                                        "issuer": "苏州市场监管局", "issued_on": "2026-01-10", "expires_on": "",
                                        "reason": "Matrix"},
        "documents:document_create": {"code": "PM-SOP-NEW", "title": "新规程", "title_en": "", "kind": "sop",
                                      "reason": "Matrix"},
        "documents:revision_create": {"label": "B", "effective_from": "2026-02-01T08:00", "training_required": "on",
                                      "retraining_grace_days": "0", "summary": "", "reason": "Matrix"},
        "production:product_create": _product_form(code="PM-P-NEW", name="新产品"),
        "production:product_edit": _product_form(model="IS-20-XL", is_active="on"),
        "production:routing_create": {"notes": "", "reason": "Matrix"},
        "production:routing_copy": {"notes": "", "reason": "Matrix"},
        "production:routing_approve": {"effective_from": "", "password": PASSWORD, "reason": "Matrix"},
        "production:routing_retire": {"reason": "Matrix"},
        "production:operation_create": _operation_form(w, sequence="20"),
        "production:operation_edit": _operation_form(w, sequence="10", name="改名"),
        "production:operation_remove": {"reason": "Matrix"},
        "production:work_order_create": {
            "number": "PM-WO-NEW", "product": str(p.product.pk), "routing": "", "line": str(w.line_a.pk),
            "quantity": "5", "lot_number": "L-NEW", "serial_numbers": "", "planned_start": "2030-01-01T08:00",
            "planned_end": "2030-01-01T16:00", "reason": "Matrix"},
        "production:work_order_action": {"reason": "Matrix"},
        "production:refusal_override": {"supervisor_password": PASSWORD, "qa_username": w.users["qa"].username,
                                        "qa_password": PASSWORD, "reason": "Matrix"},
        # The line B employee (not tracked in there) at operation 10 of the order in progress: a run.
        "production:station": {"badge": w.outsider.employee_number, "work_order": f"{p.order.number}/10",
                               "sequence": "", "asset_number": ""},
        "production:station_track_out": {"good_quantity": "1", "scrap_quantity": "0"},
        "production:dhr_export": {"password": PASSWORD, "reason": "Matrix"},
        "equipment:equipment_create": _equipment_form(w, asset_number="PM-EQ-NEW"),
        "equipment:equipment_edit": _equipment_form(w, name="改名的灭菌柜"),
        "equipment:plan_create": {"kind": "maintenance", "title": "门封检查", "interval_days": "30", "tasks": "",
                                  "tolerance": "", "qualification": "", "first_due": "2030-01-01T08:00",
                                  "reason": "Matrix"},
        "equipment:record_start": {"plan": "", "kind": "maintenance", "performed_by": "", "external_lab": "SIMT",
                                   "started_at": "", "notes": "", "reason": "Matrix"},
        "equipment:record_complete": {"result": "pass", "completed_at": "", "as_found": "", "as_left": "",
                                      "certificate_number": "", "notes": "", "reason": "Matrix"},
        "equipment:class_create": {"code": "PM-EQC-NEW", "name": "新类别", "name_en": "", "reason": "Matrix"},
        "quality:event_create": {"kind": "nonconformance", "title": "新事件", "description": "",
                                 "site": str(w.site_a.pk), "reason": "Matrix"},
        "quality:event_edit": {"title": "改名", "description": "", "reason": "Matrix"},
        "quality:event_close": {"summary": "Burrs removed.", "password": PASSWORD, "reason": "Matrix"},
        "integration:webhook_create": {"name": "PM-Hook-New", "url": "https://erp.example.com/hook",
                                       "event_types": "training.qualification.*", "max_attempts": "5"},
        "integration:webhook_edit": {"name": "PM-Hook", "url": "https://erp.example.com/hook",
                                     "event_types": "automation.rule.*", "max_attempts": "3", "is_active": "on",
                                     "rotate_secret": ""},
        "integration:webhook_deactivate": {},
        "integration:delivery_redeliver": {},
        "automation:rule_create": _rule_form(name="PM 新规则"),
        "automation:rule_edit": _rule_form(name="PM 拒绝提醒", description="改"),
        "automation:rule_activate": {},
        "automation:rule_deactivate": {},
        "imports:batch_upload": {"kind": "positions", "source": str(w.h.source.pk)},
        "imports:batch_commit": {},
        "imports:batch_rollback": {"reason": "Matrix"},
        "imports:source_list": {"code": "pm-mes", "name": "旧MES"},
        "imports:column_mapping_edit": {"positions-code": "编码", "positions-name": "名称"},
        "imports:value_mapping_add": {"field": "department", "legacy_value": "IM", "value": w.moulding.code},
        "imports:value_mapping_delete": {},
    }
    return url, bodies[name]


def _rule_form(**overrides) -> dict:
    data = {"name": "PM 规则", "description": "", "triggers": "production.operation.refused", "condition": "",
            "actions": json.dumps([{"type": "notify", "to": ["manager"], "subject": "拒绝", "body": "拒绝"}])}
    data.update(overrides)
    return data


# Pages whose form carries a file: (field, name, content).
UI_FILES = {
    ("training:certificate_upload", "POST"): ("scan", "scan.pdf", MINIMAL_PDF),
    ("imports:batch_upload", "POST"): ("file", "positions.csv", _positions_file("PM-POS-3")),
}


def _product_form(**overrides) -> dict:
    data = {"code": "PM-P", "name": "输液器", "name_en": "Infusion set", "model": "", "device_class": "II",
            "udi_di": "", "reason": "Matrix"}
    data.update(overrides)
    return data


def _operation_form(w: World, **overrides) -> dict:
    data = {"sequence": "10", "name": "工序10", "name_en": "", "work_center": str(w.work_center.pk),
            "standard_minutes": "1", "equipment_class": "", "work_instruction": "", "qualifications": [],
            "inspection_points": "", "external_refs": "", "reason": "Matrix"}
    data.update(overrides)
    return data


def _equipment_form(w: World, **overrides) -> dict:
    data = {"asset_number": "PM-EQ-1", "name": "灭菌柜", "name_en": "", "equipment_class": str(w.p.equipment_class.pk),
            "site": str(w.site_a.pk), "line": str(w.line_a.pk), "work_center": "", "status": "in_service",
            "manufacturer": "", "model_number": "", "serial_number": "", "reason": "Matrix"}
    data.update(overrides)
    return data


def _assert_written(rule: Expect, before: dict[str, Any], after: dict[str, Any]) -> None:
    if rule.written == "audit":
        assert after["audit"] > before["audit"]
    else:
        assert after[rule.written] != before[rule.written]


def _signed_in_client(w: World, role: str) -> Client:
    client = Client()
    if role == ANONYMOUS:
        return client
    if role == Role.INTEGRATION:
        # No usable password, so the login form never gives it a session (the accounts:login POST row
        # proves it): in the UI it is anonymous.
        return client
    client.force_login(w.users[role])
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _login_case(w: World, role: str, rule: Expect) -> None:
    client = Client()
    username = w.users[role].username if role != ANONYMOUS else "nobody-at-all"
    response = client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})
    if role in rule.allowed:
        assert response.status_code == rule.ok
        assert response["Location"] == reverse("shell:home")
        assert client.session["_auth_user_id"] == str(w.users[role].pk)
    else:
        assert role in rule.refused_on_form
        assert response.status_code == 200
        assert response.context["form"].errors
        assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("key", list(UI_TABLE), ids=lambda key: f"{key[0]}-{key[1]}")
def test_ui(key, role, w):
    rule = UI_TABLE[key]
    if key == ("accounts:login", "POST"):
        _login_case(w, role, rule)
        return
    client = _signed_in_client(w, role)
    signed_in = role not in (ANONYMOUS, Role.INTEGRATION)
    url, data = ui_request(key, w)
    before = state()
    if key in UI_FILES:
        field_name, file_name, content = UI_FILES[key]
        data = {**data, field_name: SimpleUploadedFile(file_name, content)}
    response = client.get(url) if data is None else client.post(url, data)
    body = _body(response)
    after = state()
    if role in rule.allowed:
        expected = rule.ok_when_signed_in if signed_in and rule.ok_when_signed_in else rule.ok
        assert response.status_code == expected, body[:2000]
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("accounts:login")) or key[0] == "accounts:logout"
        if rule.writes:
            _assert_written(rule, before, after)
        return
    assert after == before, "a refused request wrote something"
    if not signed_in:
        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse(settings.LOGIN_URL)}?next=")
    elif role in rule.hidden:
        assert response.status_code == 404
    elif role in rule.refused_on_form:
        assert response.status_code == 200
        form, errors = rule.form_errors
        assert response.context[form].errors == errors
    else:
        assert response.status_code == 403


# --------------------------------------------------------------------------------------------------------
# API operations
# --------------------------------------------------------------------------------------------------------

class Api:
    """JSON calls to the API, with a bearer token, with the browser session, or with no credentials."""

    def __init__(self, w: World, role: str, auth: str):
        self.client = Client()
        self.headers: dict[str, str] = {}
        if auth == "token":
            self.headers["Authorization"] = f"Bearer {w.tokens[role]}"
        elif auth == "session":
            self.client.force_login(w.users[role])

    def call(self, method: str, path: str, body: dict | None = None, **params):
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=json.dumps(body, default=str), content_type="application/json")
        if params:
            kwargs["query_params"] = params
        return getattr(self.client, method)(path, **kwargs)


ORG_TARGETS = {  # URL segment -> the unit its get / update / deactivate rows act on
    "companies": "company", "sites": "site_b", "departments": "moulding", "lines": "line_b2",
    "work-centers": "work_center", "positions": "supervisor_position",
}


def api_request(operation: str, method: str, path: str, w: World) -> tuple[str, dict | None]:
    """The path (and JSON body) that exercises an API_TABLE row against the plant's records."""
    if path.startswith("/api/v1/org/"):
        slug = path.split("/")[4]
        path = path.replace("{unit_id}", str(getattr(w, ORG_TARGETS[slug]).pk))
    p = w.p
    # Production, equipment and quality records: the one each operation acts on (the first that applies).
    targets = {
        "routing_approve": {"{routing_id}": p.draft}, "routing_update": {"{routing_id}": p.draft},
        "operation_create": {"{routing_id}": p.draft},
        "work_order_release": {"{work_order_id}": p.created}, "work_order_cancel": {"{work_order_id}": p.created},
        "work_order_start": {"{work_order_id}": p.released}, "work_order_close": {"{work_order_id}": p.done},
        "equipment_record_complete": {"{record_id}": p.open_record}, "calibration_impact_get": {"{record_id}": p.failed},
    }.get(operation, {})
    for placeholder, record in {
        "{product_id}": p.product, "{routing_id}": p.routing, "{operation_id}": p.draft_operation,
        "{work_order_id}": p.order, "{run_id}": p.run, "{refusal_id}": p.refusal, "{record_id}": p.calibration,
        "{export_id}": p.export, "{equipment_id}": p.equipment, "{plan_id}": p.plan,
        "{class_id}": p.equipment_class, "{event_id}": p.event, **targets,
    }.items():
        if path.startswith(("/api/v1/production/", "/api/v1/equipment", "/api/v1/quality/")):
            path = path.replace(placeholder, str(record.pk))
    if operation == "operation_delete":  # a DELETE carries its reason in the query
        path += "?reason=Matrix"
    t = w.t
    session = t.held if operation in ("training_session_complete", "training_attendance_record",
                                      "training_assessment_record") else t.planned
    for placeholder, value in {
        "{employee_id}": w.employee.pk, "{token_id}": w.spare_token.pk, "{qualification_id}": t.qualification.pk,
        "{course_id}": t.course.pk, "{curriculum_id}": t.curriculum.pk, "{assignment_id}": t.assignment.pk,
        "{session_id}": session.pk, "{attendance_id}": t.held_attendance.pk, "{record_id}": t.record.pk,
        "{check_id}": t.check.pk, "{document_id}": t.document.pk,
        "{target_kind}/{target}": f"position/{w.supervisor_position.pk}",
    }.items():
        path = path.replace(placeholder, str(value))
    h = w.h
    # Integration, automation and import records: the committed batch is rolled back, the inactive rule
    # activated; every other operation acts on the validated batch and the active rule.
    batch = h.committed if operation == "imports_batch_rollback" else h.batch
    rule = h.draft_rule if operation == "automation_rule_activate" else h.rule
    if path.startswith(("/api/v1/integration/", "/api/v1/automation/", "/api/v1/imports/")):
        for placeholder, value in {
            "{webhook_id}": h.webhook.pk, "{delivery_id}": h.delivery.pk, "{event_id}": h.event.id,
            "{rule_id}": rule.pk, "{batch_id}": batch.pk, "{code}": h.source.code, "{kind}": "positions",
            "{mapping_id}": h.value_mapping.pk,
        }.items():
            path = path.replace(placeholder, str(value))
    if method in ("get", "delete"):
        return path, None
    org_create = {
        "org_company_create": {"code": "PM-NEW", "name": "新公司"},
        "org_site_create": {"code": "PM-NEW", "name": "新工厂", "company_id": str(w.company.pk)},
        "org_department_create": {"code": "PM-NEW", "name": "新部门", "site_id": str(w.site_a.pk)},
        "org_productionline_create": {"code": "PM-NEW", "name": "新线", "site_id": str(w.site_a.pk),
                                      "department_id": str(w.assembly.pk)},
        "org_workcenter_create": {"code": "PM-NEW", "name": "新工位", "line_id": str(w.line_a.pk)},
        "org_position_create": {"code": "PM-NEW", "name": "新岗位", "department_id": str(w.assembly.pk)},
    }
    if operation in org_create:
        return path, {**org_create[operation], "reason": "Matrix"}
    if operation.startswith("org_") and operation.endswith("_update"):
        return path, {"name": "改名", "reason": "Matrix"}
    if operation.startswith("org_") and operation.endswith("_deactivate"):
        return path, {"reason": "Matrix"}
    bodies = {
        "token_issue": {"username": w.users["operator"].username, "name": "Matrix"},
        "employee_create": {
            "employee_number": "PM-E-NEW", "family_name": "李", "given_name": "娜", "hire_date": "2024-05-06",
            "site_id": str(w.site_a.pk), "department_id": str(w.assembly.pk), "line_id": str(w.line_a.pk),
            "position_id": str(w.operator_position.pk), "reason": "Matrix",
        },
        "employee_update": {"phone": "13800000000", "reason": "Matrix"},
        "employee_deactivate": {"termination_date": "2025-01-01", "reason": "Matrix"},
        "employee_change_position": {
            "position_id": str(w.operator_position.pk), "start_date": "2025-01-01", "reason": "Matrix"},
        "training_qualification_create": {"code": "PM-Q-NEW", "name": "新资质", "reason": "Matrix"},
        "training_qualification_update": {"name": "改名", "reason": "Matrix"},
        "training_qualification_deactivate": {"reason": "Matrix"},
        "training_course_create": {"code": "PM-C-NEW", "name": "新课程", "duration_hours": "2", "reason": "Matrix"},
        "training_course_update": {"name": "改名", "reason": "Matrix"},
        "training_curriculum_create": {"code": "PM-CUR-NEW", "name": "新课程表", "reason": "Matrix"},
        "training_curriculum_update": {"name": "改名", "reason": "Matrix"},
        "training_target_requirements_set": {"requirements": [], "reason": "Matrix"},
        "training_assignment_create": {"employee_id": str(w.outsider.pk), "course_id": str(t.course.pk),
                                       "reason": "ad_hoc", "due_on": "2030-01-01"},
        "training_assignment_cancel": {"reason": "Matrix"},
        "training_session_schedule": {"course_id": str(t.course.pk), "starts_at": "2030-01-01T08:00:00+08:00",
                                      "ends_at": "2030-01-01T10:00:00+08:00", "capacity": 5,
                                      "external_trainer": "外部讲师", "reason": "Matrix"},
        "training_session_cancel": {"reason": "Matrix"},
        "training_session_enrol": {"employee_ids": [str(w.outsider.pk)], "reason": "Matrix"},
        "training_attendance_record": {"attended": True, "practical_signed_off": True, "reason": "Matrix"},
        "training_assessment_record": {"kind": "written", "score": "95", "reason": "Matrix"},
        "training_session_complete": {"password": PASSWORD, "reason": "Matrix"},
        "training_record_sign": {"password": PASSWORD, "reason": ""},
        "training_effectiveness_evaluate": {"effective": True, "comment": "Works safely", "password": PASSWORD},
        "training_reconcile": {"employee_ids": [str(w.employee.pk)]},
        "training_certificate_record": {"employee_id": str(w.employee.pk), "qualification_id": str(t.qualification.pk),
                                        "number": "PM-CERT-1", "issuer": "苏州市场监管局", "issued_on": "2026-01-10",
                                        "reason": "Matrix"},
        "document_create": {"code": "PM-SOP-NEW", "title": "新规程", "reason": "Matrix"},
        "document_update": {"title": "改名", "reason": "Matrix"},
        "document_revision_create": {"label": "B", "effective_from": "2026-02-01T08:00:00+08:00", "reason": "Matrix"},
        "product_create": {"code": "PM-P-NEW", "name": "新产品", "device_class": "II", "reason": "Matrix"},
        "product_update": {"model": "IS-20-XL", "reason": "Matrix"},
        "routing_create": {"reason": "Matrix"},
        "routing_update": {"notes": "改", "reason": "Matrix"},
        "routing_copy": {"reason": "Matrix"},
        "routing_approve": {"password": PASSWORD, "reason": "Matrix"},
        "routing_retire": {"reason": "Matrix"},
        "operation_create": {"sequence": 20, "name": "贴标", "work_center_id": str(w.work_center.pk),
                             "standard_minutes": "0.3", "reason": "Matrix"},
        "operation_update": {"name": "改名", "reason": "Matrix"},
        "work_order_create": {"number": "PM-WO-NEW", "product_id": str(p.product.pk), "line_id": str(w.line_a.pk),
                              "quantity": 5, "lot_number": "L-NEW", "planned_start": "2030-01-01T08:00:00+08:00",
                              "planned_end": "2030-01-01T16:00:00+08:00", "reason": "Matrix"},
        **{f"work_order_{action}": {"reason": "Matrix"} for action in ("release", "start", "complete", "close",
                                                                       "cancel")},
        # The line B employee (not tracked in there) at operation 10 of the order in progress: a run.
        "operation_track_in": {"badge": w.outsider.employee_number, "work_order": f"{p.order.number}/10"},
        "operation_track_out": {"good_quantity": 1},
        "equipment_class_create": {"code": "PM-EQC-NEW", "name": "新类别", "reason": "Matrix"},
        "equipment_class_update": {"name": "改名", "reason": "Matrix"},
        "equipment_create": {"asset_number": "PM-EQ-NEW", "name": "新设备", "equipment_class_id": str(p.equipment_class.pk),
                             "site_id": str(w.site_a.pk), "line_id": str(w.line_a.pk), "reason": "Matrix"},
        "equipment_update": {"name": "改名", "reason": "Matrix"},
        "equipment_plan_create": {"kind": "maintenance", "title": "门封检查", "interval_days": 30,
                                  "first_due": "2030-01-01T08:00:00+08:00", "reason": "Matrix"},
        "equipment_plan_update": {"title": "改名", "reason": "Matrix"},
        "equipment_record_start": {"kind": "maintenance", "external_lab": "SIMT", "reason": "Matrix"},
        "equipment_record_create": {"kind": "maintenance", "external_lab": "SIMT",
                                    "started_at": "2025-01-01T08:00:00+08:00", "result": "pass", "reason": "Matrix"},
        "equipment_record_complete": {"result": "pass", "reason": "Matrix"},
        "quality_event_open": {"kind": "nonconformance", "title": "新事件", "site_id": str(w.site_a.pk),
                               "reason": "Matrix"},
        "quality_event_update": {"title": "改名", "reason": "Matrix"},
        "integration_webhook_create": {"name": "PM-Hook-New", "url": "https://erp.example.com/hook",
                                       "event_types": ["training.qualification.*"]},
        "integration_webhook_update": {"url": "https://erp.example.com/hook", "max_attempts": 3},
        "integration_webhook_deactivate": {},
        "integration_delivery_redeliver": {},
        "automation_rule_create": {"name": "PM 新规则", "triggers": ["production.operation.refused"],
                                   "actions": [{"type": "notify", "to": ["manager"], "subject": "拒绝", "body": "拒绝"}]},
        "automation_rule_update": {"description": "改"},
        "automation_rule_activate": {},
        "automation_rule_deactivate": {},
        "automation_rule_test": {"event_id": str(h.event.id)},
        "imports_batch_create": {"kind": "positions", "source": h.source.code},
        "imports_batch_commit": {},
        "imports_batch_rollback": {"reason": "Matrix"},
        "imports_source_create": {"code": "pm-mes", "name": "旧MES"},
        "imports_source_update": {"name": "改名"},
        "imports_column_mapping_set": {"columns": {"code": "编码", "name": "名称"}},
        "imports_value_mapping_set": {"field": "department", "legacy_value": "IM", "value": w.moulding.code},
    }
    return path, bodies[operation]


# Operations whose body is a form with a file, not JSON: (field, name, content).
API_FILES = {
    "training_certificate_record": ("scan", "scan.pdf", MINIMAL_PDF),
    "imports_batch_create": ("file", "positions.csv", _positions_file("PM-POS-3")),
}


def _api_callers() -> list[tuple[str, str]]:
    """(role, auth): every role with its API token; the people also through their browser session (the
    integration client has none); anonymous with no credentials."""
    callers = [(role, "token") for role in ROLES]
    callers += [(role, "session") for role in ROLES if role != Role.INTEGRATION]
    return [*callers, (ANONYMOUS, "none")]


@pytest.mark.parametrize(("role", "auth"), _api_callers(), ids=lambda value: value)
@pytest.mark.parametrize("operation", list(API_TABLE))
def test_api(operation, role, auth, w, operations):
    rule = API_TABLE[operation]
    method, template = operations[operation]
    path, body = api_request(operation, method, template, w)
    api = Api(w, role, auth)
    before = state()
    if operation in API_FILES:
        field_name, file_name, content = API_FILES[operation]
        response = api.client.post(path, {**body, field_name: SimpleUploadedFile(file_name, content)},
                                   headers=api.headers)
    else:
        response = api.call(method, path, body)
    after = state()
    answer = {caller: (status, code) for caller, status, code in rule.answers}.get(f"{role}/{auth}")
    if answer is None and role in rule.allowed:
        assert response.status_code == rule.ok, response.content[:2000]
        expected_type = "application/pdf" if operation in PDF_OPERATIONS else "application/json"
        assert response["Content-Type"].startswith(expected_type)
        if rule.writes:
            _assert_written(rule, before, after)
        return
    assert response["Content-Type"].startswith("application/json")
    if answer is None and role in rule.hidden:
        answer = (404, "core.not_found")
    if answer is None:
        answer = (401, "core.authentication_required") if role == ANONYMOUS else (403, "core.permission_denied")
    assert (response.status_code, response.json()["code"]) == answer, response.content[:2000]
    assert after == before, "a refused request wrote something"


# --------------------------------------------------------------------------------------------------------
# SCIM
# --------------------------------------------------------------------------------------------------------

SCIM_JSON = "application/scim+json"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def scim_request(key: tuple[str, str], w: World) -> tuple[str, dict | None]:
    """The URL (and JSON body) that exercises a SCIM_TABLE row: the operator's login, the SCIM group."""
    name = key[0]
    kwargs = {
        "scim:resource_type": {"type_id": "User"}, "scim:schema": {"schema_id": SCIM_USER},
        "scim:user": {"record_id": w.users["operator"].pk}, "scim:group": {"record_id": w.h.group.pk},
        "scim:not_found": {"path": "Devices"},
    }.get(name)
    url = reverse(name, kwargs=kwargs)
    bodies = {
        ("scim:users", "POST"): {
            "schemas": [SCIM_USER, SCIM_ENTERPRISE], "userName": "pm-scim", "name": {"familyName": "周", "givenName": "杰"},
            "active": True, "emails": [{"value": "pm-scim@example.com", "type": "work", "primary": True}],
            SCIM_ENTERPRISE: {"employeeNumber": "PM-E-SCIM", "department": w.assembly.code}},
        ("scim:users_search", "POST"): {"schemas": [SCIM_SEARCH], "filter": 'userName eq "pm-operator"'},
        ("scim:user", "PATCH"): {"schemas": [SCIM_PATCH], "Operations": [
            {"op": "add", "path": "phoneNumbers", "value": [{"value": "+86 512 6666 0000", "type": "work"}]}]},
        ("scim:groups", "POST"): {"schemas": [SCIM_GROUP], "displayName": "PM 新组"},
        ("scim:groups_search", "POST"): {"schemas": [SCIM_SEARCH], "filter": 'displayName eq "PM 组"'},
        ("scim:group", "PATCH"): {"schemas": [SCIM_PATCH], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": str(w.users["operator"].pk)}]}]},
        ("scim:search", "POST"): {"schemas": [SCIM_SEARCH]},
    }
    return url, bodies.get(key)


@pytest.mark.parametrize(("role", "auth"), _api_callers(), ids=lambda value: value)
@pytest.mark.parametrize("key", list(SCIM_TABLE), ids=lambda key: f"{key[0]}-{key[1]}")
def test_scim(key, role, auth, w):
    rule = SCIM_TABLE[key]
    url, body = scim_request(key, w)
    api = Api(w, role, auth)
    kwargs: dict[str, Any] = {"headers": api.headers}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type=SCIM_JSON)
    before = state()
    response = getattr(api.client, key[1].lower())(url, **kwargs)
    after = state()
    if auth == "token" and role in rule.allowed:
        assert response.status_code == rule.ok, response.content[:2000]
        if rule.writes:
            _assert_written(rule, before, after)
        return
    assert response.status_code == (403 if auth == "token" else 401), response.content[:2000]
    assert response["Content-Type"] == SCIM_JSON
    assert response.json()["schemas"] == [SCIM_ERROR]
    assert after == before, "a refused request wrote something"


# --------------------------------------------------------------------------------------------------------
# Scope: a production supervisor of line A, against line A's employee and line B's
# --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScopeCase:
    method: str
    url_name: str  # UI URL name, or the API path under /api/v1 with {id}
    target: str  # "employee" (line A) or "outsider" (line B)
    status: int
    data: str | None = None  # which body to send
    writes: bool = False


UI_SCOPE = {
    "detail-own": ScopeCase("GET", "people:employee_detail", "employee", 200),
    "edit-own": ScopeCase("GET", "people:employee_edit", "employee", 200),
    "deactivate-own": ScopeCase("GET", "people:employee_deactivate", "employee", 200),
    "position-own": ScopeCase("GET", "people:employee_change_position", "employee", 200),
    "save-own": ScopeCase("POST", "people:employee_edit", "employee", 302, "edit", writes=True),
    "detail-other-line": ScopeCase("GET", "people:employee_detail", "outsider", 404),
    "edit-other-line": ScopeCase("GET", "people:employee_edit", "outsider", 404),
    "deactivate-other-line": ScopeCase("GET", "people:employee_deactivate", "outsider", 404),
    "position-other-line": ScopeCase("GET", "people:employee_change_position", "outsider", 404),
    "save-other-line": ScopeCase("POST", "people:employee_edit", "outsider", 404, "edit"),
    "deactivate-post-other-line": ScopeCase("POST", "people:employee_deactivate", "outsider", 404, "deactivate"),
    "position-post-other-line": ScopeCase("POST", "people:employee_change_position", "outsider", 404, "position"),
    "sign-other-line": ScopeCase("POST", "people:employee_sign", "outsider", 404, "sign"),
    # Moving one's own employee to line B, or hiring onto line B: the service refuses, the form says so.
    "move-own-to-other-line": ScopeCase("POST", "people:employee_edit", "employee", 200, "move"),
    "hire-onto-other-line": ScopeCase("POST", "people:employee_create", "", 200, "hire"),
}


def _ui_scope_body(case: ScopeCase, w: World, target: Employee | None) -> dict:
    return {
        "edit": lambda: _employee_form(target),
        "move": lambda: _employee_form(target, line=w.line_b.pk),
        "hire": lambda: {**_employee_form(w.outsider, employee_number="PM-E-NEW"), "position": ""},
        "deactivate": lambda: {"termination_date": "2025-01-01", "reason": "Matrix"},
        "position": lambda: {"position": w.operator_position.pk, "start_date": "2025-01-01", "reason": "Matrix"},
        "sign": lambda: {"meaning": "reviewed", "password": PASSWORD, "reason": ""},
    }[case.data]()


@pytest.mark.parametrize("name", list(UI_SCOPE))
def test_ui_line_scope(name, w):
    case = UI_SCOPE[name]
    client = _signed_in_client(w, Role.PRODUCTION_SUPERVISOR)
    target = getattr(w, case.target) if case.target else None
    url = reverse(case.url_name, kwargs={"pk": target.pk} if target else None)
    before = state()
    response = client.get(url) if case.method == "GET" else client.post(url, _ui_scope_body(case, w, target))
    assert response.status_code == case.status
    if case.writes:
        assert state()["audit"] > before["audit"]
        return
    assert state() == before
    if case.data in ("move", "hire"):
        assert response.context["form"].errors == {"__all__": ["You are not allowed to change this employee."]}


def test_ui_line_scope_lists_only_the_line(w):
    client = _signed_in_client(w, Role.PRODUCTION_SUPERVISOR)
    listed = [e.employee_number for e in client.get(reverse("people:employee_list")).context["page"]]
    assert listed == ["PM-E-A"]
    export = client.get(reverse("people:employee_export"))
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == ["PM-E-A"]


API_SCOPE = {
    "get-own": ScopeCase("get", "/employees/{id}", "employee", 200),
    "positions-own": ScopeCase("get", "/employees/{id}/positions", "employee", 200),
    "update-own": ScopeCase("patch", "/employees/{id}", "employee", 200, "update", writes=True),
    "get-other-line": ScopeCase("get", "/employees/{id}", "outsider", 404),
    "positions-other-line": ScopeCase("get", "/employees/{id}/positions", "outsider", 404),
    "update-other-line": ScopeCase("patch", "/employees/{id}", "outsider", 404, "update"),
    "deactivate-other-line": ScopeCase("post", "/employees/{id}/deactivate", "outsider", 404, "deactivate"),
    "position-other-line": ScopeCase("post", "/employees/{id}/position", "outsider", 404, "position"),
    # Out-of-scope destinations are refused by the service: 403 with the people app's code.
    "move-own-to-other-line": ScopeCase("patch", "/employees/{id}", "employee", 403, "move"),
    "hire-onto-other-line": ScopeCase("post", "/employees", "", 403, "hire"),
}


def _api_scope_body(case: ScopeCase, w: World) -> dict:
    return {
        "update": {"phone": "13800000000", "reason": "Matrix"},
        "move": {"line_id": str(w.line_b.pk), "reason": "Matrix"},
        "hire": {"employee_number": "PM-E-NEW", "family_name": "李", "given_name": "娜", "hire_date": "2024-05-06",
                 "site_id": str(w.site_a.pk), "department_id": str(w.assembly.pk), "line_id": str(w.line_b.pk),
                 "reason": "Matrix"},
        "deactivate": {"termination_date": "2025-01-01", "reason": "Matrix"},
        "position": {"position_id": str(w.operator_position.pk), "start_date": "2025-01-01", "reason": "Matrix"},
    }[case.data]


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("name", list(API_SCOPE))
def test_api_line_scope(name, auth, w):
    case = API_SCOPE[name]
    api = Api(w, Role.PRODUCTION_SUPERVISOR, auth)
    target = getattr(w, case.target) if case.target else None
    path = "/api/v1" + case.url_name.replace("{id}", str(target.pk) if target else "")
    before = state()
    response = api.call(case.method, path, _api_scope_body(case, w) if case.data else None)
    assert response.status_code == case.status, response.content[:2000]
    if case.writes:
        assert state()["audit"] > before["audit"]
        return
    assert state() == before
    if case.status == 404:
        assert response.json()["code"] == "core.not_found"
    elif case.status == 403:
        assert response.json()["code"] == "people.out_of_scope"


@pytest.mark.parametrize("auth", ["token", "session"])
def test_api_line_scope_lists_only_the_line(auth, w):
    api = Api(w, Role.PRODUCTION_SUPERVISOR, auth)
    listed = api.call("get", "/api/v1/employees").json()["items"]
    assert [e["employee_number"] for e in listed] == ["PM-E-A"]
    # Filtering by line B does not reveal it either.
    by_line = api.call("get", "/api/v1/employees", line_id=str(w.line_b.pk)).json()["items"]
    assert by_line == []


# --------------------------------------------------------------------------------------------------------
# Training scope: the line A supervisor (training.view) and a line A training coordinator (training.manage)
# --------------------------------------------------------------------------------------------------------

def _line_a_coordinator(w: World) -> User:
    user = account_services.user_create(username="pm-line-coordinator", password=PASSWORD, language="en")
    account_services.role_assign(user=user, role=Role.TRAINING_COORDINATOR, scope_kind=ScopeKind.LINE,
                                 scope_id=w.line_a.pk)
    return user


def _expiring_soon(w: World) -> None:
    """Both employees hold the qualification, expiring in five days."""
    for person in (w.employee, w.outsider):
        training_services.qualification_grant(
            employee=person, qualification=w.t.qualification, valid_from=timezone.now() - dt.timedelta(days=360),
            source="manual", reason="Matrix")


# (who, URL name, target, status): the status the code gives; an employee outside the reader's area is a 403
# (training.out_of_scope), not a 404.
UI_TRAINING_SCOPE = {
    "training-own": ("supervisor", "training:employee_training", "employee", 200),
    "training-other-line": ("supervisor", "training:employee_training", "outsider", 403),
    "passport-own": ("supervisor", "training:passport", "employee", 200),
    "passport-other-line": ("supervisor", "training:passport", "outsider", 403),
    "certificate-own": ("coordinator", "training:certificate_upload", "employee", 200),
    "certificate-other-line": ("coordinator", "training:certificate_upload", "outsider", 403),
    "certificate-post-other-line": ("coordinator", "training:certificate_upload", "outsider", 403),
}


@pytest.mark.parametrize("name", list(UI_TRAINING_SCOPE))
def test_ui_training_line_scope(name, w):
    who, url_name, target, status = UI_TRAINING_SCOPE[name]
    client = Client()
    client.force_login(w.users["production_supervisor"] if who == "supervisor" else _line_a_coordinator(w))
    person = getattr(w, target)
    kwargs = {"employee_pk": person.pk} if url_name == "training:certificate_upload" else {"pk": person.pk}
    url = reverse(url_name, kwargs=kwargs)
    before = state()
    if "post" in name:
        _url, data = ui_request(("training:certificate_upload", "POST"), w)
        response = client.post(url, {**data, "scan": SimpleUploadedFile("scan.pdf", MINIMAL_PDF)})
    else:
        response = client.get(url)
    assert response.status_code == status
    assert state() == before


def test_ui_training_lists_only_the_line(w):
    _expiring_soon(w)
    client = _signed_in_client(w, Role.PRODUCTION_SUPERVISOR)
    matrix = client.get(reverse("training:matrix"))
    assert [row["employee"].employee_number for row in matrix.context["rows"]] == ["PM-E-A"]
    export = client.get(reverse("training:matrix_export"))
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == ["PM-E-A"]
    expiring = client.get(reverse("training:expiring"))
    assert [row.grant.employee.employee_number for row in expiring.context["page"]] == ["PM-E-A"]
    everyone = _signed_in_client(w, Role.SYSTEM_ADMIN).get(reverse("training:expiring"))
    assert sorted(row.grant.employee.employee_number for row in everyone.context["page"]) == ["PM-E-A", "PM-E-B"]


API_TRAINING_SCOPE = {
    "status-own": ("/training/employees/{id}/status", "employee", 200),
    "status-other-line": ("/training/employees/{id}/status", "outsider", 403),
    "passport-own": ("/training/employees/{id}/passport.pdf", "employee", 200),
    "passport-other-line": ("/training/employees/{id}/passport.pdf", "outsider", 403),
}


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("name", list(API_TRAINING_SCOPE))
def test_api_training_line_scope(name, auth, w):
    template, target, status = API_TRAINING_SCOPE[name]
    api = Api(w, Role.PRODUCTION_SUPERVISOR, auth)
    response = api.call("get", "/api/v1" + template.replace("{id}", str(getattr(w, target).pk)))
    assert response.status_code == status, response.content[:2000]
    if status == 403:
        assert response.json()["code"] == "training.out_of_scope"


@pytest.mark.parametrize("auth", ["token", "session"])
def test_api_training_lists_only_the_line(auth, w):
    _expiring_soon(w)
    api = Api(w, Role.PRODUCTION_SUPERVISOR, auth)
    matrix = api.call("get", "/api/v1/training/matrix").json()
    assert [row["employee_number"] for row in matrix["items"]] == ["PM-E-A"]
    expiring = api.call("get", "/api/v1/training/expiring").json()["items"]
    assert [row["employee_number"] for row in expiring] == ["PM-E-A"]


def test_notifications_are_the_recipients_own(w):
    """Another user's notification cannot be read or marked read by id."""
    notification = w.t.notification
    mine = _signed_in_client(w, Role.OPERATOR).get(reverse("accounts:notifications"))
    assert [n.pk for n in mine.context["page"]] == [notification.pk]
    other = _signed_in_client(w, Role.SYSTEM_ADMIN)
    assert list(other.get(reverse("accounts:notifications")).context["page"]) == []
    before = state()
    response = other.post(reverse("accounts:notifications_read"), {"notification": str(notification.pk)})
    assert response.status_code == 404
    assert state() == before


@pytest.mark.parametrize(("target", "status"), [("employee", 201), ("outsider", 403)])
def test_api_certificate_upload_line_scope(target, status, w):
    """A line A training coordinator records certificates for line A's people only."""
    token = account_services.api_token_issue(user=_line_a_coordinator(w), name="matrix")[1]
    _path, body = api_request("training_certificate_record", "post", "/api/v1/training/certificates", w)
    before = state()
    response = Client().post("/api/v1/training/certificates", {
        **body, "employee_id": str(getattr(w, target).pk), "scan": SimpleUploadedFile("scan.pdf", MINIMAL_PDF)},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.content[:2000]
    if status == 403:
        assert response.json()["code"] == "training.out_of_scope"
        assert state() == before
    else:
        assert state()["Certificate"] != before["Certificate"]


# --------------------------------------------------------------------------------------------------------
# Production scope: the line A supervisor against line B's work order and asset
# --------------------------------------------------------------------------------------------------------

def test_production_line_scope_hides_line_b(w):
    """Line B's work order and asset are not found (or, for the DHR, out of scope) and nothing is written;
    lists show line A only."""
    p = w.p
    client = _signed_in_client(w, Role.PRODUCTION_SUPERVISOR)
    api = Api(w, Role.PRODUCTION_SUPERVISOR, "token")
    order, asset = str(p.outside_order.pk), str(p.outside_equipment.pk)
    before = state()
    assert client.get(reverse("production:work_order_detail", kwargs={"pk": order})).status_code == 404
    assert client.post(reverse("production:work_order_action", kwargs={"pk": order, "action": "release"}),
                       {"reason": "Matrix"}).status_code == 404
    assert client.get(reverse("production:dhr_view", kwargs={"pk": order})).status_code == 403
    assert client.get(reverse("equipment:equipment_detail", kwargs={"pk": asset})).status_code == 404
    assert client.get(reverse("equipment:record_start", kwargs={"pk": asset})).status_code == 404
    listed = client.get(reverse("production:work_order_list")).context["page"]
    assert sorted(o.number for o in listed) == ["PM-WO-C", "PM-WO-D", "PM-WO-M", "PM-WO-R"]
    for method, path, body, answer in (
        ("get", f"/api/v1/production/work-orders/{order}", None, (404, "core.not_found")),
        ("post", f"/api/v1/production/work-orders/{order}/release", {"reason": "Matrix"}, (404, "core.not_found")),
        ("get", f"/api/v1/production/work-orders/{order}/dhr", None, (403, "production.out_of_scope")),
        ("post", "/api/v1/production/track-in", {"badge": w.employee.employee_number, "work_order": "PM-WO-B/10"},
         (403, "production.out_of_scope")),
        ("get", f"/api/v1/equipment/{asset}", None, (404, "core.not_found")),
    ):
        response = api.call(method, path, body)
        assert (response.status_code, response.json()["code"]) == answer, (path, response.content[:2000])
    assets = api.call("get", "/api/v1/equipment").json()["items"]
    assert sorted(a["asset_number"] for a in assets) == ["PM-EQ-1", "PM-EQ-2"]
    assert state() == before
