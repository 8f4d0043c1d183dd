"""The ``deliberate`` command line.

The CLI is thin: each command parses its flags into the stage's config and calls a library
function. Heavy libraries (torch, transformers, datasets) are imported inside the commands that
need them, so commands that do not train start fast.

Exit codes: 0 done; 2 a usage or input error (one line naming the flag, file:line or field);
3 a stage stopped early because its requests all failed for one reason (``StageAborted``: a bad
API key, an unknown model, no server; one line naming the cause, endpoint and model);
130 interrupted. Every :class:`DeliberateError` is printed as ``error: <message>`` on one line.
"""

from __future__ import annotations

import importlib
import sys

import click

from deliberate import __version__
from deliberate.errors import DeliberateError

COMMANDS = {
    "sample": "sample:sample", "label": "data:label", "generate": "data:generate",
    "judge": "data:judge", "judge-validate": "data:judge_validate", "filter": "data:filter_command",
    "merge": "merge:merge",
    "sft": "train:sft", "rl": "train:rl",
    "eval": "evals:eval_command", "grade": "evals:grade_group", "jailbreak": "evals:jailbreak_group",
    "run": "pipeline:run", "init": "pipeline:init", "chat": "chat:chat", "demo": "demo:demo",
    "report": "report:report", "spec": "spec:spec_group",
}
"""Each command and where it is defined (``deliberate.cli.<module>:<name>``): a command's module
is imported only when that command runs (or ``--help`` lists them all), so ``deliberate sample``
does not pay for the training, evaluation and report commands' imports."""


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS and name not in self.commands:
            module, attr = COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(f"deliberate.cli.{module}"), attr), name)
        return super().get_command(ctx, name)


@click.group("deliberate", cls=LazyGroup, no_args_is_help=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="deliberate", message="%(prog)s %(version)s")
def cli() -> None:
    """Deliberative alignment: teach a reasoning model to recall and apply your safety spec."""


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run a command and turn every failure into an exit code."""
    raise_on_ctrl_c()
    try:
        result = cli.main(args=argv, prog_name="deliberate", standalone_mode=False)
    except DeliberateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        return 2
    except click.ClickException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return 2 if exc.exit_code in (1, 2) else exc.exit_code
    except SystemExit as exc:  # argparse (the training commands' --help-all) exits itself
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    except (click.Abort, KeyboardInterrupt):
        quiet_orphaned_tasks()
        print("interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    """Entry point that exits the process with :func:`main`'s code."""
    sys.exit(main())


def quiet_orphaned_tasks() -> None:
    """After Ctrl-C, keep asyncio from printing a traceback for the task it landed in.

    The interrupt is raised wherever the main thread is (:func:`raise_on_ctrl_c`); when that is
    inside an asyncio task's step, the task keeps the ``KeyboardInterrupt`` as its result, and
    when it is collected asyncio logs "Task exception was never retrieved" with a traceback,
    after our one-line "interrupted". The process is exiting with 130: nothing of asyncio's is
    worth printing from here on.
    """
    import logging

    logging.getLogger("asyncio").disabled = True


def raise_on_ctrl_c() -> None:
    """Ctrl-C raises ``KeyboardInterrupt`` wherever the main thread is, always.

    With Python's default handler in place, ``asyncio.run`` swaps in its own, which turns Ctrl-C
    into a cancellation of its main task; code that waits for cancelled work (closing a stream,
    gathering workers) can absorb that cancellation, and the stage then carries on as if nothing
    happened. A handler of our own keeps ``asyncio.run`` from installing its one.
    """
    import signal
    import threading

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, interrupt)
