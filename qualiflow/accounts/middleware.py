import uuid

from django.utils import translation

from qualiflow.core import context


class RequestContextMiddleware:
    """Attributes every write in the request to the signed-in user and a request id; applies the
    user's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        request.request_id = request_id
        user = getattr(request, "user", None)
        actor = context.user_actor(user) if user is not None and user.is_authenticated else None
        if actor is not None and getattr(user, "language", None) and not request.path.startswith("/i18n/"):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        with context.acting(actor=actor, request_id=request_id, reason=""):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
