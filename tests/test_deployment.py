"""The GitHub Actions workflows parse and say what they must (they cannot run here).

.github/workflows/book.yml builds the full book and publishes it on GitHub Pages;
.github/workflows/colab.yml runs the notebooks in Colab's runtime image every week.
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(job: dict) -> list[str]:
    return [step.get("uses") or step.get("run", "") for step in job["steps"]]


@pytest.mark.parametrize("name", sorted(path.name for path in WORKFLOWS.glob("*.yml")))
def test_every_workflow_parses_and_every_job_has_steps(name):
    workflow = load(name)
    assert workflow["name"] and workflow["on"] and workflow["jobs"]
    for job in workflow["jobs"].values():
        assert job["runs-on"] and job["steps"]
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"{name}: a step needs uses or run: {step}"


def test_the_book_is_built_in_full_mode_and_published_on_pages():
    workflow = load("book.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    used = steps(build)
    python = next(step for step in build["steps"] if step.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11" and python["with"]["cache"] == "pip"
    make = next(step for step in build["steps"] if step.get("run") == "make book")
    assert make["env"]["GENLIB_MODE"] == "full"
    assert any("dataset-fashion-mnist" in step for step in used)
    upload = next(step for step in build["steps"]
                  if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"  # where `make book` writes the site
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert any(step.startswith("actions/deploy-pages") for step in steps(deploy))


def test_the_notebooks_run_weekly_in_colabs_runtime_in_quick_mode():
    workflow = load("colab.yml")
    assert workflow["on"]["schedule"][0]["cron"]
    job = workflow["jobs"]["notebooks"]
    assert job["env"]["IMAGE"].startswith("us-docker.pkg.dev/colab-images/public/runtime")
    script = "\n".join(steps(job))
    assert "GENLIB_MODE=quick" in script and "/notebooks/*.ipynb" in script
