"""Demo service guides: three items of the qiantang catalog (loaded by the preset from seed 003 附件4/附件5) get a
guide with materials, so the item pages and the handbook show one. Fictional, in the style of a center's guides;
not legal advice. Idempotent: an item that already has a guide is left alone."""

from qifu.catalog.models import GuideMaterial, ServiceGuide, ServiceItem

# item code, guide fields, materials (name, requirements, copies, source, mandatory)
GUIDES = [
    ("qt-gx-138", {
        "handling_unit": "区市场监管局（企业开办专区）", "target": "在本区新设立登记的企业",
        "conditions": "已通过“浙里办”或现场完成企业设立登记，并选择申领首套免费公章。",
        "process": "1. 设立登记时勾选免费刻章；2. 刻章单位制章；3. 随营业执照一并领取或免费快递送达。",
        "time_limit": "即办（随营业执照发放）", "time_limit_days": None, "legal_basis": "区企业开办便利化措施（演示）",
        "fees": "不收费", "online_channel": "浙里办、浙江政务服务网", "offline_channel": "企业综合服务中心企业开办专区",
        "enquiry_phone": "0571-00001380", "faq": "问：公章包括哪几枚？答：公章、财务专用章、发票专用章、法定代表人名章。",
        "notes": "领取时请携带经办人身份证件。"},
     [("经办人身份证件", "原件", 1, "申请人自备", True), ("授权委托书", "加盖公章（非法定代表人办理时）", 1, "申请人自备", False)]),
    ("qt-gx-121", {
        "handling_unit": "区发展改革局", "target": "受到行政处罚、符合信用修复条件的企业",
        "conditions": "行政处罚决定已履行完毕，且已满最短公示期。",
        "process": "1. 在“信用杭州”提交修复申请；2. 区发展改革局审核；3. 审核通过后撤下公示信息。",
        "time_limit": "5个工作日", "time_limit_days": 5, "legal_basis": "《失信行为纠正后的信用信息修复管理办法（试行）》",
        "fees": "不收费", "online_channel": "信用杭州网站", "offline_channel": "企业综合服务中心政策服务窗口",
        "enquiry_phone": "0571-00001210", "faq": "问：修复后多久能查到结果？答：审核通过后一般3个工作日内更新。",
        "notes": ""},
     [("信用修复申请书", "加盖公章", 1, "申请人自备", True), ("履行行政处罚的证明材料", "复印件加盖公章", 1, "申请人自备", True),
      ("信用承诺书", "按模板填写", 1, "窗口领取", True)]),
    ("qt-yyg-067", {
        "handling_unit": "区市场监管局", "target": "拟申请药品、医疗器械生产许可的企业",
        "conditions": "已取得厂房使用权并完成生产车间建设。",
        "process": "1. 企业向驿站提交预审需求；2. 市场监管局预审资料、现场预查；3. 出具整改意见。",
        "time_limit": "10个工作日", "time_limit_days": 10, "legal_basis": "《药品生产监督管理办法》",
        "fees": "不收费", "online_channel": "", "offline_channel": "杭州医药港生物医药产业服务驿站",
        "enquiry_phone": "0571-00000670", "faq": "", "notes": "预审意见不代替正式许可。"},
     [("生产许可申请资料（草案）", "电子版", 1, "申请人自备", True), ("厂房平面布局图", "标明洁净区", 1, "申请人自备", True)]),
]


def load(region) -> int:
    made = 0
    for code, fields, materials in GUIDES:
        item = ServiceItem.objects.filter(region=region, code=code).first()
        if item is None or ServiceGuide.objects.filter(item=item).exists():
            continue
        guide = ServiceGuide.objects.create(item=item, **fields)
        for order, (name, requirements, copies, source, mandatory) in enumerate(materials):
            GuideMaterial.objects.create(guide=guide, name=name, requirements=requirements, copies=copies,
                                         source=source, mandatory=mandatory, sort_order=order)
        made += 1
    _listings(region)
    return made


def _listings(region) -> None:
    """Two listing forms (服务上架审批) by the demo unit: one awaiting review, one sent back with reasons."""
    import datetime

    from qifu.accounts.models import User
    from qifu.catalog import listing
    from qifu.catalog.models import Listing

    unit = User.objects.filter(username="handler", region=region, department__isnull=False).first()
    reviewer = User.objects.filter(username="dispatcher", region=region).first()
    if unit is None or reviewer is None or Listing.objects.filter(region=region).exists():
        return
    lead = region.departments.exclude(pk=unit.department_id).order_by("code").first() or unit.department
    common = {"provider_unit": unit.department, "provider_opinion": "经内部审核和上架前测试，同意上架。",
              "provider_head": "王主任（演示）", "provider_signed_on": datetime.date(2026, 12, 1), "lead_unit": lead,
              "lead_opinion": "同意。", "lead_head": "陈局长（演示）", "lead_signed_on": datetime.date(2026, 12, 2),
              "remarks": "", "internal_checked": True}
    listing.submit(unit, region, {**common, "name": "企业用工需求线上登记（演示）", "service_type": "talent",
                                  "description": "企业在线登记用工需求，人社部门对接推荐求职人员。",
                                  "online_channel": "https://example.invalid/jobs"})
    sent_back = listing.submit(unit, region, {**common, "name": "科技项目申报线上辅导（演示）",
                                              "service_type": "technology", "description": "项目申报辅导",
                                              "online_channel": "https://example.invalid/projects"})
    listing.review(reviewer, sent_back, approve=False, lawful=True, complete=False, accurate=True,
                   reasons="服务说明过于简略：请写明辅导对象、申报项目类别和办理方式。")
