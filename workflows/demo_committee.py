"""Demo committee review opinion (issue 19) for `manage.py load_demo`: the standing
committee's 审议意见 on the 2020 report (read to it in October 2021), split into three items
being worked through — the finance bureau's own accepted, the housing bureau's responded and
awaiting acceptance, the civil affairs bureau's still open. Everything goes through the real
services (processes.services.committee); loading twice records nothing twice."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Department, User
from processes.models import CommitteeOpinion
from processes.services.committee import committee_item_respond, committee_item_review, committee_opinion_record
from processes.states import OpinionItemStatus

from . import demo_evaluation

YEAR = demo_evaluation.YEAR
TITLE = "关于荔湾区2020年度财政支出绩效管理情况报告的审议意见"
SESSION = date(2021, 10, 28)
TEXT = (
    "区人大常委会第四十二次会议听取和审议了区财政局受区人民政府委托所作的《关于荔湾区2020年度财政支出"
    "绩效管理情况的报告》。常委会组成人员认为，我区预算绩效管理工作取得积极成效，同时指出：部分项目绩效"
    "目标设置不够细化，评价结果应用不够充分，个别项目资金使用效益不高。建议区人民政府及有关部门认真研究处理。"
)
#: (requirement, department key or None for the finance bureau, days to the deadline)
ITEMS = [
    ("完善绩效目标审核机制，细化量化项目绩效指标，提高目标设置质量。", None, 60),
    ("加快老旧小区微改造项目实施进度，落实重点评价发现问题的整改。", "zhujian", 45),
    ("优化居家养老服务补贴政策，重新核定补贴对象和标准。", "minzheng", 30),
]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def load(users: dict[str, User]) -> dict[str, int]:
    opinion = CommitteeOpinion.objects.filter(fiscal_year=YEAR, title=TITLE).first()
    if opinion is None:
        codes = _departments()
        today = timezone.localdate()
        opinion = committee_opinion_record(
            actor=users["finance1"],
            fiscal_year=YEAR,
            title=TITLE,
            text=TEXT,
            session_date=SESSION,
            items=[
                {
                    "requirement": requirement,
                    "department": codes[key].pk if key else None,
                    "deadline": (today + timedelta(days=days)).isoformat(),
                }
                for requirement, key, days in ITEMS
            ],
        )
        items = list(opinion.items.order_by("position"))
        # the finance bureau's own: answered with the revised rules, accepted
        bureau = committee_item_respond(
            item=items[0],
            actor=users["finance2"],
            response="已修订《项目支出绩效目标审核规程》，2022年度起执行，规程文本见附件。",
            files=[SimpleUploadedFile("绩效目标审核规程.pdf", PDF, content_type="application/pdf")],
        )
        committee_item_review(item=bureau, actor=users["finance1"], accept=True, comment="落实到位，同意销号。")
        # the housing bureau's: responded, awaiting the finance section
        committee_item_respond(
            item=items[1],
            actor=users["zhujian_staff"],
            response="已完成12个小区的微改造并通过验收，剩余3个小区计划年底前完工。",
            files=[SimpleUploadedFile("微改造进度表.pdf", PDF, content_type="application/pdf")],
        )
        # the civil affairs bureau's: still open
    rows = opinion.items.all()
    return {
        "items": rows.count(),
        "accepted": rows.filter(status=OpinionItemStatus.ACCEPTED).count(),
        "responded": rows.filter(status=OpinionItemStatus.RESPONDED).count(),
    }


def _departments() -> dict[str, Department]:
    from . import demo

    by_code = {d.code: d for d in Department.objects.filter(code__in=[d.code for d in demo.DEPARTMENTS])}
    return {d.key: by_code[d.code] for d in demo.DEPARTMENTS if d.code in by_code}
