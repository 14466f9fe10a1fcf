from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from qifu.lib import industry, uscc


def validate_uscc(value: str) -> None:
    problem = uscc.problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_uscc")


def validate_industry(value: str) -> None:
    problem = industry.problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_industry")


class Tag(models.Model):
    """An enterprise tag (专精特新, 规上工业, …), set by hand or by a rule."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("manual")
        DYNAMIC = "dynamic", _("dynamic (from data)")

    name = models.CharField(_("name"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    category = models.CharField(_("category"), max_length=64, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Enterprise(models.Model):
    class Size(models.TextChoices):
        LARGE = "large", _("large")
        MEDIUM = "medium", _("medium")
        SMALL = "small", _("small")
        MICRO = "micro", _("micro")

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="enterprises")
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    registered_address = models.CharField(_("registered address"), max_length=255, blank=True)
    jurisdiction = models.ForeignKey(
        "org.Jurisdiction", verbose_name=_("jurisdiction"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="enterprises",
    )
    industry = models.CharField(
        _("industry (GB/T 4754)"), max_length=5, blank=True, validators=[validate_industry]
    )
    size = models.CharField(_("size"), max_length=8, choices=Size.choices, blank=True)
    registration_date = models.DateField(_("registration date"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="enterprises")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.uscc = uscc.normalize(self.uscc)
        super().save(*args, **kwargs)


class LiaisonOfficer(models.Model):
    """A liaison officer (助企员, seed 003 lines 1395–1511): a user with the liaison role paired with the enterprises
    they follow. After a paired enterprise's appeal is closed, the enterprise rates the officer's follow-up and the
    officer rates the lead unit's handling (`qifu.appeals.ratings`). Pairings are edited in the admin."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
                                related_name="liaison_officer")
    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="liaison_officers")
    department = models.ForeignKey("org.Department", verbose_name=_("home unit"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="liaison_officers")
    enterprises = models.ManyToManyField(Enterprise, verbose_name=_("paired enterprises"), blank=True,
                                         related_name="liaison_officers")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("liaison officer")
        verbose_name_plural = _("liaison officers")
        ordering = ["region", "user__username"]

    def __str__(self):
        return str(self.user)

    @property
    def name(self) -> str:
        return self.user.display_name or self.user.username
