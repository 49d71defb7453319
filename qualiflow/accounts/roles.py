"""Roles and the permissions they carry. Deny by default: a permission not listed here is not granted.

Permissions are `<app>.<what>`; a role assignment may narrow a role to one site, department or line.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Perm:
    ORG_VIEW = "org.view"
    ORG_MANAGE = "org.manage"
    PEOPLE_VIEW = "people.view"
    PEOPLE_MANAGE = "people.manage"
    PEOPLE_VIEW_SENSITIVE = "people.view_sensitive"
    TRAINING_VIEW = "training.view"
    TRAINING_MANAGE = "training.manage"
    DOCUMENTS_VIEW = "documents.view"
    DOCUMENTS_MANAGE = "documents.manage"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    EQUIPMENT_VIEW = "equipment.view"
    EQUIPMENT_MANAGE = "equipment.manage"  # classes, assets, plans
    EQUIPMENT_SERVICE = "equipment.service"  # record maintenance and calibration (gated by qualification)
    QUALITY_VIEW = "quality.view"
    QUALITY_MANAGE = "quality.manage"
    QUALITY_APPROVE = "quality.approve"  # QA's signature on an override of the production gate
    PRODUCTION_VIEW = "production.view"
    PRODUCTION_MANAGE = "production.manage"  # products, routings, work orders
    PRODUCTION_EXECUTE = "production.execute"  # the shop-floor station: track in and out
    PRODUCTION_OVERRIDE = "production.override"  # the supervisor's signature on an override of the gate
    PRODUCTION_EXPORT = "production.export"  # signed device history records
    INTEGRATION_VIEW = "integration.view"  # webhooks, deliveries, automation rules and firings, import batches
    INTEGRATION_MANAGE = "integration.manage"  # edit webhooks and rules, redeliver
    INTEGRATION_IMPORT = "integration.import"  # run, commit and roll back legacy imports
    INTEGRATION_PROVISION = "integration.provision"  # SCIM 2.0: provision and deprovision people
    ACCOUNTS_MANAGE = "accounts.manage"
    ESIGN = "accounts.esign"


ALL_PERMISSIONS = frozenset(v for k, v in vars(Perm).items() if k.isupper())


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    HR_ADMIN = "hr_admin", _("HR administrator")
    TRAINING_COORDINATOR = "training_coordinator", _("Training coordinator")
    PRODUCTION_SUPERVISOR = "production_supervisor", _("Production supervisor")
    OPERATOR = "operator", _("Operator")
    QA = "qa", _("Quality assurance")
    MAINTENANCE = "maintenance", _("Maintenance / metrology")
    AUDITOR = "auditor", _("Auditor (read-only)")
    INTEGRATION = "integration", _("Integration client")


_READ_ALL = {Perm.ORG_VIEW, Perm.PEOPLE_VIEW, Perm.TRAINING_VIEW, Perm.DOCUMENTS_VIEW, Perm.AUDIT_VIEW, Perm.AUDIT_EXPORT,
             Perm.EQUIPMENT_VIEW, Perm.QUALITY_VIEW, Perm.PRODUCTION_VIEW, Perm.INTEGRATION_VIEW}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.SYSTEM_ADMIN: ALL_PERMISSIONS,
    Role.HR_ADMIN: frozenset(
        {Perm.ORG_VIEW, Perm.ORG_MANAGE, Perm.PEOPLE_VIEW, Perm.PEOPLE_MANAGE, Perm.PEOPLE_VIEW_SENSITIVE,
         Perm.TRAINING_VIEW, Perm.TRAINING_MANAGE, Perm.DOCUMENTS_VIEW, Perm.AUDIT_VIEW, Perm.ESIGN,
         Perm.INTEGRATION_VIEW, Perm.INTEGRATION_IMPORT}
    ),
    Role.TRAINING_COORDINATOR: frozenset(
        {Perm.ORG_VIEW, Perm.PEOPLE_VIEW, Perm.TRAINING_VIEW, Perm.TRAINING_MANAGE, Perm.DOCUMENTS_VIEW, Perm.ESIGN}
    ),
    Role.PRODUCTION_SUPERVISOR: frozenset(
        {Perm.ORG_VIEW, Perm.PEOPLE_VIEW, Perm.PEOPLE_MANAGE, Perm.TRAINING_VIEW, Perm.DOCUMENTS_VIEW, Perm.ESIGN,
         Perm.PRODUCTION_VIEW, Perm.PRODUCTION_MANAGE, Perm.PRODUCTION_EXECUTE, Perm.PRODUCTION_OVERRIDE,
         Perm.PRODUCTION_EXPORT, Perm.EQUIPMENT_VIEW, Perm.QUALITY_VIEW}
    ),
    Role.OPERATOR: frozenset({Perm.DOCUMENTS_VIEW, Perm.ESIGN, Perm.PRODUCTION_EXECUTE}),
    Role.QA: frozenset(
        {Perm.ORG_VIEW, Perm.PEOPLE_VIEW, Perm.TRAINING_VIEW, Perm.DOCUMENTS_VIEW, Perm.DOCUMENTS_MANAGE, Perm.AUDIT_VIEW,
         Perm.AUDIT_EXPORT, Perm.ESIGN, Perm.PRODUCTION_VIEW, Perm.PRODUCTION_EXPORT, Perm.EQUIPMENT_VIEW,
         Perm.QUALITY_VIEW, Perm.QUALITY_MANAGE, Perm.QUALITY_APPROVE}
    ),
    Role.MAINTENANCE: frozenset({Perm.ORG_VIEW, Perm.PEOPLE_VIEW, Perm.DOCUMENTS_VIEW, Perm.ESIGN, Perm.EQUIPMENT_VIEW,
                                 Perm.EQUIPMENT_MANAGE, Perm.EQUIPMENT_SERVICE}),
    Role.AUDITOR: frozenset(_READ_ALL),
    # An ERP / MES: master data in, work orders in, track-ins from its terminals.
    Role.INTEGRATION: frozenset({Perm.ORG_VIEW, Perm.ORG_MANAGE, Perm.PEOPLE_VIEW, Perm.PEOPLE_MANAGE,
                                 Perm.PRODUCTION_VIEW, Perm.PRODUCTION_MANAGE, Perm.PRODUCTION_EXECUTE,
                                 Perm.EQUIPMENT_VIEW, Perm.INTEGRATION_PROVISION}),
}


class ScopeKind(models.TextChoices):
    GLOBAL = "global", _("Whole company")
    SITE = "site", _("Site")
    DEPARTMENT = "department", _("Department")
    LINE = "line", _("Production line")
