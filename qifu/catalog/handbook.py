"""The enterprise service handbook (企业服务手册): a Word document printed from the catalog, with a table of contents,
one chapter per section (items without a section under their first-level category), one entry per item with its
guide's elements (or, without a guide, the item's own columns).

For one node it holds the common items (共性清单: every node offers them, "four unified") and the node's own items
(个性清单). The document is an official Chinese text: its wording is Chinese whatever the interface language.

The table of contents is a Word field (TOC \\o "1-2" \\h \\z \\u) that Word fills in when the document is opened
(`w:updateFields`); until then it shows a line saying so.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.db.models import Q
from django.utils import timezone
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt

from qifu.appeals.documents import FONT

from .models import ServiceItem

OTHER = "其他服务"


def items_for(region, node=None):
    qs = (ServiceItem.objects.filter(region=region, listed=True)  # only approved services reach enterprises
          .select_related("section", "node", "guide").prefetch_related("guide__materials"))
    if node is not None:
        qs = qs.filter(Q(node__isnull=True) | Q(node=node))
    return qs


def chapters(items) -> list[tuple[str, list[ServiceItem]]]:
    """(chapter title, items): sections in their order, then first-level categories without a section."""
    by_key: dict[tuple, list] = {}
    for item in items:
        if item.section_id:
            key = (0, item.section.sort_order, item.section.code, item.section.name)
        else:
            key = (1, 0, item.category1 or OTHER, item.category1 or OTHER)
        by_key.setdefault(key, []).append(item)
    out = []
    for key in sorted(by_key):
        rows = sorted(by_key[key], key=lambda i: (i.node_id is not None, i.node.code if i.node_id else "", i.seq,
                                                  i.code))
        out.append((key[3], rows))
    return out


def _fonts(doc: Document) -> None:
    for name in ("Normal", "Heading 1", "Heading 2", "Title"):
        style = doc.styles[name]
        style.font.name = FONT
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    doc.styles["Normal"].font.size = Pt(11)


def _toc(doc: Document) -> None:
    """A TOC field Word updates on opening (settings: updateFields)."""
    paragraph = doc.add_paragraph()
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = 'TOC \\o "1-2" \\h \\z \\u'
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    placeholder = OxmlElement("w:t")
    placeholder.text = "（目录将在 Word 打开文档时更新；如未显示，请右键选择“更新域”。）"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, instr, separate, placeholder, end):
        run._r.append(element)
    settings = doc.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def _rows(item: ServiceItem) -> list[tuple[str, str]]:
    guide = getattr(item, "guide", None)
    side = f"{item.mark}{item.get_provider_side_display()}"
    if guide is None:
        return [("服务提供方", side), ("服务内容", item.content), ("服务流程", item.process),
                ("责任部门", item.units_text), ("服务对象", item.target_users), ("服务区域", item.area),
                ("线上办理", item.online_channel), ("线下办理", item.offline_channel), ("联系方式", item.contact)]
    return [("服务提供方", side), ("服务内容", item.content), ("实施主体", guide.handling_unit or item.units_text),
            ("服务对象", guide.target or item.target_users), ("办理条件", guide.conditions),
            ("办理流程", guide.process or item.process), ("办理时限", guide.time_limit),
            ("设定依据", guide.legal_basis), ("收费标准", guide.fees),
            ("线上办理", guide.online_channel or item.online_channel),
            ("线下办理", guide.offline_channel or item.offline_channel),
            ("咨询电话", guide.enquiry_phone or item.contact), ("常见问题", guide.faq), ("注意事项", guide.notes)]


def _x(text: str) -> str:
    return escape(text or "", {'"': "&quot;"})


def _para(text: str = "", style: str = "", label: str = "") -> str:
    """One paragraph as WordprocessingML (built as text and parsed once per document: python-docx's object API
    takes seconds for a region's few thousand paragraphs)."""
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    bold = f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{_x(label)}</w:t></w:r>' if label else ""
    return f'<w:p>{ppr}{bold}<w:r><w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p>'


def _table(rows: list[tuple[str, ...]]) -> str:
    width = len(rows[0])
    grid = "".join('<w:gridCol w:w="1800"/>' for _ in range(width))
    body = "".join("<w:tr>" + "".join(f'<w:tc><w:tcPr><w:tcW w:w="1800" w:type="dxa"/></w:tcPr>{_para(cell)}</w:tc>'
                                      for cell in row) + "</w:tr>" for row in rows)
    return (f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>{body}</w:tbl>")


def _materials(guide) -> list[str]:
    materials = list(guide.materials.all())
    if not materials:
        return []
    rows = [("材料名称", "要求", "份数", "来源", "是否必需")]
    rows += [(m.name, m.requirements, str(m.copies), m.source, "必需" if m.mandatory else "非必需") for m in materials]
    return [_para("申请材料：", label=""), _table(rows)]


def document(region, node=None) -> bytes:
    doc = Document()
    _fonts(doc)
    scope = node.name if node is not None else region.name
    title = doc.add_paragraph(style="Title")
    title.add_run(f"{scope}企业服务手册")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    items = list(items_for(region, node))
    note = doc.add_paragraph(f"共 {len(items)} 项服务事项（★ 政府侧　▲ 市场侧　● 社会侧）。"
                             f"编印日期：{timezone.localdate().isoformat()}")
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    contents = doc.add_paragraph()
    contents.add_run("目录").bold = True
    contents.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _toc(doc)
    doc.add_page_break()
    parts: list[str] = []
    for number, (chapter, rows) in enumerate(chapters(items), start=1):
        parts.append(_para(f"{_cn(number)}、{chapter}", style="Heading1"))
        for item in rows:
            where = f"（{item.node.name}）" if item.node_id and node is None else ""
            parts.append(_para(f"{item.name}{item.mark}{where}", style="Heading2"))
            parts += [_para(text, label=f"{label}：") for label, text in _rows(item) if text]
            guide = getattr(item, "guide", None)
            if guide is not None:
                parts += _materials(guide)
    body = parse_xml(f'<w:body {nsdecls("w")}>{"".join(parts)}</w:body>')
    anchor = doc.element.body.sectPr
    for element in list(body):
        anchor.addprevious(element)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
