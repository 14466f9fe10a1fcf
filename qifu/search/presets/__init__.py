"""Q&A presets: the standard questions of a region's service items (qifu/search/presets/NAME.yaml).
`qifu preset load NAME` loads them after the region's catalog; loading twice changes nothing."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.db import transaction

PRESET_DIR = Path(__file__).resolve().parent


def exists(name: str | None) -> bool:
    return bool(name) and (PRESET_DIR / f"{name}.yaml").is_file()


def load(name: str) -> int:
    """Create or update the preset's questions (by item and question); returns how many there are."""
    from qifu.catalog.models import ServiceItem
    from qifu.search.models import QuestionAnswer

    raw = yaml.safe_load((PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8")) or {}
    rows = raw.get("questions") or []
    items = {i.code: i for i in ServiceItem.objects.filter(code__in={r["item"] for r in rows})}
    with transaction.atomic():
        for order, row in enumerate(rows):
            item = items.get(row["item"])
            if item is None:
                raise ValueError(f"{name}: no service item {row['item']!r}")
            values = {"answer": row["answer"], "source": row.get("source", ""), "sort_order": order}
            qa = QuestionAnswer.objects.filter(item=item, question=row["question"]).first()
            if qa is None:
                QuestionAnswer.objects.create(item=item, question=row["question"], **values)
            elif any(getattr(qa, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(qa, k, v)
                qa.save()
    return len(rows)
