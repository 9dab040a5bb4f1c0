"""The person at this terminal (aggregator.human_steps.Person), for the commands that sign in with someone
there: `aggregator signin` and `aggregator vault change-password`.

A one-time code is typed at a hidden prompt when standard input is a terminal, else read as one line of it
(a script, a pipe). It is read on a thread of its own (input blocks), which is left behind if the code's time
runs out: it never holds the process open. The code is never echoed or printed.
"""

from __future__ import annotations

import asyncio
import sys
import threading

import typer
from rich.console import Console

from aggregator.cli.common import console as stdout_console
from aggregator.cli.common import err_console
from aggregator.human_steps import Prompt


class TerminalPerson:
    """Answers the portal during a sign-in; `out` is where the prompts go (standard output by default; a
    command that keeps its output for results passes the error console)."""

    def __init__(self, out: Console = stdout_console) -> None:
        self.out = out

    async def code(self, prompt: Prompt) -> str | None:
        seconds = max(0, int(prompt.seconds_left()))
        self.out.print(f"{prompt.portal} asks for a code ({seconds} s to type it): {prompt.message}", highlight=False)
        loop = asyncio.get_running_loop()
        typed: asyncio.Future[str | None] = loop.create_future()

        def read() -> None:
            try:
                if sys.stdin.isatty():
                    text: str | None = typer.prompt("Code", hide_input=True, default="", show_default=False)
                else:
                    self.out.print("Code: ", end="", highlight=False)
                    line = sys.stdin.readline()
                    text = line if line else None  # end of input: nobody will type it
            except (EOFError, KeyboardInterrupt, typer.Abort):
                text = None
            try:
                loop.call_soon_threadsafe(deliver, text)
            except RuntimeError:  # the sign-in is over and its loop closed: nobody wants the code now
                pass

        def deliver(text: str | None) -> None:
            if not typed.done():  # not already timed out
                typed.set_result(text)

        threading.Thread(target=read, name="signin-code", daemon=True).start()
        try:
            answer = await asyncio.wait_for(typed, timeout=max(0.0, prompt.seconds_left()))
        except TimeoutError:
            self.out.print("\nThe code's time ran out.")
            return None
        return (answer.strip() or None) if answer is not None else None

    async def approve(self, prompt: Prompt) -> None:
        self.out.print(f"{prompt.portal}: {prompt.message}", highlight=False)
        self.out.print("Approve the sign-in request on your phone...")

    def done(self, error: str | None = None) -> None:
        if error:
            err_console.print(error, highlight=False)
