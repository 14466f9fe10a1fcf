"""Per-region rules. Every number the seeds give lives here with the seed's value as default;
a region's preset (and its administrators) override any of them in `Region.config`."""

import copy

DEFAULTS: dict = {
    # Search (qifu.search): groups of words that mean the same — a search for one finds the others (synonyms and
    # abbreviations). A region's list replaces this one.
    "search_synonyms": [
        ["社保", "社会保险"], ["医保", "医疗保险"], ["公积金", "住房公积金"], ["营业执照", "执照"],
        ["个税", "个人所得税"], ["发票", "增值税发票", "专票"], ["知识产权", "专利", "商标"],
        ["高企", "高新技术企业"], ["人才公寓", "人才房"], ["招工", "招聘", "用工"], ["贷款", "融资"],
        ["公章", "印章", "刻章"], ["企业开办", "开办企业", "注册公司", "公司注册"], ["外贸", "进出口"],
        ["环评", "环境影响评价"], ["补贴", "补助"],
    ],
    # Working-day deadlines end at this local time on the last working day ("24:00" = end of day).
    "deadline_end_of_day": "24:00",
    "time_zone": "Asia/Shanghai",
    # Post changes are requested this many months ahead and approved by the center (seed 000 机制保障).
    "post_change_notice_months": 1,
    # A stint at a post lasts at least this many months (seed 000).
    "post_min_stint_months": 12,
    # The "135" limits in working days (seed 003 诉求办理), and the fallback lane's "3135" (seed 003 line 1647:
    # 现场办 1, 局长办 3, 研讨办 5 working days).
    "appeal_deadlines": {"simple": 1, "single": 3, "whistle": 5,
                         "fallback_on_spot": 1, "fallback_chief": 3, "fallback_deliberation": 5},
    # A case whose handling department is not yet clear is handled as a whistle case
    # (seed 003 问题录入注意事项: 不明确办理部门的按吹哨问题办理) until a dispatcher classifies it.
    "appeal_default_category": "whistle",
    # A single-department case that has passed through this many lead departments becomes whistle.
    "whistle_after_leads": 2,
    # When the enterprise is not satisfied the case goes back to handling with a fresh time limit.
    "reopen_resets_deadline": True,
    # A refused escalation is a second assignment (二次交办, seed 003 line 1301: 重新交办，指定主办部门及协办部门):
    # the units named get a fresh time limit of the case's class from the decision (False: the old deadline stays).
    "second_assignment_resets_deadline": True,
    # Supervision timers (督查督办, seed 003 lines 1341–1353), per class of case: when each fires, as a working day
    # counted from the deadline's own working day (0 = that day, 1 = the next working day, -1 = the one before) and a
    # local time; null = no such timer. A chase (催办: phone + online, to the lead unit) and an inspection (督查: a
    # task for the inspection group) fire only while the case is not handled; a warning (预警) comes before the
    # deadline. Qiantang: simple — chase before 09:00 of the next working day; single — chase 12:00 of the 3rd working
    # day, inspection on the 4th; whistle — chase 12:00 of the 5th, inspection on the 6th. The fallback lane's
    # "3135" classes follow the regular class of the same length.
    "supervision_timers": {
        "simple": {"warning": {"day": 0, "time": "09:00"}, "chase": {"day": 1, "time": "09:00"}, "inspection": None},
        "single": {"warning": {"day": -1, "time": "09:00"}, "chase": {"day": 0, "time": "12:00"},
                   "inspection": {"day": 1, "time": "09:00"}},
        "whistle": {"warning": {"day": -1, "time": "09:00"}, "chase": {"day": 0, "time": "12:00"},
                    "inspection": {"day": 1, "time": "09:00"}},
        "fallback_on_spot": {"warning": {"day": 0, "time": "09:00"}, "chase": {"day": 1, "time": "09:00"},
                             "inspection": None},
        "fallback_chief": {"warning": {"day": -1, "time": "09:00"}, "chase": {"day": 0, "time": "12:00"},
                           "inspection": {"day": 1, "time": "09:00"}},
        "fallback_deliberation": {"warning": {"day": -1, "time": "09:00"}, "chase": {"day": 0, "time": "12:00"},
                                  "inspection": {"day": 1, "time": "09:00"}},
    },
    # A supervision slip (督办单) asks the lead unit to answer within this many working days.
    "slip_reply_workdays": 2,
    # Listing approval (服务上架审批, seed 003 line 1693: 审核周期一般为 24 小时): the platform reviews a unit's listing form
    # within this many hours (calendar hours, rules.md T17).
    "listing_review_hours": 24,
    # Agency cases (全程代办, qifu.scenarios.cases): a checklist item's time limit in working days when neither the
    # scenario (seed 003 附件6/附件7 state none) nor the linked catalog item's guide gives one. The seeds give no number:
    # this system's default. Counted from when the case is opened (an item added later: from its addition).
    "agency_item_workdays": 5,
    # ... and the warning (预警) before each item's deadline: this working day relative to the deadline's day, at this
    # local time (the seeds give none: as the appeals' single-department warning, seed 003 lines 1341–1353).
    "agency_item_warning": {"day": -1, "time": "09:00"},
    # Service requests (服务申请, qifu.catalog.requests): a request for a catalog item is an appeal handled by the item's
    # responsible unit within the item's own time limit — its guide's time limit in working days when set, else this
    # rule by the kind of the item's section, else the appeal class's limit. Seed 003 line 821 (rules.md T11, T12):
    # the policy window's departments answer within 24 hours (one department) or 48 hours (joint handling); line 981
    # (T13): the opening-up section's departments answer a platform request within 2 working days. Each kind:
    # {"workdays": N} or {"single_hours": N, "joint_hours": M} (calendar hours).
    "service_request_limits": {"policy": {"single_hours": 24, "joint_hours": 48}, "opening": {"workdays": 2}},
    # Dynamic adjustment (seed 003 lines 679, 1816: 运行3个月或一定期限后 … 动态调整, rules.md T22): each list (the
    # common list, each node's list) is reviewed this many months after its last review (or its first item).
    "list_review_months": 3,
    # Dynamic adjustment: a listed item named by fewer than this many appeals in the last 365 days is shown for
    # review (the seeds give no number: this system's default).
    "listing_min_yearly_volume": 1,
    # No time of receipt (an appeal's received_at) is earlier than this date: older is a typing error.
    "received_at_earliest": "2000-01-01",
    # Prefix of appeal numbers (QT-20261121-0001); empty: the region code's first letters.
    "appeal_number_prefix": "",
    # Station response (seed 000): park staff on site within 10 minutes; hand-over within 30.
    "station_on_site_minutes": 10,
    "station_handover_minutes": 30,
    # Which station types the station response limits apply to (seed 000 line 34 names 园区 park stations; Qiantang's
    # six industry-platform stations are its parks). A visit registered at such a station has the two timers.
    "station_response_types": ["park", "industry_platform"],
    # First-contact ownership (首问负责制, seed 003 line 443; qifu.frontdesk): a front-desk visit still without an
    # outcome (or without an owner) this many calendar hours after registration is flagged. The seeds give no number:
    # this system's default.
    "desk_visit_open_hours": 24,
    # Tracking numbers of front-desk receipts (收件通知书): prefix + "-SJ-" + day + counter; empty: the region code's
    # first letters.
    "receipt_number_prefix": "",
    # Revisits (回访, seed 000 机制保障): after closure, this share of ordinary cases is called back (Huzhou, seed 001
    # §四: all — 1.0); the same case is always in or out of the sample (a hash of its number and the region code).
    "revisit_ratio": 0.2,
    # Difficult cases are all revisited (seed 000: 100%): whistle (or became whistle), escalated above level 1,
    # not satisfied at least once, the fallback lane. Remove a word to stop counting that kind as difficult.
    "revisit_difficult": ["whistle", "escalated", "dissatisfied", "fallback"],
    # Complaints are all revisited (seed 000: 100%): the cases that came in through these channels (差评件,
    # “办不成事”反映窗口).
    "revisit_complaint_channels": ["bad_review", "window"],
    # A revisit is due within this many working days of the closure.
    "revisit_due_workdays": 5,
    # A signed-in user idle this many minutes is signed out (等保 level 3); enterprise users may differ.
    "session_idle_minutes": {"staff": 30, "enterprise": 30},
    # The monthly ranking (每月晾晒, seed 003 line 1138: 每月对各部门、平台街道工业经济指标、企业诉求办理、助企纾困政策落地、
    # 走访服务企业、典型案例报送等相关指标进行晾晒比拼; deductions of the 督查考核机制, lines 1198–1202: 未履行首问责任制、
    # 超期未交办、逾期办理、企业不满意件、诉求协调率、解决率、处理不力被通报 — 对企业不满意件，所在平台、街道及承办单位进行
    # 同等扣分). The seeds give no points: the numbers below are this system's defaults (docs/appeals.md, "Monthly
    # ranking"). `groups`: units ranked among themselves, by Department kind. `manual_inputs`: figures the task force
    # enters per unit and month (a missing one counts as `default`, 0 unless given; null = unknown). `indicators`: each
    # a `value` (an expression over the unit's inputs) and a `score` (over `value`, `best` and `worst` — the group's
    # best and worst value by `direction` — and the inputs), clipped to [min, max]; `if_missing`: the score when the
    # value is unknown (e.g. a rate with no case); `groups`: the groups it applies to (all if absent).
    # `area_units`: jurisdiction code → the platform/street department code whose area it is (an enterprise's
    # 不满意件 costs that unit too); a jurisdiction not named goes to the platform/street of the same name or short
    # name, else to its parent's.
    "ranking": {
        "groups": [
            {"code": "departments", "name": "部门", "kinds": ["government"]},
            {"code": "areas", "name": "平台、街道", "kinds": ["platform", "street"]},
        ],
        "manual_inputs": [
            {"code": "industry", "name": "工业经济指标得分（百分制）", "default": None},
            {"code": "relief", "name": "助企纾困政策落地得分（百分制）", "default": None},
            {"code": "visits", "name": "走访服务企业数"},
            {"code": "cases", "name": "典型案例报送数（案例库以外）"},
            {"code": "late_assignments", "name": "超期未交办件数"},
            {"code": "notices", "name": "处理不力被通报次数"},
        ],
        "indicators": [
            {"code": "industry", "name": "工业经济指标", "value": "industry", "score": "value * 0.2", "max": 20,
             "groups": ["areas"]},
            {"code": "on_time", "name": "诉求按时办结率", "value": "round(on_time_rate * 100, 1)", "score": "value / 10",
             "max": 10, "if_missing": 10},
            {"code": "solved", "name": "诉求解决率", "value": "round(solved_rate * 100, 1)", "score": "value / 10",
             "max": 10, "if_missing": 10},
            {"code": "satisfaction", "name": "企业满意率", "value": "round(satisfaction_rate * 100, 1)",
             "score": "value / 10", "max": 10, "if_missing": 10},
            {"code": "relief", "name": "助企纾困政策落地", "value": "relief", "score": "value * 0.15", "max": 15},
            {"code": "visits", "name": "走访服务企业", "value": "visits", "score": "20 * value / best if best > 0 else 0",
             "max": 20},
            {"code": "cases", "name": "典型案例报送", "value": "cases + cases_published", "score": "5 * value",
             "max": 15},
            {"code": "late", "name": "逾期办理", "value": "handled_late + overdue_open", "score": "-1 * value",
             "min": -10, "max": 0, "direction": "lower"},
            {"code": "dissatisfied", "name": "企业不满意件", "value": "dissatisfied_charged", "score": "-2 * value",
             "min": -10, "max": 0, "direction": "lower"},
            {"code": "supervised", "name": "被督办通报", "value": "slips + notices", "score": "-1 * value",
             "min": -5, "max": 0, "direction": "lower"},
            {"code": "first_contact", "name": "首问及交办", "value": "first_contact_breaches + late_assignments",
             "score": "-1 * value", "min": -5, "max": 0, "direction": "lower"},
        ],
        "area_units": {},
    },
    # Appointments and queue numbers (预约办事 / 取号, qifu.bookings; issue 12 item 4). The seeds ask for appointments
    # (003 line 437: 推行预约服务; 004 line 13: 预约办事) and orderly queueing by number (003 line 553: 引导办事群众有序
    # 排队取号) but give NO numbers for any of these: every value below is this system's default, to be set by the
    # region. `hours`: the opening hours on a working day (local time, [start, end] pairs); `slot_minutes`: a slot's
    # length; `capacity`: places per slot; `bookable_days`: how many days ahead slots are generated and booked;
    # `reminder_minutes`: the reminder (SMS and inbox) goes this long before the slot's start; `no_show_grace_minutes`:
    # a booking neither checked in nor cancelled is marked no-show this long after the slot's end.
    "bookings": {"hours": [["09:00", "12:00"], ["13:30", "17:00"]], "slot_minutes": 30, "capacity": 2,
                 "bookable_days": 10, "reminder_minutes": 120, "no_show_grace_minutes": 30},
}


def merged(overrides: dict | None) -> dict:
    """DEFAULTS with `overrides` laid over them, nested dicts merged key by key."""
    result = copy.deepcopy(DEFAULTS)

    def lay(base: dict, over: dict) -> None:
        for key, value in over.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                lay(base[key], value)
            else:
                base[key] = copy.deepcopy(value)

    lay(result, overrides or {})
    return result


def merged_key(overrides: dict | None, key: str):
    """`merged(overrides)[key]`, computing only that key."""
    overrides = overrides or {}
    if key not in overrides:
        return _copy(DEFAULTS[key])
    if isinstance(DEFAULTS.get(key), dict) and isinstance(overrides[key], dict):
        return merged({key: overrides[key]})[key]
    return _copy(overrides[key])


def _copy(value):
    """A copy the caller may change; a number or a string is its own (read on every intake: no deepcopy)."""
    return value if value is None or isinstance(value, (str, int, float, bool)) else copy.deepcopy(value)
