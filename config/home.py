"""The start page: where the site's root sends each person. The project's to decide, as
it names the pages of two apps (the administration and the survey)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Managers and administrators land in the registry; field workers in the survey app."""
    return redirect("admin:index" if request.user.is_staff else "survey")
