"""Filing a service request (issue 11 item 4): who may, and the appeal intake it goes through.

Apart from `qifu.catalog.requests` (which the appeal workflow asks for a request's deadline and units), so the
workflow and this intake do not import each other."""

from __future__ import annotations

from qifu.accounts.models import Role
from qifu.appeals import workflow

from . import services
from .models import ServiceItem
from .requests import title_for


def may_request(user) -> bool:
    """Enterprise users for their own enterprise; intake staff (front desk, dispatchers…) for an enterprise."""
    if not services.may_see(user):
        return False
    return (user.has_role(Role.ENTERPRISE) and user.enterprise_id is not None) or user.has_role(*workflow.INTAKE)


def file(*, actor, item: ServiceItem, enterprise, channel, description: str, contact_name: str = "",
         contact_phone: str = "", idempotency_key: str = "", request_hash: str = "", key_checked: bool = False,
         received_at=None):
    """Register a request for `item` (the caller checked the actor may see it): (appeal, created)."""
    return workflow.register(actor=actor, enterprise=enterprise, channel=channel, title=title_for(item),
                             description=description, contact_name=contact_name, contact_phone=contact_phone,
                             received_at=received_at, idempotency_key=idempotency_key, request_hash=request_hash,
                             key_checked=key_checked, service_item=item)
