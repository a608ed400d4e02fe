from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.core.choices import Region

__all__ = ["Region"]  # shared with the teams: one list of regions


class CustomerKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    GOVERNMENT = "government", _("Government / public institution")
    INDIVIDUAL = "individual", _("Individual")
    PARTNER = "partner", _("Distributor / partner")
    OTHER = "other", _("Other")


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail & wholesale")
    IT = "it", _("IT & software")
    FINANCE = "finance", _("Finance & insurance")
    HEALTHCARE = "healthcare", _("Healthcare & pharma")
    EDUCATION = "education", _("Education")
    LOGISTICS = "logistics", _("Logistics & transport")
    ENERGY = "energy", _("Energy & utilities")
    CONSTRUCTION = "construction", _("Construction & real estate")
    FOOD = "food", _("Food & beverage / catering")
    HOSPITALITY = "hospitality", _("Hotels & tourism")
    TELECOM = "telecom", _("Telecommunications")
    AUTOMOTIVE = "automotive", _("Automotive")
    OTHER = "other", _("Other")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Under 20 employees")
    SMALL = "small", _("20-99 employees")
    MEDIUM = "medium", _("100-499 employees")
    LARGE = "large", _("500-1999 employees")
    ENTERPRISE = "enterprise", _("2000+ employees")


class LifecycleStage(models.TextChoices):
    """Full-lifecycle stages, from a lead to a key account and, if lost, back again."""

    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    KEY = "key", _("Key account")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")
    WON_BACK = "won_back", _("Won back")


class CustomerSource(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    EXHIBITION = "exhibition", _("Exhibition / trade fair")
    WEBSITE = "website", _("Website / inbound")
    COLD_CALL = "cold_call", _("Cold call / visit")
    CAMPAIGN = "campaign", _("Marketing campaign")
    PARTNER = "partner", _("Partner / channel")
    BUSINESS_CARD = "business_card", _("Business card exchange")
    SOCIAL = "social", _("Social media")
    OTHER = "other", _("Other")


class ActivityKind(models.TextChoices):
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")
    WECHAT = "wechat", _("WeChat message")
    NOTE = "note", _("Note")


class NeedKind(models.TextChoices):
    CUSTOMIZATION = "customization", _("Customised product or service")
    SPECIAL_REQUEST = "special_request", _("Special requirement")
    DELIVERY = "delivery", _("Delivery & logistics")
    TRAINING = "training", _("Training")
    SUPPORT = "support", _("Dedicated support")
    PRICING = "pricing", _("Pricing & terms")
    CARE = "care", _("Customer care (holidays, birthdays)")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    FULFILLED = "fulfilled", _("Fulfilled")
    DECLINED = "declined", _("Declined")
