from django import template
from django.utils.translation import get_language

from qualiflow.org.forms import local_name as _local_name

register = template.Library()


@register.filter
def local_name(unit) -> str:
    """"code name" of an organisation unit, with the name in the current language."""
    return _local_name(unit)


@register.filter
def unit_name(unit) -> str:
    """The unit's name alone, in the current language."""
    return unit.display_name(get_language() or "en") if unit is not None else ""
