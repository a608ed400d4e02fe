"""The user's own pages: notifications."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from .models import Notification


@login_required
def notifications_view(request: HttpRequest) -> HttpResponse:
    notes = Notification.scope_queryset(request.user).order_by("-created_at", "-id")
    page = Paginator(notes, 25).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_read_view(request: HttpRequest) -> HttpResponse:
    """Mark every unread notification of the user as read (one statement)."""
    Notification.scope_queryset(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    return HttpResponseRedirect(reverse("notifications"))


def unread_notifications(request: HttpRequest) -> dict[str, object]:
    """Context processor: the unread count shown in the menu (one small indexed query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()}
