from django import template

from ..models import Notification

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:
    """How many of the user's notifications are unread (for the bell in the header)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
