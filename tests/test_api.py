"""The JSON API: token auth, the foundation endpoints, and scope enforcement."""

import pytest

from qifu.accounts.models import Role
from qifu.audit.models import AuditEntry
from qifu.enterprises.models import Enterprise

from .world import World, credit_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


def get(client, path, token, **params):
    return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")


def post(client, path, token, data):
    return client.post(path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_openapi_document_is_served(client):
    doc = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/me", "/api/v1/departments", "/api/v1/sections", "/api/v1/nodes",
                 "/api/v1/enterprises", "/api/v1/enterprises/{enterprise_id}"):
        assert path in doc["paths"]


def test_requests_without_a_valid_token_are_refused(client, world):
    assert client.get("/api/v1/me").status_code == 401
    assert get(client, "/api/v1/me", "qf_not-a-token").status_code == 401


def test_a_revoked_token_stops_working(client, world):
    from django.utils import timezone

    from qifu.accounts.models import ApiToken

    token = world.token(world.users[Role.ADMIN])
    ApiToken.objects.update(revoked_at=timezone.now())
    assert get(client, "/api/v1/me", token).status_code == 401


def test_me_tells_roles_department_and_enterprise(client, world):
    me = get(client, "/api/v1/me", world.token(world.users[Role.HANDLER])).json()
    assert me["username"] == "w-handler" and me["roles"] == ["handler"]
    assert me["department_code"] == "w-fgj" and me["enterprise_uscc"] is None
    me = get(client, "/api/v1/me", world.token(world.users[Role.ENTERPRISE])).json()
    assert me["enterprise_uscc"] == world.ent_east.uscc and me["roles"] == ["enterprise"]


def test_directory_endpoints_list_codes_and_names(client, world):
    token = world.token(world.users[Role.DISPATCHER])
    departments = get(client, "/api/v1/departments", token).json()["items"]
    assert {(d["code"], d["name"]) for d in departments} == {("w-fgj", "发改局"), ("w-rsj", "人社局")}
    sections = get(client, "/api/v1/sections", token).json()["items"]
    assert sections[0]["lead_department"] == "w-fgj"
    nodes = get(client, "/api/v1/nodes", token).json()["items"]
    assert {n["code"]: n["kind"] for n in nodes} == {"w-center": "center", "w-station": "station"}


def test_directory_of_another_region_is_not_visible(client, world):
    other = World("o")
    token = world.token(world.users[Role.DISPATCHER])
    codes = {d["code"] for d in get(client, "/api/v1/departments", token).json()["items"]}
    assert "o-fgj" not in codes
    assert other.dept.code not in codes


class TestEnterpriseScopes:
    def ids(self, client, world, user):
        items = get(client, "/api/v1/enterprises", world.token(user)).json()["items"]
        return {e["id"] for e in items}

    def test_an_enterprise_user_sees_only_its_own_enterprise(self, client, world):
        assert self.ids(client, world, world.users[Role.ENTERPRISE]) == {world.ent_east.id}

    def test_an_enterprise_user_gets_404_for_another_enterprise(self, client, world):
        token = world.token(world.users[Role.ENTERPRISE])
        assert get(client, f"/api/v1/enterprises/{world.ent_west.id}", token).status_code == 404
        own = get(client, f"/api/v1/enterprises/{world.ent_east.id}", token)
        assert own.status_code == 200 and own.json()["uscc"] == world.ent_east.uscc

    def test_a_supervisor_sees_only_their_jurisdiction(self, client, world):
        assert self.ids(client, world, world.users[Role.SUPERVISOR]) == {world.ent_west.id}

    def test_a_leader_of_the_district_sees_its_whole_subtree(self, client, world):
        assert self.ids(client, world, world.users[Role.LEADER]) == {world.ent_east.id, world.ent_west.id}

    def test_station_staff_see_their_node_area(self, client, world):
        assert self.ids(client, world, world.station_user) == {world.ent_east.id}

    def test_staff_never_see_another_regions_enterprises(self, client, world):
        other = World("o")
        seen = self.ids(client, world, world.users[Role.FRONT_DESK])
        assert other.ent_east.id not in seen and world.ent_east.id in seen

    def test_a_user_without_a_role_sees_nothing(self, client, world):
        from qifu.accounts.models import User

        nobody = User.objects.create_user("nobody", password="x", region=world.region)
        assert self.ids(client, world, nobody) == set()

    def test_the_administrator_sees_everything(self, client, world):
        other = World("o")
        seen = self.ids(client, world, world.users[Role.ADMIN])
        assert {world.ent_east.id, other.ent_west.id} <= seen


class TestCreateEnterprise:
    def test_front_desk_registers_an_enterprise(self, client, world):
        code = credit_code(777)
        r = post(client, "/api/v1/enterprises", world.token(world.users[Role.FRONT_DESK]), {
            "uscc": code.lower(), "name": "新登记演示有限公司", "jurisdiction": "w-east", "industry": "C3670",
            "size": "small", "registration_date": "2020-05-01", "tags": ["专精特新"],
        })
        assert r.status_code == 201, r.content
        body = r.json()
        assert body["uscc"] == code and body["id"] and body["tags"] == ["专精特新"]
        entry = AuditEntry.objects.filter(object_id=str(body["id"]), action="create", object_repr="新登记演示有限公司").get()
        assert entry.actor_username == "w-front_desk" and entry.source == "api"

    def test_a_bad_code_is_rejected_with_the_reason_and_nothing_is_saved(self, client, world):
        code = credit_code(778)
        bad = code[:-1] + ("0" if code[-1] != "0" else "1")
        before = Enterprise.objects.count()
        r = post(client, "/api/v1/enterprises", world.token(world.users[Role.FRONT_DESK]),
                 {"uscc": bad, "name": "坏代码演示有限公司"})
        assert r.status_code == 400
        assert "校验码（第 18 位）应为" in r.json()["detail"]
        assert Enterprise.objects.count() == before
        english = client.post("/api/v1/enterprises", {"uscc": bad, "name": "x"}, content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {world.token(world.users[Role.FRONT_DESK])}",
                              HTTP_ACCEPT_LANGUAGE="en")
        assert "The check character (character 18) should be" in english.json()["detail"]

    def test_a_duplicate_code_is_rejected(self, client, world):
        r = post(client, "/api/v1/enterprises", world.token(world.users[Role.FRONT_DESK]),
                 {"uscc": world.ent_east.uscc, "name": "重复"})
        assert r.status_code == 400 and "已登记" in r.json()["detail"]

    def test_an_enterprise_user_cannot_register_enterprises(self, client, world):
        r = post(client, "/api/v1/enterprises", world.token(world.users[Role.ENTERPRISE]),
                 {"uscc": credit_code(779), "name": "不该创建"})
        assert r.status_code == 403

    def test_an_unknown_jurisdiction_is_rejected(self, client, world):
        r = post(client, "/api/v1/enterprises", world.token(world.users[Role.FRONT_DESK]),
                 {"uscc": credit_code(780), "name": "辖区错误", "jurisdiction": "nowhere"})
        assert r.status_code == 400 and "jurisdiction" in r.json()["detail"]
