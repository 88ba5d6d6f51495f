"""Write each flow's diagram (viewflow's own chart layout, as SVG) to docs/processes/.

`--check` exits non-zero when a committed diagram differs from what the flow declares, so
the docs' diagrams are generated, never drawn by hand.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from viewflow.workflow.chart import calc_layout_data, grid_to_svg

from config.env import BASE_DIR
from workflows.flows import (
    MonitoringFlow,
    PreAssessmentFlow,
    ProjectIntakeFlow,
    SelfEvaluationFlow,
    TargetReviewFlow,
)

DOCS = BASE_DIR / "docs" / "processes"
FLOWS = {
    "intake-flow.svg": ProjectIntakeFlow,
    "pre-assessment-flow.svg": PreAssessmentFlow,
    "target-review-flow.svg": TargetReviewFlow,
    "monitoring-flow.svg": MonitoringFlow,
    "self-evaluation-flow.svg": SelfEvaluationFlow,
}


def render(flow_class) -> str:
    with translation.override("zh-hans"):
        return grid_to_svg(calc_layout_data(flow_class)).strip() + "\n"


class Command(BaseCommand):
    help = "Generate the flows' SVG diagrams in docs/processes (or --check them)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if a committed diagram is out of date")
        parser.add_argument("--dir", type=Path, default=DOCS, help="where the diagrams live (default: %(default)s)")

    def handle(self, *args, **options):
        stale = []
        for name, flow_class in FLOWS.items():
            path = options["dir"] / name
            svg = render(flow_class)
            if options["check"]:
                if not path.exists() or path.read_text(encoding="utf-8") != svg:
                    stale.append(str(path))
            else:
                path.write_text(svg, encoding="utf-8")
                self.stdout.write(f"wrote {path}")
        if stale:
            raise CommandError("out of date (run manage.py flow_diagrams): " + ", ".join(stale))
