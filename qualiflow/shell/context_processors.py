from django.urls import reverse

from qualiflow.accounts.permissions import has_perm

from .navigation import DOMAINS


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_domains": []}
    items = []
    for d in DOMAINS:
        if d.url_name is None:
            url = reverse("shell:coming", args=[d.key])
            items.append({"key": d.key, "label": d.label, "url": url, "coming": True})
        elif d.perm is None or has_perm(user, d.perm):
            url = reverse(d.url_name)
            items.append({"key": d.key, "label": d.label, "url": url, "coming": False})
        elif d.own_url_name is not None and (d.own_perm is None or has_perm(user, d.own_perm)):
            url = reverse(d.own_url_name)
            items.append({"key": d.key, "label": d.label, "url": url, "coming": False})
        else:
            continue
        # A built domain owns every page under its first path segment (/people/…, /org/…).
        section = "/" + url.strip("/").split("/")[0] + "/"
        items[-1]["active"] = request.path == url if items[-1]["coming"] else request.path.startswith(section)
    return {"nav_domains": items}
