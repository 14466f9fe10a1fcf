"""Open311 GeoReport v2: the same appeal loop as the JSON API, seen through /open311/v2/ in JSON and XML,
scoped by api_key like everything else."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel
from qifu.lib import uscc as uscc_lib

from .world import World

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


@pytest.fixture
def world():
    ensure_default_channels()
    w = World()
    w.tokens = {role: w.token(user) for role, user in w.users.items()}
    w.tokens["west"] = w.token(w.west_user)
    return w


def file(client, world, who=Role.FRONT_DESK, fmt="json", headers=None, **fields):
    body = {"api_key": world.tokens[who], "service_code": "w-policy", "attribute[uscc]": world.ent_east.uscc,
            "attribute[category]": "single", "description": "新厂房消防验收需要哪些材料？请尽快告知办理流程和时限。",
            "first_name": "小明", "last_name": "王", "phone": "13800001234", **fields}
    return client.post(f"{BASE}/requests.{fmt}", body, **(headers or {}))


def get(client, world, path, who=Role.FRONT_DESK, **params):
    return client.get(f"{BASE}/{path}", {"api_key": world.tokens[who], **params})


def xml_requests(response) -> list[dict]:
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    return [{child.tag: child.text for child in request} for request in root.findall("request")]


def test_the_whole_loop_through_open311(client, world):
    r = file(client, world)
    assert r.status_code == 201, r.content
    [created] = r.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"} and created["account_id"] is None
    number = created["service_request_id"]
    appeal = Appeal.objects.get(number=number)
    assert appeal.channel.code == "open311" and appeal.section.code == "w-policy"
    assert appeal.contact_name == "王小明" and appeal.contact_phone == "13800001234"
    assert appeal.title == "新厂房消防验收需要哪些材料？请尽快告知办理流程和时限。"[:40]
    assert appeal.status == "accepted" and appeal.category == "single"
    assert list(appeal.events.values_list("action", flat=True)) == ["submit", "accept"]

    r = get(client, world, f"requests/{number}.json")
    assert r.status_code == 200
    [seen] = r.json()
    assert seen["service_request_id"] == number and seen["status"] == "open"
    assert seen["service_code"] == "w-policy" and seen["service_name"] == "政策服务板块"
    assert seen["agency_responsible"] is None
    assert datetime.datetime.fromisoformat(seen["expected_datetime"]) == appeal.due_at
    assert datetime.datetime.fromisoformat(seen["requested_datetime"]) == appeal.received_at.replace(microsecond=0)
    assert seen["expected_datetime"].endswith("+08:00")
    assert set(seen) >= {"status_notes", "description", "service_notice", "updated_datetime", "address",
                         "address_id", "zipcode", "lat", "long", "media_url"}
    assert b"13800001234" not in r.content and b"****1234" not in r.content

    users = world.users
    appeal = workflow.perform(appeal, "assign", users[Role.DISPATCHER], lead_department="w-fgj",
                              assisting_departments=["w-rsj"])
    [seen] = get(client, world, f"requests/{number}.json").json()
    assert seen["status"] == "open" and seen["agency_responsible"] == "发改局"
    appeal = workflow.perform(appeal, "reply", users[Role.HANDLER], resolution="solved", text="所需材料清单已发送。")
    appeal = workflow.perform(appeal, "mark_handled", users[Role.HANDLER])
    [seen] = xml_requests(get(client, world, f"requests/{number}.xml"))
    assert seen["status"] == "open" and seen["status_notes"] == "所需材料清单已发送。"
    appeal = workflow.perform(appeal, "confirm", users[Role.ENTERPRISE], solved=True, rating=5)

    r = get(client, world, f"requests/{number}.xml")
    assert r["Content-Type"].startswith("text/xml") and r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    [seen] = xml_requests(r)
    assert seen["service_request_id"] == number and seen["status"] == "closed"
    assert seen["agency_responsible"] == "发改局" and seen["status_notes"] == "所需材料清单已发送。"
    assert datetime.datetime.fromisoformat(seen["expected_datetime"]) == appeal.due_at
    last = appeal.events.order_by("-seq").first()
    assert datetime.datetime.fromisoformat(seen["updated_datetime"]) == last.at.replace(microsecond=0)
    assert seen["lat"] is None and "long" in seen
    # the enterprise itself follows its appeal with its own key
    [own] = get(client, world, f"requests/{number}.json", who=Role.ENTERPRISE).json()
    assert own["status"] == "closed"


def test_the_general_service_is_not_classified(client, world):
    r = file(client, world, service_code="general", description="x" * 60)
    appeal = Appeal.objects.get(number=r.json()[0]["service_request_id"])
    assert appeal.section is None and appeal.title == "x" * 40
    [seen] = get(client, world, f"requests/{appeal.number}").json()  # no extension: JSON
    assert seen["service_code"] == "general"


def test_an_enterprise_files_for_itself_and_waits_for_acceptance(client, world):
    r = file(client, world, who=Role.ENTERPRISE)
    assert r.status_code == 201, r.content
    appeal = Appeal.objects.get(number=r.json()[0]["service_request_id"])
    assert appeal.status == "submitted" and appeal.section.code == "w-policy"
    assert file(client, world, who=Role.ENTERPRISE, **{"attribute[uscc]": world.ent_west.uscc}).status_code == 403


def test_xml_post_answers_xml(client, world):
    r = file(client, world, fmt="xml")
    assert r.status_code == 201
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests"
    assert Appeal.objects.filter(number=root.find("request/service_request_id").text).exists()
    assert root.find("request/account_id").text is None


def test_post_works_for_api_clients_without_csrf(world):
    r = file(Client(enforce_csrf_checks=True), world)
    assert r.status_code == 201


def test_idempotency_key_returns_the_same_request(client, world):
    headers = {"HTTP_IDEMPOTENCY_KEY": "o311-1"}
    first = file(client, world, headers=headers)
    again = file(client, world, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Appeal.objects.filter(channel__code="open311").count() == 1


class TestErrors:
    def test_bad_or_missing_uscc_is_400_with_the_reason(self, client, world):
        bad = world.ent_east.uscc[:-1] + ("0" if world.ent_east.uscc[-1] != "0" else "1")
        r = file(client, world, **{"attribute[uscc]": bad})
        assert r.status_code == 400
        assert r.json() == [{"code": 400, "description": uscc_lib.problem(bad)}]
        r = file(client, world, **{"attribute[uscc]": ""})
        assert r.status_code == 400 and r.json()[0]["description"] == uscc_lib.problem("")
        r = file(client, world, fmt="xml", **{"attribute[uscc]": "123"})
        root = ET.fromstring(r.content)
        assert r.status_code == 400 and root.tag == "errors"
        assert root.find("error/code").text == "400" and root.find("error/description").text == uscc_lib.problem("123")
        assert not Appeal.objects.exists()

    def test_without_a_valid_key_403(self, client, world):
        number = file(client, world).json()[0]["service_request_id"]
        for path in ("requests.json", f"requests/{number}.json"):
            r = client.get(f"{BASE}/{path}")
            assert r.status_code == 403 and r.json()[0]["code"] == 403
            assert client.get(f"{BASE}/{path}", {"api_key": "qf_nonsense"}).status_code == 403
        r = client.get(f"{BASE}/requests/{number}.xml")
        assert r.status_code == 403 and ET.fromstring(r.content).find("error/code").text == "403"
        assert file(client, world, api_key="qf_nonsense").status_code == 403
        assert Appeal.objects.count() == 1

    def test_another_enterprises_request_does_not_exist(self, client, world):
        number = file(client, world).json()[0]["service_request_id"]
        r = get(client, world, f"requests/{number}.json", who="west")
        assert r.status_code == 404 and r.json()[0]["code"] == 404
        assert get(client, world, "requests.json", who="west").json() == []
        assert get(client, world, "requests.json", who="west", service_request_id=number).json() == []
        assert get(client, world, f"requests/{number}.json", who=Role.ENTERPRISE).status_code == 200

    def test_unknown_service_and_bad_input(self, client, world):
        assert file(client, world, service_code="nope").status_code == 404
        assert file(client, world, service_code="").status_code == 400
        assert file(client, world, **{"attribute[category]": "urgent"}).status_code == 400
        assert file(client, world, description="").status_code == 400
        assert get(client, world, "requests.json", status="pending").status_code == 400
        assert get(client, world, "requests.json", start_date="yesterday").status_code == 400
        assert client.get(f"{BASE}/services/nope.json").json()[0]["code"] == 404


class TestServices:
    def test_list_in_json(self, client, world):
        r = client.get(f"{BASE}/services.json", {"api_key": world.tokens[Role.FRONT_DESK]})
        services = {s["service_code"]: s for s in r.json()}
        assert set(services) == {"general", "w-policy"}
        policy = services["w-policy"]
        assert policy["service_name"] == "政策服务板块" and policy["group"] == "w区"
        assert policy["metadata"] is True and policy["type"] == "realtime" and "发改局" in policy["keywords"]
        assert services["general"]["metadata"] is True
        # without a key only the general service: the sections are a region's own
        assert [s["service_code"] for s in client.get(f"{BASE}/services.json").json()] == ["general"]

    def test_list_in_xml(self, client, world):
        r = client.get(f"{BASE}/services.xml", {"api_key": world.tokens[Role.FRONT_DESK]})
        root = ET.fromstring(r.content)
        assert root.tag == "services"
        services = {s.find("service_code").text: s for s in root.findall("service")}
        assert set(services) == {"general", "w-policy"}
        assert services["w-policy"].find("metadata").text == "true"
        assert services["w-policy"].find("type").text == "realtime"
        assert services["w-policy"].find("group").text == "w区"

    def test_definition_in_json(self, client, world):
        r = client.get(f"{BASE}/services/w-policy.json", {"api_key": world.tokens[Role.FRONT_DESK]})
        body = r.json()
        assert body["service_code"] == "w-policy"
        attributes = {a["code"]: a for a in body["attributes"]}
        uscc = attributes["uscc"]
        assert uscc["datatype"] == "string" and uscc["required"] is True and uscc["variable"] is True
        assert uscc["description"] == "统一社会信用代码"
        category = attributes["category"]
        assert category["datatype"] == "singlevaluelist" and category["required"] is False
        assert [v["key"] for v in category["values"]] == ["simple", "single", "whistle"]
        assert attributes["contact_name"]["required"] is False
        assert [a["order"] for a in body["attributes"]] == [1, 2, 3]

    def test_definition_in_xml(self, client, world):
        r = client.get(f"{BASE}/services/general.xml")
        root = ET.fromstring(r.content)
        assert root.tag == "service_definition" and root.find("service_code").text == "general"
        attributes = {a.find("code").text: a for a in root.findall("attributes/attribute")}
        assert attributes["uscc"].find("datatype").text == "string"
        assert attributes["uscc"].find("required").text == "true"
        assert attributes["uscc"].find("description").text == "统一社会信用代码"
        keys = [v.find("key").text for v in attributes["category"].findall("values/value")]
        assert keys == ["simple", "single", "whistle"]

    def test_a_section_of_another_region_is_not_a_service(self, client, world):
        other = World("v")
        key = world.token(other.users[Role.FRONT_DESK])
        assert client.get(f"{BASE}/services/w-policy.json", {"api_key": key}).status_code == 404
        codes = [s["service_code"] for s in client.get(f"{BASE}/services.json", {"api_key": key}).json()]
        assert codes == ["general", "v-policy"]


class TestFilters:
    @pytest.fixture
    def filed(self, world):
        desk = world.users[Role.FRONT_DESK]
        channel = Channel.objects.get(code="open311")
        now = timezone.now()

        def register(title, received_at, section=None):
            appeal, _ = workflow.register(actor=desk, enterprise=world.ent_east, channel=channel, title=title,
                                          description=title, received_at=received_at, category="simple")
            if section:
                appeal = workflow.perform(appeal, "classify", world.users[Role.DISPATCHER], section=section)
            return appeal

        appeals = {
            "policy": register("板块诉求", now - datetime.timedelta(days=2), section="w-policy"),
            "general": register("一般诉求", now - datetime.timedelta(days=1)),
            "old": register("旧诉求", now - datetime.timedelta(days=120)),
        }
        appeals["withdrawn"] = workflow.perform(register("撤回诉求", now - datetime.timedelta(hours=3)), "withdraw",
                                                desk, reason="企业已自行解决")
        return appeals

    def numbers(self, client, world, **params):
        return {r["service_request_id"] for r in get(client, world, "requests.json", **params).json()}

    def test_default_is_the_last_90_days(self, client, world, filed):
        assert self.numbers(client, world) == {filed[k].number for k in ("policy", "general", "withdrawn")}

    def test_service_code(self, client, world, filed):
        assert self.numbers(client, world, service_code="w-policy") == {filed["policy"].number}
        assert self.numbers(client, world, service_code="general") == {
            filed["general"].number, filed["withdrawn"].number}

    def test_status(self, client, world, filed):
        assert self.numbers(client, world, status="closed") == {filed["withdrawn"].number}
        assert self.numbers(client, world, status="open") == {filed["policy"].number, filed["general"].number}
        assert len(self.numbers(client, world, status="open,closed")) == 3
        [withdrawn] = get(client, world, f"requests/{filed['withdrawn'].number}.json").json()
        assert withdrawn["status"] == "closed" and withdrawn["status_notes"] == "企业已自行解决"

    def test_dates(self, client, world, filed):
        now = timezone.now()
        start = (now - datetime.timedelta(days=130)).isoformat()
        end = (now - datetime.timedelta(days=100)).isoformat()
        assert self.numbers(client, world, start_date=start, end_date=end) == {filed["old"].number}
        since = (now - datetime.timedelta(days=1, hours=1)).isoformat()
        assert self.numbers(client, world, start_date=since) == {filed["general"].number, filed["withdrawn"].number}
        # an unencoded "+" of the offset arrives as a space
        local = timezone.localtime(now - datetime.timedelta(hours=4)).isoformat(timespec="seconds")
        assert "+08:00" in local
        r = client.get(f"{BASE}/requests.json?api_key={world.tokens[Role.FRONT_DESK]}&start_date={local}")
        assert {x["service_request_id"] for x in r.json()} == {filed["withdrawn"].number}

    def test_service_request_ids_override_the_other_filters(self, client, world, filed):
        wanted = f"{filed['old'].number},{filed['policy'].number}"
        assert self.numbers(client, world, service_request_id=wanted, status="closed") == {
            filed["old"].number, filed["policy"].number}
