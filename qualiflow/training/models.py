"""Competence records: the qualification catalogue, courses, requirements, and the facts about each person
(grants, suspensions, revocations, training records) from which status is computed — never stored."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualiflow.audit.tracking import AuditedModel
from qualiflow.documents.models import Document, DocumentRevision
from qualiflow.org.models import ProductionLine
from qualiflow.people.models import Employee

CAPABILITY_CODE = RegexValidator(
    r"^[a-z][a-z0-9_]*$", _("Use lower-case letters, digits and underscores, starting with a letter.")
)

# On the skill-matrix scale: 1 learning, 2 works under supervision, 3 works independently, 4 trains others.
SKILL_LEVELS = (MinValueValidator(1), MaxValueValidator(4))


class QualificationKind(models.TextChoices):
    INTERNAL = "internal", _("Internal authorisation")
    EXTERNAL_CERTIFICATE = "external_certificate", _("External certificate")
    HEALTH_CERTIFICATE = "health_certificate", _("Health certificate")


class Qualification(AuditedModel):
    """资质: what a person must hold to do certain work, and for how long it stays valid."""

    audit_reason_required = True

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=QualificationKind.choices, default=QualificationKind.INTERNAL)
    validity_days = models.PositiveIntegerField(
        _("validity (days)"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("Empty: the qualification does not expire."),
    )
    renewal_lead_days = models.PositiveIntegerField(
        _("renewal lead time (days)"), default=0,
        help_text=_("How long before expiry the holder is shown as expiring and renewal starts."),
    )
    requires_practical_signoff = models.BooleanField(_("requires a trainer's practical sign-off"), default=False)
    min_skill_level = models.PositiveSmallIntegerField(
        _("minimum skill level"), null=True, blank=True, validators=list(SKILL_LEVELS)
    )
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    documents = models.ManyToManyField(
        Document, through="QualificationDocument", blank=True, related_name="qualifications",
        verbose_name=_("controlled documents"),
        help_text=_("Holders must be trained on the effective revision of each; a newer revision requires retraining."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        constraints = [
            models.CheckConstraint(
                condition=Q(validity_days__isnull=True) | Q(validity_days__gt=0), name="qualification_validity_positive",
                violation_error_message=_("The validity must be at least one day."),
            ),
            models.CheckConstraint(
                condition=Q(validity_days__isnull=True) | Q(renewal_lead_days__lt=F("validity_days")),
                name="qualification_lead_within_validity",
                violation_error_message=_("The renewal lead time must be shorter than the validity."),
            ),
            models.CheckConstraint(
                condition=Q(min_skill_level__isnull=True) | Q(min_skill_level__gte=1, min_skill_level__lte=4),
                name="qualification_skill_level_range",
                violation_error_message=_("The minimum skill level must be between 1 and 4."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class QualificationDocument(AuditedModel):
    """A qualification rests on a controlled document: holders must be trained on its effective revision."""

    audit_reason_required = True

    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE, related_name="+", verbose_name=_("qualification"))
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+", verbose_name=_("document"))

    class Meta:
        verbose_name = _("document of a qualification")
        verbose_name_plural = _("documents of qualifications")
        constraints = [
            models.UniqueConstraint(
                fields=["qualification", "document"], name="qualification_document_unique",
                violation_error_message=_("The qualification already rests on this document."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.qualification_id} → {self.document_id}"


class CourseKind(models.TextChoices):
    CLASSROOM = "classroom", _("Classroom")
    ON_THE_JOB = "on_the_job", _("On-the-job")
    E_LEARNING = "e_learning", _("E-learning")
    READ_AND_UNDERSTAND = "read_and_understand", _("Read and understand")
    EXTERNAL = "external", _("External")


class Course(AuditedModel):
    """A way to earn qualifications: passing it confers every qualification in `confers`."""

    audit_reason_required = True

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=CourseKind.choices, default=CourseKind.CLASSROOM)
    duration_hours = models.DecimalField(
        _("duration (hours)"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    max_score = models.DecimalField(
        _("maximum score"), max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    pass_mark = models.DecimalField(
        _("pass mark"), max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)],
        help_text=_("Empty: the course has no scored assessment."),
    )
    e_learning_url = models.URLField(_("e-learning link"), max_length=500, blank=True)
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="courses",
        verbose_name=_("document trained on"),
        help_text=_("For read-and-understand and procedure training: the record keeps the revision in effect."),
    )
    effectiveness_check_days = models.PositiveIntegerField(
        _("effectiveness check after (days)"), null=True, blank=True,
        help_text=_("Empty: no effectiveness evaluation by the supervisor."),
    )
    confers = models.ManyToManyField(
        Qualification, through="CourseQualification", related_name="conferring_courses",
        verbose_name=_("qualifications conferred"), blank=True,
    )
    trainer_qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, null=True, blank=True, related_name="trainer_for_courses",
        verbose_name=_("trainer qualification"), help_text=_("Who may teach this course."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_hours__gt=0), name="course_duration_positive",
                violation_error_message=_("The duration must be more than zero hours."),
            ),
            models.CheckConstraint(
                condition=Q(pass_mark__isnull=True, max_score__isnull=True)
                | Q(pass_mark__isnull=False, max_score__gt=0, pass_mark__gte=0, pass_mark__lte=F("max_score")),
                name="course_pass_mark_within_max_score",
                violation_error_message=_("A pass mark needs a maximum score above zero and must not exceed it."),
            ),
            models.CheckConstraint(
                condition=~Q(kind=CourseKind.E_LEARNING) | ~Q(e_learning_url=""), name="course_e_learning_has_link",
                violation_error_message=_("An e-learning course needs its link."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class CourseQualification(AuditedModel):
    """A course confers a qualification; its own audited row so adding or removing one leaves a trace."""

    audit_reason_required = True

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+", verbose_name=_("course"))
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="+", verbose_name=_("qualification")
    )

    class Meta:
        verbose_name = _("qualification conferred by a course")
        verbose_name_plural = _("qualifications conferred by courses")
        constraints = [
            models.UniqueConstraint(
                fields=["course", "qualification"], name="course_qualification_unique",
                violation_error_message=_("The course already confers this qualification."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_id} → {self.qualification_id}"


class TargetKind(models.TextChoices):
    POSITION = "position", _("Position")
    OPERATION = "operation", _("Production operation")
    EQUIPMENT_CLASS = "equipment_class", _("Equipment class")
    CAPABILITY = "capability", _("Capability")


# Kinds whose target is a record, named by `target_id` (positions now; operations and equipment classes
# live in apps that come later, hence an id rather than a foreign key).
RECORD_TARGETS = (TargetKind.POSITION, TargetKind.OPERATION, TargetKind.EQUIPMENT_CLASS)


class Requirement(AuditedModel):
    """A position, operation, equipment class or named capability requires a qualification."""

    audit_reason_required = True

    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="requirements", verbose_name=_("qualification")
    )
    target_kind = models.CharField(_("required for"), max_length=20, choices=TargetKind.choices)
    target_id = models.UUIDField(_("target"), null=True, blank=True)
    capability = models.CharField(_("capability"), max_length=60, blank=True, validators=[CAPABILITY_CODE])
    mandatory = models.BooleanField(_("mandatory"), default=True)
    grace_days = models.PositiveIntegerField(
        _("grace period (days)"), default=0, help_text=_("Days after assignment before the requirement is enforced.")
    )

    class Meta:
        ordering = ["target_kind", "capability", "qualification__code"]
        verbose_name = _("requirement")
        verbose_name_plural = _("requirements")
        indexes = [
            models.Index(fields=["target_kind", "target_id"], name="requirement_target_idx"),
            models.Index(fields=["capability"], name="requirement_capability_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(target_kind=TargetKind.CAPABILITY, target_id__isnull=True) & ~Q(capability=""))
                | Q(target_kind__in=RECORD_TARGETS, target_id__isnull=False, capability=""),
                name="requirement_target_matches_kind",
                violation_error_message=_("A capability requirement names a capability; any other names its target record."),
            ),
            models.UniqueConstraint(
                fields=["qualification", "target_kind", "target_id"], condition=Q(target_id__isnull=False),
                name="requirement_unique_record_target",
                violation_error_message=_("This target already requires this qualification."),
            ),
            models.UniqueConstraint(
                fields=["qualification", "capability"], condition=Q(target_kind=TargetKind.CAPABILITY),
                name="requirement_unique_capability",
                violation_error_message=_("This capability already requires this qualification."),
            ),
        ]

    def __str__(self) -> str:
        target = self.capability or self.target_id
        return f"{self.get_target_kind_display()} {target} → {self.qualification_id}"


class GrantSource(models.TextChoices):
    TRAINING_RECORD = "training_record", _("Training record")
    CERTIFICATE = "certificate", _("Certificate")
    IMPORT = "import", _("Import")
    MANUAL = "manual", _("Manual entry")


class QualificationGrant(AuditedModel):
    """The person holds the qualification from `valid_from` until `valid_until` (exclusive; empty: no expiry)."""

    audit_reason_required = True

    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="qualification_grants", verbose_name=_("employee")
    )
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="grants", verbose_name=_("qualification")
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=GrantSource.choices)
    evidence = models.JSONField(
        _("evidence"), default=dict, blank=True,
        help_text=_("What the grant rests on: training record ids, assessment ids, certificate details."),
    )
    certificate_number = models.CharField(_("certificate number"), max_length=100, blank=True)
    issuer = models.CharField(_("issuer"), max_length=200, blank=True)

    class Meta:
        ordering = ["employee", "qualification", "-valid_from"]
        verbose_name = _("qualification grant")
        verbose_name_plural = _("qualification grants")
        indexes = [
            models.Index(fields=["employee", "qualification"], name="grant_employee_qual_idx"),
            models.Index(fields=["qualification", "valid_until"], name="grant_qual_until_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")), name="grant_until_after_from",
                violation_error_message=_("The valid-until date must be after the valid-from date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} · {self.qualification_id} (from {self.valid_from:%Y-%m-%d})"


class QualificationSuspension(AuditedModel):
    """The qualification may not be used from `start` until `end` (empty: until lifted)."""

    audit_reason_required = True

    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="qualification_suspensions", verbose_name=_("employee")
    )
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="suspensions", verbose_name=_("qualification")
    )
    start = models.DateTimeField(_("suspended from"))
    end = models.DateTimeField(_("suspended until"), null=True, blank=True)
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["employee", "qualification", "-start"]
        verbose_name = _("qualification suspension")
        verbose_name_plural = _("qualification suspensions")
        indexes = [models.Index(fields=["employee", "qualification"], name="suspension_employee_qual_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="suspension_end_after_start",
                violation_error_message=_("A suspension must end after it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="suspension_has_reason",
                violation_error_message=_("A suspension needs a reason."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} · {self.qualification_id} (suspended from {self.start:%Y-%m-%d})"


class QualificationRevocation(AuditedModel):
    """Withdraws every grant of the qualification made before `at`; only a new grant re-qualifies."""

    audit_reason_required = True

    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="qualification_revocations", verbose_name=_("employee")
    )
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="revocations", verbose_name=_("qualification")
    )
    at = models.DateTimeField(_("revoked at"))
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["employee", "qualification", "-at"]
        verbose_name = _("qualification revocation")
        verbose_name_plural = _("qualification revocations")
        indexes = [models.Index(fields=["employee", "qualification"], name="revocation_employee_qual_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""), name="revocation_has_reason",
                violation_error_message=_("A revocation needs a reason."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} · {self.qualification_id} (revoked {self.at:%Y-%m-%d})"


class TrainingRecord(AuditedModel):
    """培训记录: who was trained when, on which course, by whom, with what result, on which document revision."""

    audit_reason_required = True

    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="training_records", verbose_name=_("employee")
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="records", verbose_name=_("course"))
    completed_at = models.DateTimeField(_("completed at"))
    passed = models.BooleanField(_("passed"))
    score = models.DecimalField(
        _("score"), max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    trainer = models.ForeignKey(
        Employee, on_delete=models.PROTECT, null=True, blank=True, related_name="trainings_given",
        verbose_name=_("trainer"),
    )
    # The controlled document revision trained on, as plain values: the record must outlive any edit of the
    # document catalogue and the status function compares revision numbers directly.
    document_id = models.UUIDField(_("document"), null=True, blank=True)
    document_revision = models.PositiveIntegerField(_("document revision"), null=True, blank=True)
    document_revision_label = models.CharField(_("document revision label"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    session = models.ForeignKey(
        "TrainingSession", on_delete=models.PROTECT, null=True, blank=True, related_name="records",
        verbose_name=_("session"),
    )
    line = models.ForeignKey(
        ProductionLine, on_delete=models.PROTECT, null=True, blank=True, related_name="training_records",
        verbose_name=_("for production line"),
    )

    class Meta:
        ordering = ["employee", "-completed_at"]
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        indexes = [
            models.Index(fields=["employee", "completed_at"], name="record_employee_completed_idx"),
            models.Index(fields=["course", "completed_at"], name="record_course_completed_idx"),
            models.Index(fields=["document_id", "document_revision"], name="record_document_idx"),
            # The facts selector reads a person's trainings on the documents of given qualifications.
            models.Index(fields=["employee", "document_id"], name="record_employee_document_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(document_id__isnull=True, document_revision__isnull=True)
                | Q(document_id__isnull=False, document_revision__isnull=False),
                name="record_document_and_revision_together",
                violation_error_message=_("A document and its revision are recorded together."),
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0), name="record_score_not_negative",
                violation_error_message=_("The score cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(trainer__isnull=True) | ~Q(trainer=F("employee")), name="record_trainer_not_trainee",
                violation_error_message=_("A trainee cannot be their own trainer."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} · {self.course_id} ({self.completed_at:%Y-%m-%d})"


class Curriculum(AuditedModel):
    """A set of courses taken together, e.g. the onboarding programme of a clean-room assembler."""

    audit_reason_required = True

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    courses = models.ManyToManyField(
        Course, through="CurriculumCourse", blank=True, related_name="curricula", verbose_name=_("courses")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("curriculum")
        verbose_name_plural = _("curricula")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CurriculumCourse(AuditedModel):
    audit_reason_required = True

    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="+", verbose_name=_("curriculum"))
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="+", verbose_name=_("course"))

    class Meta:
        verbose_name = _("course of a curriculum")
        verbose_name_plural = _("courses of curricula")
        constraints = [
            models.UniqueConstraint(
                fields=["curriculum", "course"], name="curriculum_course_unique",
                violation_error_message=_("The curriculum already contains this course."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.curriculum_id} → {self.course_id}"


class AssignmentReason(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding")
    POSITION_CHANGE = "position_change", _("Position change")
    RENEWAL = "renewal", _("Renewal")
    DOCUMENT_REVISION = "document_revision", _("Document revision")
    CAPA = "capa", _("CAPA")
    AD_HOC = "ad_hoc", _("Ad hoc")


class AssignmentStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("assignment status", "Open")
    COMPLETED = "completed", _("Completed")
    RETIRED = "retired", _("No longer needed")
    CANCELLED = "cancelled", _("Cancelled")


class TrainingAssignment(AuditedModel):
    """A person must take a course by a due date, for a reason; the reconciler creates and retires these."""

    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="training_assignments", verbose_name=_("employee")
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("course"))
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments",
        verbose_name=_("for qualification"),
    )
    document_revision = models.ForeignKey(
        DocumentRevision, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments",
        verbose_name=_("document revision"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=AssignmentReason.choices)
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=12, choices=AssignmentStatus.choices, default=AssignmentStatus.OPEN)
    # What created it, so the reconciler recognises its own work and stays idempotent.
    source_key = models.CharField(_("source"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue escalated at"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "employee"]
        verbose_name = _("training assignment")
        verbose_name_plural = _("training assignments")
        indexes = [
            models.Index(fields=["employee", "status"], name="assignment_employee_status_idx"),
            models.Index(fields=["status", "due_on"], name="assignment_status_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "source_key"], condition=Q(status="open") & ~Q(source_key=""),
                name="assignment_open_source_unique",
                violation_error_message=_("This person already has an open assignment for this."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} · {self.course_id} (due {self.due_on})"


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class TrainingSession(AuditedModel):
    """One delivery of a course: when, where, for which line, by which (qualified) trainer."""

    audit_reason_required = True

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("course"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    line = models.ForeignKey(
        ProductionLine, on_delete=models.PROTECT, null=True, blank=True, related_name="training_sessions",
        verbose_name=_("production line"),
    )
    trainer = models.ForeignKey(
        Employee, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions_given",
        verbose_name=_("trainer"),
    )
    external_trainer = models.CharField(_("external trainer"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    document_revision = models.ForeignKey(
        DocumentRevision, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions",
        verbose_name=_("document revision"),
    )
    status = models.CharField(_("status"), max_length=12, choices=SessionStatus.choices, default=SessionStatus.PLANNED)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        indexes = [models.Index(fields=["starts_at"], name="session_starts_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start",
                violation_error_message=_("A session must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="session_capacity_positive",
                violation_error_message=_("The capacity must be at least one."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_id} {self.starts_at:%Y-%m-%d %H:%M}"


class Attendance(AuditedModel):
    """A trainee enrolled in a session: whether they attended, their assessment and the practical sign-off."""

    audit_reason_required = True

    session = models.ForeignKey(TrainingSession, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("session"))
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("employee"))
    assignment = models.ForeignKey(
        TrainingAssignment, on_delete=models.PROTECT, null=True, blank=True, related_name="attendances",
        verbose_name=_("assignment"),
    )
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    practical_signed_off = models.BooleanField(_("practical sign-off"), default=False)
    skill_level = models.PositiveSmallIntegerField(_("skill level"), null=True, blank=True, validators=list(SKILL_LEVELS))
    record = models.OneToOneField(
        TrainingRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="attendance",
        verbose_name=_("training record"),
    )

    class Meta:
        ordering = ["session", "employee"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "employee"], name="attendance_unique",
                violation_error_message=_("This person is already enrolled in the session."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} · {self.employee_id}"


class AssessmentKind(models.TextChoices):
    WRITTEN = "written", _("Written")
    PRACTICAL = "practical", _("Practical")


class Assessment(AuditedModel):
    """考核: a scored test of a trainee on a course; passed when the score reaches the pass mark."""

    audit_reason_required = True

    attendance = models.ForeignKey(Attendance, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("attendance"))
    kind = models.CharField(_("kind"), max_length=12, choices=AssessmentKind.choices, default=AssessmentKind.WRITTEN)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2, validators=[MinValueValidator(0)])
    max_score = models.DecimalField(_("maximum score"), max_digits=7, decimal_places=2)
    pass_mark = models.DecimalField(_("pass mark"), max_digits=7, decimal_places=2)
    passed = models.BooleanField(_("passed"))
    assessed_at = models.DateTimeField(_("assessed at"))
    assessor = models.ForeignKey(
        Employee, on_delete=models.PROTECT, null=True, blank=True, related_name="assessments_given",
        verbose_name=_("assessor"),
    )

    class Meta:
        ordering = ["attendance", "-assessed_at"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=F("max_score")), name="assessment_score_in_range",
                violation_error_message=_("The score must be between 0 and the maximum score."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attendance_id} {self.score}/{self.max_score}"


class EffectivenessStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    EFFECTIVE = "effective", _("Effective")
    NOT_EFFECTIVE = "not_effective", _("Not effective")


class EffectivenessCheck(AuditedModel):
    """有效性评价: some days after training, the supervisor judges whether it worked on the job."""

    audit_reason_required = True

    record = models.OneToOneField(
        TrainingRecord, on_delete=models.PROTECT, related_name="effectiveness_check", verbose_name=_("training record")
    )
    due_on = models.DateField(_("due on"))
    evaluator = models.ForeignKey(
        Employee, on_delete=models.PROTECT, null=True, blank=True, related_name="effectiveness_checks_due",
        verbose_name=_("evaluator"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=EffectivenessStatus.choices, default=EffectivenessStatus.PENDING
    )
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["due_on"]
        verbose_name = _("effectiveness check")
        verbose_name_plural = _("effectiveness checks")

    def __str__(self) -> str:
        return f"{self.record_id} ({self.get_status_display()})"


def certificate_upload_to(instance: "Certificate", filename: str) -> str:
    return f"certificates/{instance.employee_id}/{filename}"


class Certificate(AuditedModel):
    """证书: an external or health certificate a person holds; recording one grants its qualification."""

    audit_reason_required = True

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("employee"))
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("qualification")
    )
    number = models.CharField(_("certificate number"), max_length=100)
    issuer = models.CharField(_("issuer"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    scan = models.FileField(_("scan"), upload_to=certificate_upload_to, blank=True)
    scan_sha256 = models.CharField(_("scan SHA-256"), max_length=64, blank=True)
    grant = models.OneToOneField(
        QualificationGrant, on_delete=models.PROTECT, null=True, blank=True, related_name="certificate",
        verbose_name=_("grant"),
    )

    class Meta:
        ordering = ["employee", "-issued_on"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("issued_on")), name="certificate_expiry_after_issue",
                violation_error_message=_("The expiry date must be after the issue date."),
            ),
            models.UniqueConstraint(
                fields=["qualification", "issuer", "number"], name="certificate_number_unique",
                violation_error_message=_("A certificate with this number from this issuer is already recorded."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.issuer})"
