"""Organization rules: jurisdiction trees, AB posts, rosters, post changes a month ahead, region rules."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from qifu.accounts.models import Role
from qifu.org.models import Jurisdiction, Post, PostChange, Region, RosterShift, add_months

from .world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


def test_a_subtree_is_found_by_path(world):
    assert set(world.district.subtree()) == {world.district, world.east, world.west}
    assert world.east.path == "/w-p/w-d/w-east/"


def test_moving_a_jurisdiction_moves_its_subtree(world):
    other = Jurisdiction.objects.create(region=world.region, code="w-d2", name="新区", level="district",
                                        parent=world.province)
    world.district.parent = other
    world.district.save()
    world.east.refresh_from_db()
    assert world.east.path == "/w-p/w-d2/w-d/w-east/"


def test_region_rules_default_to_the_seeds_and_can_be_overridden():
    r = Region.objects.create(code="r", name="R", config={"appeal_deadlines": {"whistle": 7}})
    assert r.rule("appeal_deadlines") == {"simple": 1, "single": 3, "whistle": 7, "fallback_on_spot": 1,
                                          "fallback_chief": 3, "fallback_deliberation": 5}
    assert r.rule("post_change_notice_months") == 1
    assert r.rule("deadline_end_of_day") == "24:00"


class TestPosts:
    def post(self, world, **kw):
        return Post.objects.create(region=world.region, node=world.center, code="w-desk", title="政策岗", **kw)

    def test_the_backup_must_be_someone_else(self, world):
        chief = world.users[Role.CHIEF_SPECIALIST]
        with pytest.raises(ValidationError, match="backup"):
            self.post(world, holder=chief, backup=chief).full_clean()

    def test_the_backup_serves_when_the_holder_is_away(self, world):
        a, b = world.users[Role.CHIEF_SPECIALIST], world.users[Role.SPECIALIST]
        post = self.post(world, holder=a, backup=b)
        assert post.has_backup
        assert post.on_duty() == a
        assert post.on_duty(absent={a.pk}) == b
        assert post.on_duty(absent={a.pk, b.pk}) is None

    def test_the_roster_tells_who_is_at_a_station_on_a_day(self, world):
        day = datetime.date(2026, 11, 24)
        RosterShift.objects.create(node=world.station, user=world.users[Role.SPECIALIST], date=day)
        assert [s.user for s in world.station.on_duty(day)] == [world.users[Role.SPECIALIST]]
        assert list(world.station.on_duty(day + datetime.timedelta(days=1))) == []


class TestPostChanges:
    def change(self, world, requested, effective):
        post = Post.objects.create(region=world.region, node=world.center, code="w-desk", title="政策岗",
                                   holder=world.users[Role.CHIEF_SPECIALIST])
        return PostChange(post=post, new_holder=world.users[Role.SPECIALIST], requested_by=world.users[Role.HANDLER],
                          requested_on=requested, effective_on=effective, reason="轮岗")

    def test_a_change_must_be_requested_a_month_ahead(self, world):
        change = self.change(world, datetime.date(2026, 11, 21), datetime.date(2026, 12, 20))
        with pytest.raises(ValidationError, match="2026-12-21"):
            change.full_clean()
        change.effective_on = datetime.date(2026, 12, 21)
        change.full_clean()

    def test_the_notice_period_is_region_configuration(self, world):
        world.region.config = {"post_change_notice_months": 2}
        world.region.save()
        change = self.change(world, datetime.date(2026, 11, 21), datetime.date(2026, 12, 21))
        with pytest.raises(ValidationError, match="2027-01-21"):
            change.full_clean()

    def test_the_center_approves_and_the_post_changes_hands_on_the_day(self, world):
        change = self.change(world, datetime.date(2026, 11, 1), datetime.date(2026, 12, 1))
        change.save()
        with pytest.raises(ValidationError):
            change.decide(world.users[Role.HANDLER], approve=True)
        change.decide(world.users[Role.ADMIN], approve=True)
        assert PostChange.apply_due(datetime.date(2026, 11, 30)) == 0
        assert PostChange.apply_due(datetime.date(2026, 12, 1)) == 1
        change.post.refresh_from_db()
        assert change.post.holder == world.users[Role.SPECIALIST]
        assert PostChange.apply_due(datetime.date(2026, 12, 2)) == 0

    def test_a_rejected_change_changes_nothing(self, world):
        change = self.change(world, datetime.date(2026, 11, 1), datetime.date(2026, 12, 1))
        change.save()
        change.decide(world.users[Role.ADMIN], approve=False)
        assert PostChange.apply_due(datetime.date(2027, 1, 1)) == 0
        with pytest.raises(ValidationError):
            change.decide(world.users[Role.ADMIN], approve=True)


class TestPostChangesTakeEffect:
    """Approved changes are handed over by a periodic job (qifu.jobs), not by someone remembering to."""

    def test_the_job_is_scheduled(self):
        from qifu import jobs

        job = jobs.periodic_jobs()["org.apply_post_changes"]
        assert job.seconds <= 24 * 3600

    def test_an_approved_change_due_today_is_applied_by_the_job_and_audited(self, world):
        from django.contrib.contenttypes.models import ContentType
        from django.utils import timezone

        from qifu import jobs
        from qifu.audit.models import AuditEntry

        today = timezone.localdate()
        a, b, c = world.users[Role.CHIEF_SPECIALIST], world.users[Role.SPECIALIST], world.users[Role.FRONT_DESK]
        post = Post.objects.create(region=world.region, node=world.center, code="w-desk", title="政策岗", holder=a)
        other = Post.objects.create(region=world.region, node=world.center, code="w-desk2", title="人才岗", holder=a)
        due = PostChange.objects.create(post=post, new_holder=b, requested_by=world.users[Role.HANDLER],
                                        requested_on=add_months(today, -1), effective_on=today, reason="轮岗")
        pending = PostChange.objects.create(post=other, new_holder=c, requested_by=world.users[Role.HANDLER],
                                            requested_on=add_months(today, -1), effective_on=today, reason="轮岗")
        later = PostChange.objects.create(post=other, new_holder=b, requested_by=world.users[Role.HANDLER],
                                          requested_on=today, effective_on=add_months(today, 1), reason="轮岗")
        due.decide(world.users[Role.ADMIN], approve=True)
        later.decide(world.users[Role.ADMIN], approve=True)
        assert pending.status == PostChange.Status.PENDING

        assert jobs.run_periodic_job("org.apply_post_changes") is True

        post.refresh_from_db()
        other.refresh_from_db()
        assert (post.holder, post.holder_since) == (b, today)
        assert (other.holder, other.holder_since) == (a, None)  # not approved / not due yet: unchanged
        entry = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Post), object_id=str(post.pk),
                                          action="update").latest("id")
        assert (entry.before["holder_id"], entry.after["holder_id"]) == (a.pk, b.pk)
        assert entry.after["holder_since"] == today.isoformat() and entry.source == "system"


@pytest.mark.parametrize("day,months,expected", [
    (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
    (datetime.date(2026, 12, 15), 1, datetime.date(2027, 1, 15)),
    (datetime.date(2027, 12, 31), 2, datetime.date(2028, 2, 29)),
])
def test_add_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_one_rule_reads_the_same_as_the_whole_configuration():
    r = Region(code="r2", name="R2", config={"appeal_deadlines": {"single": 4}, "revisit_ratio": 1.0, "extra": 7})
    for key in list(r.rules):
        assert r.rule(key) == r.rules[key], key
