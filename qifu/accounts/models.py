import datetime
import hashlib
import secrets
from functools import lru_cache

from django.contrib.auth.models import AbstractUser
from django.db import connections, models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    FRONT_DESK = "front_desk", _("Front desk")
    DISPATCHER = "dispatcher", _("Dispatcher")
    HANDLER = "handler", _("Department handler")
    CHIEF_SPECIALIST = "chief_specialist", _("Section chief specialist")
    SPECIALIST = "specialist", _("Specialist")
    LIAISON = "liaison", _("Liaison officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    LEADER = "leader", _("Leader")
    ENTERPRISE = "enterprise", _("Enterprise user")


class RoleGrant(models.Model):
    """One role held by one user. A user may hold several (e.g. specialist and front desk)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]

    def __str__(self):
        return self.get_role_display()


class User(AbstractUser):
    """Staff and enterprise users. Where a user sits decides what they may see (accounts.scopes)."""

    display_name = models.CharField(_("name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    region = models.ForeignKey(
        "org.Region", verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    jurisdiction = models.ForeignKey(
        "org.Jurisdiction", verbose_name=_("jurisdiction"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    node = models.ForeignKey(
        "org.ServiceNode", verbose_name=_("service node"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="staff",
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="staff",
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("enterprise"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    must_change_password = models.BooleanField(
        _("must change password"), default=False,
        help_text=_("Set when someone else chose this user's password: the user has to choose a new one "
                    "before using any page."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return f"{self.display_name} ({self.username})" if self.display_name else self.username

    def set_initial_password(self, raw_password: str | None) -> None:
        """A password chosen by someone else (an administrator, an import, a preset): the user must
        change it at the first sign-in. Users choosing their own password call set_password()."""
        self.set_password(raw_password)
        self.must_change_password = True

    @cached_property
    def roles(self) -> frozenset[str]:
        return self._roles_of({g.role for g in self.role_grants.all()} if self.pk else set())

    def _roles_of(self, granted: set[str]) -> frozenset[str]:
        if self.is_superuser:
            granted.add(Role.ADMIN)
        return frozenset(granted)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def grant(self, *roles: str) -> None:
        for role in roles:
            RoleGrant.objects.get_or_create(user=self, role=Role(role))
        self.__dict__.pop("roles", None)

    @property
    def is_enterprise_user(self) -> bool:
        return self.has_role(Role.ENTERPRISE) and not self.has_role(Role.ADMIN)

    @property
    def primary_role(self) -> str | None:
        """The role whose home page the user lands on."""
        for role in Role.values:
            if role in self.roles:
                return role
        return None


LAST_USED_EVERY = datetime.timedelta(minutes=1)  # ApiToken.last_used_at: its resolution


@lru_cache(maxsize=8)
def _token_statement(alias: str) -> tuple[str, tuple]:
    """The SELECT of `authenticate`, built once per database: the token, its user, the user's node (LEFT JOIN) and
    the user's granted roles as one comma-separated string (a correlated subquery) — one statement, not compiled
    by the ORM on every request (issue 10). Returns the SQL and the models whose columns make up a row."""
    from qifu.org.models import ServiceNode

    connection = connections[alias]
    qn = connection.ops.quote_name
    parts = (ApiToken, User, ServiceNode)
    columns = ", ".join(f"{name}.{qn(f.column)}" for model, name in zip(parts, ("t", "u", "n"))
                        for f in model._meta.concrete_fields)
    agg = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    sql = (f"SELECT {columns}, (SELECT {agg}(g.{qn('role')}, ',') FROM {qn(RoleGrant._meta.db_table)} g "
           f"WHERE g.{qn('user_id')} = u.{qn('id')}) "
           f"FROM {qn(ApiToken._meta.db_table)} t JOIN {qn(User._meta.db_table)} u ON u.{qn('id')} = t.{qn('user_id')} "
           f"LEFT JOIN {qn(ServiceNode._meta.db_table)} n ON n.{qn('id')} = u.{qn('node_id')} "
           f"WHERE t.{qn('key_hash')} = %s AND t.{qn('revoked_at')} IS NULL")
    return sql, parts


class ApiTokenManager(models.Manager):
    def issue(self, user: User, name: str = "") -> tuple["ApiToken", str]:
        """Create a token; the clear key is returned once and only its hash is stored."""
        key = "qf_" + secrets.token_urlsafe(32)
        token = self.create(user=user, name=name or "cli", prefix=key[:10], key_hash=ApiToken.hash(key))
        return token, key

    def authenticate(self, key: str) -> User | None:
        """The token's user with its node and roles, read by one statement (`_token_statement`)."""
        alias = self.db
        sql, parts = _token_statement(alias)
        from qifu.lib import fastselect

        with fastselect.cursor(alias) as cursor:  # prepared once per connection on PostgreSQL
            cursor.execute(sql, [ApiToken.hash(key)])
            row = cursor.fetchone()
        if row is None:
            return None
        (token, user, node), (roles,) = fastselect.instances(parts, row, alias)
        if not user.is_active:
            return None
        user._state.fields_cache["node"] = node
        token._state.fields_cache["user"] = user
        user.__dict__["roles"] = user._roles_of(set(filter(None, (roles or "").split(","))))
        # Not audited: a usage stamp, not a state change anyone acts on. Written at most once a minute (a client
        # filing hundreds of requests a second would otherwise rewrite the one row on every request).
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
            self.filter(pk=token.pk).update(last_used_at=now)
        return token.user


class ApiToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=64)
    prefix = models.CharField(_("prefix"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.user.username})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
