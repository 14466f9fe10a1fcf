"""The seeds' intake channels (every one enters the same system); administrators add or retire more."""

DEFAULT_CHANNELS = [
    # code, Chinese label, records its own time of receipt
    ("walk_in", "前台现场受理", False),
    ("hotline", "营商热线", True),
    ("online", "线上平台（企服新干线）", False),
    ("enterprise_code", "企业码扫码", False),
    ("liaison_visit", "助企员走访", False),
    ("leader_visit", "领导走访调研", False),
    ("forum", "政企座谈会（早餐会、人才座谈会、恳谈会、直通车）", False),
    ("window", "“办不成事”反映窗口", False),
    ("representative_station", "代表联络站（人大、政协、商会）", False),
    ("work_order_12345", "12345 工单", True),
    ("bad_review", "差评件", True),
    ("station", "驿站受理", False),
    ("open311", "Open311 接口", True),
    ("other", "其他渠道", False),
]


def ensure_default_channels(channel_model=None) -> None:
    if channel_model is None:
        from .models import Channel as channel_model
    for order, (code, label, own_time) in enumerate(DEFAULT_CHANNELS, start=1):
        channel_model.objects.get_or_create(code=code, defaults={"label": label, "records_own_time": own_time,
                                                                  "sort_order": order})
