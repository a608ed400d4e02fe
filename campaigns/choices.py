from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline event")
    EXHIBITION = "exhibition", _("Exhibition / trade fair")
    SEMINAR = "seminar", _("Seminar")
    EMAIL = "email", _("E-mail")


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class ParticipationStatus(models.TextChoices):
    """The funnel a customer moves down in one campaign; each step implies the ones before."""

    INVITED = "invited", _("Invited")
    REGISTERED = "registered", _("Registered")
    ATTENDED = "attended", _("Attended")
    RESPONDED = "responded", _("Responded")
    CONVERTED = "converted", _("Converted")
