"""The domains of DESIGN.md §2 as the navigation shows them: built ones link to their pages, the rest
to a page that says what is coming."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Domain:
    key: str
    label: object
    url_name: str | None  # None: not built yet
    summary: object
    perm: str | None = None
    # Where the entry leads someone without `perm`, if anywhere (e.g. their own training records), and the
    # permission that page needs (None: everyone signed in).
    own_url_name: str | None = None
    own_perm: str | None = None


DOMAINS: tuple[Domain, ...] = (
    Domain("people", _("People"), "people:employee_list", _("Employees, positions and assignment history."), "people.view"),
    Domain("org", _("Organisation"), "org:overview", _("Company, sites, departments, lines, work centers, positions."), "org.view"),
    Domain("training", _("Training & qualifications"), "training:matrix",
           _("Courses, training records, qualifications (资质), certificates, the training matrix and expiry management."),
           "training.view", own_url_name="training:my_records"),
    Domain("documents", _("Documents"), "documents:document_list",
           _("Controlled SOPs and work instructions, revisions and read-and-understand training."), "documents.view"),
    Domain("production", _("Production"), "production:work_order_list",
           _("Routings, work orders, the shop-floor station gated by qualification, device history records."),
           "production.view", own_url_name="production:station", own_perm="production.execute"),
    Domain("equipment", _("Equipment"), "equipment:equipment_list",
           _("Equipment, maintenance and calibration, gated by technician qualification."), "equipment.view"),
    Domain("quality", _("Quality"), "quality:event_list", _("Nonconformances, deviations, CAPA and effectiveness checks."),
           "quality.view"),
    Domain("scheduling", _("Scheduling"), None, _("Rosters built from qualified, available people under labour rules.")),
    Domain("integration", _("Integration"), "integration:overview",
           _("Webhooks, automation rules, SCIM provisioning and legacy data import."), "integration.view"),
    Domain("governance", _("Data quality"), None, _("Data dictionary, data-quality rules and self-service corrections.")),
    Domain("audit", _("Audit trail"), "audit:entry_list", _("Every change, who made it, when and why; chain verification."), "audit.view"),
    Domain("reports", _("Reports"), None, _("KPIs, dashboards and scheduled reports.")),
)

BY_KEY = {d.key: d for d in DOMAINS}
