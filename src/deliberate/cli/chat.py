"""``deliberate chat MODEL``: try a checkpoint by hand, reasoning shown dimmed above the answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from deliberate.cli.common import backend, backend_options, spec_option
from deliberate.cli.options import GroupedCommand

if TYPE_CHECKING:
    import asyncio


@click.command("chat", cls=GroupedCommand)
@click.argument("model")
@click.option("--spec-in-context", is_flag=True, help="Put the spec in the system prompt.")
@spec_option
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True,
              help="Most new tokens per reply.")
@click.option("--temperature", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
              help="Sampling temperature.")
@backend_options
def chat(model: str, spec_in_context: bool, spec_path: str, max_tokens: int, temperature: float,
         **kwargs: Any) -> None:
    """Interactive chat with MODEL (e.g. hf/runs/demo/sft or openai/NAME).

    Commands: /reset clears the history, /quit (or Ctrl+D) leaves.
    """
    options = backend(kwargs, {})

    import asyncio

    from rich.console import Console

    from deliberate.llm import ModelRequest, SamplingConfig, get_backend
    from deliberate.llm.types import ChatMessage
    from deliberate.spec import load_spec

    console = Console()
    system = [ChatMessage(role="system", content=load_spec(spec_path).render())] if spec_in_context else []
    client = get_backend(model, options)
    history: list[ChatMessage] = []
    config = SamplingConfig(temperature=temperature, max_tokens=max_tokens)
    console.print(f"[bold]{model}[/bold] — /reset, /quit")
    # One event loop for the whole session: a served model's HTTP client belongs to the loop it
    # was first used on, so a loop per turn broke every turn after the first.
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                text = console.input("[bold cyan]you>[/bold cyan] ").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if text in {"/quit", "/exit"}:
                break
            if text == "/reset":
                history.clear()
                continue
            if not text:
                continue
            turn = [*history, ChatMessage(role="user", content=text)]
            request = ModelRequest(id=f"turn{len(turn)}", messages=[*system, *turn], config=config)
            content = _reply(loop, client, request, console)
            if content is not None:
                history = [*turn, ChatMessage(role="assistant", content=content)]
    finally:
        try:
            loop.run_until_complete(client.aclose())
        finally:
            loop.close()


def _reply(loop: asyncio.AbstractEventLoop, client: Any, request: Any, console: Any) -> str | None:
    """Show one reply (reasoning dimmed); a backend error is one line, and the chat goes on."""
    try:
        with console.status("thinking..."):
            response = loop.run_until_complete(client.generate([request]))[0]
    except Exception as exc:  # noqa: BLE001 - any backend failure: say it, keep the session
        from deliberate.llm.errors import redact

        console.print(f"error: {redact(str(exc) or type(exc).__name__)}", style="red",
                      markup=False, highlight=False, soft_wrap=True)  # one line, however long
        return None
    if response.reasoning:
        console.print(response.reasoning, style="dim italic", markup=False, highlight=False)
    console.print(response.content, markup=False, highlight=False)
    return response.content
