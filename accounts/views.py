from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Managers and administrators land in the registry; field workers in the survey app."""
    return redirect("admin:index" if request.user.is_staff else "survey")
