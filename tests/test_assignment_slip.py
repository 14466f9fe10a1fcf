"""The assignment slip (交办单) as a Word download: the seed's form, filled from the appeal."""

import datetime
import io
from urllib.parse import quote

import docx
import pytest
from docx.oxml.ns import qn

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Channel

from .world import World

pytestmark = pytest.mark.django_db

# The seed's form (003, 附件 1): title "…工作专班交办单" and these labels.
SEED_LABELS = ["编号", "日期", "任务名称", "交办事项", "办理要求", "抄送", "联系人", "电话", "分管领导", "主要领导"]
TZ = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def world():
    ensure_default_channels()
    w = World()
    w.dispatcher = w.users[Role.DISPATCHER]
    w.dispatcher.display_name, w.dispatcher.phone = "张调度", "0571-86001234"
    w.dispatcher.save()
    return w


def register(world, **kwargs):
    appeal, _ = workflow.register(
        actor=world.users[Role.FRONT_DESK], enterprise=world.ent_east, channel=Channel.objects.get(code="walk_in"),
        title="厂房消防验收咨询", description="新厂房消防验收需要哪些材料？", category="single",
        received_at=datetime.datetime(2026, 11, 20, 10, 0, tzinfo=TZ), **kwargs)
    return appeal


@pytest.fixture
def assigned(world):
    appeal = register(world)
    return workflow.perform(appeal, "assign", world.dispatcher, lead_department="w-fgj",
                            assisting_departments=["w-rsj"], at=datetime.datetime(2026, 11, 20, 11, 0, tzinfo=TZ))


def url(appeal) -> str:
    return f"/appeals/{appeal.pk}/assignment-slip.docx"


def fields_of(document) -> dict[str, str]:
    [table] = document.tables
    assert len(table.columns) == 4
    fields = {}
    for row in table.rows:
        cells = row.cells
        if cells[1]._tc is cells[3]._tc:  # one value across three columns
            fields[cells[0].text] = cells[1].text
        else:
            fields[cells[0].text], fields[cells[2].text] = cells[1].text, cells[3].text
    return fields


def download(client, user, appeal):
    client.force_login(user)
    return client.get(url(appeal))


def test_the_dispatcher_downloads_a_filled_slip(client, world, assigned):
    r = download(client, world.dispatcher, assigned)
    assert r.status_code == 200
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    disposition = r["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(f'交办单-{assigned.number}.docx')}" in disposition
    document = docx.Document(io.BytesIO(r.content))
    assert document.paragraphs[0].text == "w区企业服务工作专班交办单"
    ent = world.ent_east
    assert fields_of(document) == {
        "编号": assigned.number,
        "日期": "2026年11月20日",
        "任务名称": "厂房消防验收咨询",
        "交办事项": f"东方演示科技有限公司（统一社会信用代码：{ent.uscc}）：新厂房消防验收需要哪些材料？",
        "办理要求": "请发改局牵头，人社局协办，于2026年11月25日前办结并反馈（单一部门问题，3个工作日）",
        "抄送": "人社局",
        "联系人": "张调度",
        "电话": "0571-86001234",
        "分管领导": "",
        "主要领导": "",
    }


def test_every_run_names_an_east_asian_font(client, world, assigned):
    document = docx.Document(io.BytesIO(download(client, world.dispatcher, assigned).content))
    runs = [run for p in document.paragraphs for run in p.runs]
    runs += [run for cell in document.tables[0]._cells for p in cell.paragraphs for run in p.runs]
    assert runs
    for run in runs:
        assert run._element.rPr.rFonts.get(qn("w:eastAsia")) == "SimSun"


def test_the_seeds_labels_are_all_there(client, world, assigned):
    document = docx.Document(io.BytesIO(download(client, world.dispatcher, assigned).content))
    assert document.paragraphs[0].text.endswith("工作专班交办单")
    assert set(SEED_LABELS) <= set(fields_of(document))


def test_the_latest_assignment_dates_the_slip(client, world, assigned):
    appeal = workflow.perform(assigned, "reassign", world.dispatcher, lead_department="w-rsj", reason="职责调整",
                              at=datetime.datetime(2026, 11, 21, 9, 0, tzinfo=TZ))
    fields = fields_of(docx.Document(io.BytesIO(download(client, world.dispatcher, appeal).content)))
    assert fields["日期"] == "2026年11月21日"
    # passing the ball made it a whistle case: 5 working days from the original acceptance
    assert fields["办理要求"] == "请人社局牵头，于2026年11月27日前办结并反馈（多部门吹哨问题，5个工作日）"
    assert fields["抄送"] == ""


def test_another_enterprise_gets_404(client, world, assigned):
    assert download(client, world.west_user, assigned).status_code == 404
    assert download(client, world.users[Role.ENTERPRISE], assigned).status_code == 200


def test_login_is_required(client, world, assigned):
    r = client.get(url(assigned))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_only_assigned_handled_or_closed_appeals_have_a_slip(client, world):
    appeal = register(world)
    assert download(client, world.dispatcher, appeal).status_code == 400
