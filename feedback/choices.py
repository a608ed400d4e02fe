from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceType(models.TextChoices):
    INSTALLATION = "installation", _("Installation")
    REPAIR = "repair", _("Repair")
    CONSULTING = "consulting", _("Consulting")
    TRAINING = "training", _("Training")
    MAINTENANCE = "maintenance", _("Maintenance")


class ServiceResult(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    PARTIAL = "partial", _("Partly resolved")
    UNRESOLVED = "unresolved", _("Unresolved")
    FOLLOW_UP = "follow_up", _("Needs follow-up")


class FeedbackKind(models.TextChoices):
    SUGGESTION = "suggestion", _("Suggestion")
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    QUESTION = "question", _("Question")


class FeedbackStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


#: Where feedback may go from each status: forward, or reopened; never back to new.
FEEDBACK_MOVES: dict[str, tuple[str, ...]] = {
    FeedbackStatus.NEW: (FeedbackStatus.IN_PROGRESS, FeedbackStatus.RESOLVED, FeedbackStatus.CLOSED),
    FeedbackStatus.IN_PROGRESS: (FeedbackStatus.RESOLVED, FeedbackStatus.CLOSED),
    FeedbackStatus.RESOLVED: (FeedbackStatus.IN_PROGRESS, FeedbackStatus.CLOSED),
    FeedbackStatus.CLOSED: (FeedbackStatus.IN_PROGRESS,),
}


class FeedbackChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    VISIT = "visit", _("Visit")
    SURVEY = "survey", _("Survey")
    WEB = "web", _("Website")
    OTHER = "other", _("Other")


class SurveyMethod(models.TextChoices):
    ONLINE = "online", _("Online questionnaire")
    PHONE = "phone", _("Phone call-back")
    INTERVIEW = "interview", _("Face-to-face interview")
    EMAIL = "email", _("E-mail")
