"""`aggregator evidence ...`: inspect and verify captured evidence."""

from __future__ import annotations

import typer

from aggregator.cli.common import DataDirOption, app, console, fail, load_settings

evidence_app = typer.Typer(help="Inspect and verify captured evidence.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("verify")
def evidence_verify(data_dir: DataDirOption = None) -> None:
    """Recompute every evidence file's SHA-256 and every link of the chain; report any break. The files are
    read from the configured store (the snapshots directory, or the S3 bucket of AGGREGATOR_EVIDENCE_STORE=s3)."""
    from aggregator.errors import AggregatorError
    from aggregator.evidence import verify_chain
    from aggregator.evidence_files import evidence_files
    from aggregator.store import Repository

    settings = load_settings(data_dir)
    repository = Repository.open(settings.resolved_database_url)
    try:
        checked, problems = verify_chain(repository, evidence_files(settings))
    except AggregatorError as error:  # the store cannot be read (bucket missing, access denied, unreachable)
        raise fail(f"cannot verify: {error.reason}", 2) from None
    for problem in problems:
        console.print(f"[red]entry {problem.seq}[/red] ({problem.evidence_id}): {problem.problem}", highlight=False)
    if problems:
        raise fail(f"{len(problems)} problem(s) in {checked} evidence entries", 1)
    console.print(f"[green]ok[/green]: {checked} evidence entries, files and chain intact")
