"""Every Python and shell block of README.md runs, as a user would paste it, from an empty folder.

Shell blocks run their `aip` commands with a tiny budget appended (flags given last win), so the
commands, their flags and the files one command hands the next are checked, not the minutes.
"""

import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
# Tiny budgets per command, appended after the README's own flags.
TINY = {
    "distill": ["--epochs=1", "--patches_per_epoch=256", "--val_limit=256", "--eval_limit=500"],
    "tune": ["--max_trials=1", "--trial_epochs=1", "--trial_patches_per_epoch=128", "--val_limit=256",
             "--epochs=1", "--patches_per_epoch=256"],
    "train-teacher": ["--epochs=1", "--train_limit=512"],
    "evaluate": ["--eval_limit=500"],
}
SLOW_WORDS = ("tune", "--modality=video", "train-teacher")


def _blocks(kind):
    return [body for lang, body in BLOCK.findall(README.read_text()) if lang == kind]


def _commands(block):
    """The block's commands, continuation lines joined, comments and `pip install` lines dropped."""
    lines = block.replace("\\\n", " ").splitlines()
    commands = [shlex.split(line, comments=True) for line in lines]
    return [c for c in commands if c and c[:2] != ["pip", "install"]]


def test_every_block_is_tagged():
    """Untagged blocks would escape these tests: each is python, bash or text (an output transcript)."""
    assert sorted({lang for lang, _ in BLOCK.findall(README.read_text())} - {"python", "bash", "text"}) == []


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_block_runs_from_an_empty_folder(index, tmp_path):
    code = _blocks("python")[index]
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=900, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "student.keras").is_file() and "student_top1" in result.stdout


def _shell_cases():
    for index, block in enumerate(_blocks("bash")):
        slow = any(word in block for word in SLOW_WORDS)
        yield pytest.param(index, marks=[pytest.mark.slow] if slow else [], id=f"bash-{index}")


@pytest.mark.parametrize("index", _shell_cases())
def test_shell_block_runs_with_a_tiny_budget(index, tmp_path):
    aip = shutil.which("aip")
    assert aip, "the aip console script is not installed: pip install -e ."
    for command in _commands(_blocks("bash")[index]):
        assert command[0] == "aip", f"README shell blocks hold aip commands only, got {command}"
        extra = [] if "--help" in command else TINY.get(command[1], [])
        result = subprocess.run([aip, *command[1:], *extra], cwd=tmp_path, capture_output=True, text=True,
                                timeout=1200)
        assert result.returncode == 0, f"{shlex.join(command)}\n{result.stderr[-3000:]}"
