from ninja import Router, Schema

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]
    region: str | None
    department: str | None
    department_code: str | None
    node: str | None
    jurisdiction: str | None
    enterprise_id: int | None
    enterprise_uscc: str | None


@router.get("/me", response=MeOut, summary="Who am I: username, roles, department code, enterprise USCC")
def me(request):
    u = request.user
    dept = u.department.code if u.department_id else None
    from qifu.accounts.scopes import home_region_id as _region_id
    from qifu.org.models import Region

    region_id = _region_id(u)
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "roles": sorted(u.roles),
        "region": Region.objects.filter(pk=region_id).values_list("code", flat=True).first() if region_id else None,
        "department": dept,
        "department_code": dept,
        "node": u.node.code if u.node_id else None,
        "jurisdiction": u.jurisdiction.code if u.jurisdiction_id else None,
        "enterprise_id": u.enterprise_id,
        "enterprise_uscc": u.enterprise.uscc if u.enterprise_id else None,
    }
