"""Runs one build in its own process, so a test can SIGKILL it mid-way.

usage: python rt_build_script.py PLAN.json CACHE_DIR JOBS
"""

from __future__ import annotations

import sys
from pathlib import Path

from filmc.compiler.render_plan import RenderPlan
from filmc.runtime.cache import Cache
from filmc.runtime.executor import execute
from rt_toy_backend import ToyBackend

if __name__ == "__main__":
    plan_path, cache_dir, jobs = sys.argv[1:4]
    plan = RenderPlan.model_validate_json(Path(plan_path).read_text())
    result = execute(plan, ToyBackend(), Cache(cache_dir), jobs=int(jobs), memory_budget_mb=8000)
    sys.exit(result.exit_code)
