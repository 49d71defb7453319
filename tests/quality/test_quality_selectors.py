"""Quality event reads: events by source record in one query, scoping by site, and the signature check."""

from __future__ import annotations

import uuid

from quality_helpers import PASSWORD, T0

from qualiflow.quality import selectors, services
from qualiflow.quality.models import QualityEvent

RUN = "production.operationrun"


def _deviation(site, source_id: str, title: str = "override") -> QualityEvent:
    return services.quality_event_open(kind="deviation", title=title, site=site, source_type=RUN,
                                       source_id=source_id, reason="controlled override", at=T0)


def test_events_for_source_answers_for_every_id_in_one_query(plant, qa_site_b, django_assert_num_queries):
    run_a, run_b, run_quiet = (uuid.uuid4() for _ in range(3))
    first = _deviation(plant.site_a, str(run_a), "first")
    second = _deviation(plant.site_a, str(run_a), "second")
    other = _deviation(plant.site_b, str(run_b))
    services.quality_event_open(kind="nonconformance", title="same id, other type", source_type="equipment.equipment",
                                source_id=str(run_a), reason="r", at=T0)
    with django_assert_num_queries(1):
        found = selectors.events_for_source(RUN, [run_a, run_b, run_quiet, run_a])
    assert found == {str(run_a): [first, second], str(run_b): [other], str(run_quiet): []}
    # A reader scoped to Changzhou sees only the Changzhou deviation.
    assert selectors.events_for_source(RUN, [run_a, run_b], user=qa_site_b) == {str(run_a): [], str(run_b): [other]}
    with django_assert_num_queries(0):
        assert selectors.events_for_source(RUN, []) == {}


def test_the_detail_shows_whether_the_closing_signature_still_matches(deviation, qa):
    services.quality_event_close(event=deviation, signer=qa, password=PASSWORD, summary="done", reason="closed")
    event = QualityEvent.objects.get(pk=deviation.pk)
    [view] = selectors.event_detail(event=event).signatures
    assert (view.signature.meaning, view.matches) == ("approved", True)
    # A change made behind the application's back (raw update) breaks the match.
    QualityEvent.objects.filter(pk=event.pk).update(closure_summary="rewritten")
    [view] = selectors.event_detail(event=QualityEvent.objects.get(pk=event.pk)).signatures
    assert view.matches is False


def test_list_filters_by_source_and_status(plant, deviation, qa):
    run = str(uuid.uuid4())
    linked = _deviation(plant.site_a, run)
    assert list(selectors.event_list(user=qa, source_type=RUN, source_id=run)) == [linked]
    services.quality_event_close(event=deviation, signer=qa, password=PASSWORD, summary="done", reason="closed")
    assert [e.number for e in selectors.event_list(user=qa, status="closed")] == [deviation.number]
    assert [e.number for e in selectors.event_list(user=qa, status="open")] == [linked.number]
