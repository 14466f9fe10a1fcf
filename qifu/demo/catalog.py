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
    return made
