"""The ``deliberate`` command line.

The CLI is thin: each command parses its flags and calls a library function. Heavy libraries
(torch, transformers, datasets) are imported inside the commands that need them, so commands that
do not train start fast. User errors (:class:`DeliberateError`) print one line and exit with 2.
"""

from __future__ import annotations

import sys

import typer

from deliberate import __version__
from deliberate.cli import chat, data, demo, evals, pipeline, train
from deliberate.cli import report as report_cli
from deliberate.cli import spec as spec_commands
from deliberate.cli.sample import sample as sample_command
from deliberate.errors import DeliberateError

app = typer.Typer(
    name="deliberate",
    help="Deliberative alignment: teach a reasoning model to recall and apply your safety spec.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(spec_commands.app, name="spec")
app.command("sample")(sample_command)
app.command("label")(data.label)
app.command("generate")(data.generate)
app.command("judge")(data.judge)
app.command("filter")(data.filter_command)
app.command("sft", **train.COMMAND_SETTINGS)(train.sft)
app.command("rl", **train.COMMAND_SETTINGS)(train.rl)
app.command("eval")(evals.eval_command)
app.add_typer(evals.grade_app, name="grade")
app.command("run")(pipeline.run)
app.command("init")(pipeline.init)
app.command("chat")(chat.chat)
app.command("demo")(demo.demo)
app.command("report")(report_cli.report)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"deliberate {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Deliberative alignment for open-weight models."""


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: runs the app and turns user errors into exit code 2."""
    try:
        app(args=argv, prog_name="deliberate", standalone_mode=False)
    except DeliberateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        return 130
    except _click_exception() as exc:
        exc.show()
        return exc.exit_code
    return 0


def _click_exception() -> type[Exception]:
    import click

    return click.ClickException


def run() -> None:
    """Entry point that exits the process with :func:`main`'s code."""
    sys.exit(main())
