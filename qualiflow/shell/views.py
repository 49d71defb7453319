from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from qualiflow.accounts.permissions import has_perm
from qualiflow.accounts.roles import Perm
from qualiflow.people.selectors import people_figures

from .navigation import BY_KEY, DOMAINS


@login_required
def home(request):
    figures = people_figures(request.user) if has_perm(request.user, Perm.PEOPLE_VIEW) else None
    return render(request, "shell/home.html", {"domains": DOMAINS, "figures": figures})


@login_required
def coming(request, key: str):
    domain = BY_KEY.get(key)
    if domain is None or domain.url_name is not None:
        raise Http404
    return render(request, "shell/coming.html", {"domain": domain})
