"""Demo knowledge base: a few knowledge entries written by the units (fictional answers in the style of a center's
FAQ; not legal advice), three solved appeals published as anonymized cases, and one promotion candidate."""

from qifu.accounts.models import User
from qifu.appeals.models import Appeal, Resolution, Status
from qifu.knowledge import services
from qifu.knowledge.models import CaseStudy, KnowledgeEntry
from qifu.org.models import Department, Section

# question, answer, legal basis, unit, section, keywords
ENTRIES = [
    ("新建厂房竣工后如何办理消防验收？",
     "建设单位在工程竣工后向区住建局申请消防验收（或备案抽查），通过浙江政务服务网“工程建设项目审批”提交申请表、"
     "工程竣工验收报告和消防设施检测报告等材料。材料齐全的，一般在受理后15个工作日内组织现场评定。可先到企服中心"
     "项目服务板块预约“验前指导”，由专员对照清单帮助自查。",
     "《建设工程消防设计审查验收管理暂行规定》", "qt-zjj", "qt-project", "消防验收 竣工 厂房 备案"),
    ("研发费用加计扣除在什么时候申报，哪些费用可以归集？",
     "企业可在10月份预缴申报时就前三季度研发费用享受加计扣除，也可在次年汇算清缴时统一享受。可归集的费用包括人员"
     "人工费用、直接投入费用、折旧费用、无形资产摊销、新产品设计费等和其他相关费用（其他相关费用有比例上限）。"
     "建议按项目设置研发支出辅助账，留存立项决议和工时记录备查。",
     "《关于进一步完善研发费用税前加计扣除政策的公告》", "qt-swuj", "qt-policy", "加计扣除 研发费用 预缴 汇算清缴"),
    ("新增生产线需要用电增容，怎么加快？",
     "先由企业向供电公司提交增容申请和用电负荷清单；企服中心项目服务板块可协调供电公司开展“预勘察”，外线工程涉及"
     "道路开挖的，由住建、交通部门并联审批。重点技改项目可申请纳入“电力保障清单”，由经信科技局牵头每周调度。",
     "", "qt-jxkj", "qt-project", "用电增容 变压器 报装 技改"),
    ("引进的高层次人才子女入学如何申请？",
     "经认定的高层次人才可在每年4月至5月通过人才服务板块提交子女入学申请，提供人才认定证书、户籍或居住证明、"
     "劳动合同和社保缴纳证明。由区委人才办会同教育局按人才层次统筹安排学位，结果在7月前告知。",
     "区高层次人才服务保障办法（演示）", "qt-rcb", "qt-talent", "人才 子女入学 学位 高层次人才"),
    ("企业招工难，可以申请哪些用工服务？",
     "区人社局每月举办线下专场招聘会，并可为企业开设线上“直播带岗”。用工缺口50人以上的企业可申请劳务协作对接，"
     "由人社局联系省外劳务合作基地。新招用就业困难人员的，可按规定申请社会保险补贴。",
     "《浙江省就业促进条例》", "qt-rsj", "qt-talent", "招工 招聘会 劳务 用工"),
    ("出口退税迟迟未到账，可以怎么处理？",
     "先通过电子税务局查询退税申报的审核进度和疑点；常见原因是报关数据与申报数据不一致、供货企业发票异常。疑点"
     "排除后一般在3个工作日内办结退库。确有资金困难的，可向开放服务板块申请“一对一”辅导，由税务局与海关协同核对"
     "数据。",
     "《出口货物劳务增值税和消费税管理办法》", "qt-swuj", "qt-opening", "出口退税 退库 外贸"),
    ("企业商标在海外被抢注怎么办？",
     "尽快固定在先使用的证据（销售合同、报关单、宣传资料），在异议期内提出异议或在规定期限内申请宣告无效。法治服务"
     "板块可对接知识产权维权援助中心和涉外律师，区市场监管局提供海外知识产权纠纷应对指导。",
     "《中华人民共和国商标法》", "qt-scjgj", "qt-legal", "商标 抢注 海外 维权 知识产权"),
    ("扩产需要中长期贷款，政府能提供哪些融资对接？",
     "金融服务板块每月组织银企对接会，可推荐合作银行的“技改贷”“科创贷”等中长期产品；符合条件的项目可申请区产业"
     "基金股权投资或贷款贴息。提交近两年财务报表和项目可研报告后，由财政局组织银行在5个工作日内上门对接。",
     "", "qt-czj", "qt-finance", "融资 贷款 银企对接 产业基金 贴息"),
]

# (problem titles the case is drawn from, legal basis)
CASES = [
    (("厂房消防验收咨询", "新厂房消防验收", "消防验收流程"), "《建设工程消防设计审查验收管理暂行规定》"),
    (("用电增容", "变压器扩容申请", "生产线用电报装"), ""),
    (("招工难", "一线工人短缺", "专场招聘会"), "《浙江省就业促进条例》"),
]
SOLUTIONS = {
    "qt-zjj": "住建局安排专人上门开展验前指导，对照消防验收清单帮助企业完成自查整改，材料齐全后当周组织现场评定，"
              "企业按期取得消防验收意见。",
    "qt-jxkj": "经信科技局协调供电公司预勘察，外线施工与道路开挖并联审批，增容工程提前两周完成，生产线按期投产。",
    "qt-rsj": "人社局为企业举办专场招聘会并对接省外劳务协作基地，两周内招到一线操作工40余名。",
}


def load(region) -> int:
    if KnowledgeEntry.objects.filter(region=region).exists():
        return KnowledgeEntry.objects.filter(region=region).count()
    admin = User.objects.get(username="admin")
    units = {d.code: d for d in Department.objects.filter(region=region)}
    sections = {s.code: s for s in Section.objects.filter(region=region)}
    entries = []
    for question, answer, basis, unit, section, keywords in ENTRIES:
        author = User.objects.filter(department=units[unit]).order_by("pk").first() or admin
        entries.append(services.save_entry(author, {
            "question": question, "answer": answer, "legal_basis": basis, "department": units[unit],
            "section": sections.get(section), "keywords": keywords}, publish=True))
    for titles, basis in CASES:
        appeal = (Appeal.objects.filter(region=region, status=Status.CLOSED, resolution=Resolution.SOLVED,
                                        title__in=titles, case_study__isnull=True)
                  .select_related("enterprise", "lead_department").order_by("-closed_at").first())
        if appeal is None:
            continue
        data = services.draft_from(appeal)
        data["legal_basis"] = basis
        reply = SOLUTIONS.get(appeal.lead_department.code if appeal.lead_department else "")
        if reply:
            data["solution"] = reply
        services.create_case(admin, appeal, data, publish=True)
    case = CaseStudy.objects.filter(region=region).order_by("pk").first()
    if case is not None:
        services.promote(admin, "同类诉求每月都有，建议整合验前指导、并联审批和现场评定，形成“厂房竣工验收”一类事。",
                         case=case)
    if entries:
        services.promote(User.objects.get(username="supervisor"),
                         "企业高频咨询，建议纳入增值服务清单，由金融服务板块常态化开展银企对接。", entry=entries[-1])
    return len(entries)
